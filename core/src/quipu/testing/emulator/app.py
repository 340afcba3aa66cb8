"""The emulator as a raw ASGI app (no framework: it must never be the bottleneck of a load test)."""

from __future__ import annotations

from quipu.testing.emulator.api import handle_api
from quipu.testing.emulator.asgi import Receive, Scope, Send, new_id, send_error
from quipu.testing.emulator.config import EmulatorConfig, config_from_env
from quipu.testing.emulator.control import PREFIX, handle_control
from quipu.testing.emulator.state import EmulatorState

__all__ = ["EmulatorApp", "app_from_env", "create_emulator_app"]


class EmulatorApp:
    """ASGI callable serving ``/v1/*`` (the emulated API) and ``/_emulator/*`` (control)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.state = EmulatorState(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith("/v1/"):
                await handle_api(self.state, scope, receive, send)
            elif path.startswith(PREFIX + "/"):
                await handle_control(self.state, scope, receive, send)
            else:
                await send_error(send, 404, "not_found_error", "Not Found", new_id("req_011"))
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        # websocket scopes are not served: returning closes them.

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_emulator_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    """Build the ASGI app; state (scripts, cache, log) lives in ``app.state``."""
    return EmulatorApp(config or EmulatorConfig())


def app_from_env() -> EmulatorApp:
    """Granian factory target: the config comes from ``QUIPU_EMULATOR_CONFIG``."""
    return create_emulator_app(config_from_env())
