"""Run the app under Granian, with the worker count from config."""

from __future__ import annotations

import os

from quipu.config import Settings
from quipu.observability import multiprocess

__all__ = ["default_workers", "serve"]


def default_workers() -> int:
    """One worker per available CPU core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def serve(settings: Settings) -> None:
    """Serve ``quipu.app:create_app`` on the configured host and port until stopped.

    Each Granian worker calls the factory itself, so every worker discovers the plugins
    and builds its own app from the same ``platform.toml`` and environment. With several
    workers, Prometheus metrics go to a fresh multiprocess directory (removed at exit), so
    ``/metrics`` reports the sum over workers (:mod:`quipu.observability.multiprocess`).
    """
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    if settings.source:
        # Workers re-read the same file, whatever their working directory.
        os.environ["QUIPU_CONFIG"] = os.path.abspath(settings.source)
    workers = settings.platform.workers or default_workers()
    cleanup = multiprocess.prepare(workers)
    try:
        Server(
            "quipu.app:create_app",
            address=settings.platform.host,
            port=settings.platform.port,
            interface=Interfaces.ASGI,
            workers=workers,
            loop=Loops.auto,
            factory=True,
            log_level=LogLevels.info,
            backlog=2048,
        ).serve()
    finally:
        if cleanup is not None:
            cleanup()
