"""Run the emulator under Granian (ASGI, one worker)."""

from __future__ import annotations

import os

from quipu.testing.emulator.config import CONFIG_ENV_VAR, EmulatorConfig, config_to_env

__all__ = ["APP_FACTORY", "serve"]

APP_FACTORY = "quipu.testing.emulator.app:app_from_env"
"""Granian needs an import string; the factory reads the config from the environment."""


def serve(host: str, port: int, config: EmulatorConfig, *, log_level: str = "warning") -> None:
    """Serve until SIGINT/SIGTERM.

    One worker on purpose: scripts, faults, the prompt cache and the request log are
    in-process state that every request must see.
    """
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    # The worker process inherits the environment, which is how the config reaches it.
    os.environ[CONFIG_ENV_VAR] = config_to_env(config)
    server = Granian(
        APP_FACTORY,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        log_level=LogLevels(log_level),
        # Hanging requests (the `timeout` fault) must not hold shutdown for minutes.
        workers_kill_timeout=3,
    )
    server.serve()
