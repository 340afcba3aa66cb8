"""Control API under ``/_emulator/``: scripts, faults, config, clock, reset, request log.

Bodies and answers are JSON. Errors answer ``{"error": "..."}`` with 400 or 404; these
endpoints are for tests, so they are not in Anthropic's shape on purpose.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any
from urllib.parse import parse_qs

import msgspec

from quipu.testing.emulator.asgi import (
    BodyTooLarge,
    Headers,
    Receive,
    Scope,
    Send,
    read_body,
    send_json,
)
from quipu.testing.emulator.config import patch_config
from quipu.testing.emulator.faults import FaultRule
from quipu.testing.emulator.scripts import ScriptRule
from quipu.testing.emulator.state import EmulatorState

__all__ = ["ClockUpdate", "FaultUpdate", "ScriptUpdate", "handle_control"]

PREFIX = "/_emulator"
_JSON: Headers = [(b"content-type", b"application/json")]


class ScriptUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /_emulator/script``."""

    rules: list[ScriptRule]
    replace: bool = False


class FaultUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /_emulator/faults``."""

    rules: list[FaultRule] = []
    replace: bool = False
    seed: int | None = None


class ClockUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /_emulator/clock``: move the prompt-cache clock forward."""

    advance_s: Annotated[float, msgspec.Meta(ge=0)]


class _ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _dispatch(state: EmulatorState, method: str, path: str, query: str, body: bytes) -> Any:
    route = (method, path)
    if route == ("GET", "/health"):
        return {
            "status": "ok",
            "instance": state.instance,
            "pid": os.getpid(),
            "uptime_s": time.monotonic() - state.started_at,
        }
    if route == ("POST", "/script"):
        script = msgspec.json.decode(body, type=ScriptUpdate)
        return {"rules": state.scripts.add(script.rules, replace=script.replace)}
    if route == ("GET", "/script"):
        return {"rules": state.scripts.snapshot()}
    if route == ("POST", "/faults"):
        faults = msgspec.json.decode(body or b"{}", type=FaultUpdate)
        return {"rules": state.faults.add(faults.rules, replace=faults.replace, seed=faults.seed)}
    if route == ("GET", "/faults"):
        return {"rules": state.faults.snapshot()}
    if route == ("POST", "/config"):
        changes = msgspec.json.decode(body or b"{}", type=dict[str, Any])
        state.set_config(patch_config(state.config, changes))
        return state.config
    if route == ("GET", "/config"):
        return state.config
    if route == ("POST", "/clock"):
        state.clock_offset += msgspec.json.decode(body, type=ClockUpdate).advance_s
        return {"clock_offset_s": state.clock_offset}
    if route == ("POST", "/reset"):
        state.reset()
        return {"status": "reset"}
    if route == ("GET", "/requests"):
        params = parse_qs(query)
        try:
            limit = int(params.get("limit", ["50"])[-1])
        except ValueError:
            raise _ControlError(400, "limit must be an integer") from None
        return state.log.view(limit)
    raise _ControlError(404, f"no control endpoint {method} {PREFIX}{path}")


async def handle_control(state: EmulatorState, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ``/_emulator/*`` request (never logged, never faulted)."""
    query = scope.get("query_string", b"").decode("latin-1")
    try:
        body = await read_body(receive, state.config.max_body_bytes)
    except BodyTooLarge:
        await send_json(send, 413, {"error": "body too large"}, _JSON)
        return
    if body is None:
        return
    try:
        answer = _dispatch(state, scope["method"], scope["path"][len(PREFIX) :], query, body)
    except _ControlError as error:
        await send_json(send, error.status, {"error": str(error)}, _JSON)
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as error:
        await send_json(send, 400, {"error": str(error)}, _JSON)
    else:
        await send_json(send, 200, answer, _JSON)
