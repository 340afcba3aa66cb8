"""The ``/v1`` surface: logging, auth, version check, routing, and the models endpoints."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, unquote

from quipu.testing.emulator.asgi import (
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    base_headers,
    new_id,
    read_body,
    send_error,
    send_json,
)
from quipu.testing.emulator.messages import CLIENT_CLOSED, Call, count_tokens, create_message
from quipu.testing.emulator.models import ModelSpec
from quipu.testing.emulator.protocol import ModelInfo, ModelList
from quipu.testing.emulator.state import EmulatorState
from quipu.testing.emulator.validation import ApiError, authenticate, check_version, invalid

__all__ = ["handle_api", "header_dict"]

_MODELS_PREFIX = "/v1/models/"


def header_dict(scope: Scope) -> dict[str, str]:
    """Request headers as a dict with lower-case names (later duplicates win)."""
    return {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }


def _model_info(spec: ModelSpec) -> ModelInfo:
    return ModelInfo(
        id=spec.id,
        display_name=spec.display_name,
        created_at=spec.created_at,
        lifecycle=spec.lifecycle,
        max_input_tokens=spec.max_input_tokens,
        max_tokens=spec.max_tokens,
    )


def _list_models(state: EmulatorState, query: str) -> ModelList:
    params = {key: values[-1] for key, values in parse_qs(query).items()}
    try:
        limit = int(params.get("limit", "20"))
    except ValueError:
        raise invalid("limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise invalid("limit: Input should be between 1 and 1000")
    specs = list(state.config.models)
    ids = [spec.id for spec in specs]
    if "after_id" in params and params["after_id"] in ids:
        specs = specs[ids.index(params["after_id"]) + 1 :]
        page = specs[:limit]
        has_more = len(specs) > limit
    elif "before_id" in params and params["before_id"] in ids:
        specs = specs[: ids.index(params["before_id"])]
        page = specs[-limit:]
        has_more = len(specs) > limit
    else:
        page = specs[:limit]
        has_more = len(specs) > limit
    return ModelList(
        [_model_info(spec) for spec in page],
        has_more,
        page[0].id if page else None,
        page[-1].id if page else None,
    )


async def _route(call: Call, method: str, path: str, query: str) -> int:
    state = call.state
    if method == "POST" and path == "/v1/messages":
        return await create_message(call)
    if method == "POST" and path == "/v1/messages/count_tokens":
        return await count_tokens(call)
    if method == "GET" and path == "/v1/models":
        await send_json(call.send, 200, _list_models(state, query), base_headers(call.request_id))
        call.record.outcome = "completed"
        return 200
    if method == "GET" and path.startswith(_MODELS_PREFIX):
        model = unquote(path[len(_MODELS_PREFIX) :])
        spec = state.models.get(model)
        if spec is None:
            raise ApiError(404, "not_found_error", f"model: {model}")
        await send_json(call.send, 200, _model_info(spec), base_headers(call.request_id))
        call.record.outcome = "completed"
        return 200
    raise ApiError(404, "not_found_error", "Not Found")


async def handle_api(state: EmulatorState, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ``/v1`` request and keep its record in the request log."""
    started = time.perf_counter()
    headers = header_dict(scope)
    method: str = scope["method"]
    path: str = scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    record = state.log.new(method, path, query, headers)
    request_id = new_id("req_011")
    try:
        try:
            body = await read_body(receive, state.config.max_body_bytes)
        except BodyTooLarge:
            raise ApiError(413, "request_too_large", "Request exceeds the maximum size") from None
        if body is None:
            record.outcome, record.status = "cancelled", CLIENT_CLOSED
            return
        record.body = body  # decoded lazily by the log view: keeps the hot path cheap
        api_key = authenticate(state.config, headers)
        version = check_version(headers)
        call = Call(state, receive, send, headers, body, api_key, version, request_id, record)
        record.status = await _route(call, method, path, query)
    except ApiError as error:
        record.status, record.outcome = error.status, "error"
        await send_error(
            send, error.status, error.error_type, error.message, request_id, details=error.details
        )
    finally:
        record.duration_ms = (time.perf_counter() - started) * 1000
