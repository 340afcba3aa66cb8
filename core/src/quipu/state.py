"""The platform's runtime state, kept on ``app.state.quipu``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quipu.config import Settings
from quipu.health import HealthMonitor
from quipu.registry import Registry
from quipu.security import KeyRing

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection

__all__ = ["PlatformState", "platform_state"]

STATE_KEY = "quipu"


@dataclass
class PlatformState:
    """Shared services and what was loaded; one per app (per Granian worker)."""

    settings: Settings
    registry: Registry
    health: HealthMonitor
    keyring: KeyRing
    version: str
    started_at: float = field(default_factory=time.time)
    ready: bool = False
    redis: Any = None
    """The ``redis.asyncio.Redis`` client when ``REDIS_URL`` is set, else None."""
    services: dict[str, Any] = field(default_factory=dict)
    """Further shared services by name (cache, llm), set up by the lifespan."""


def platform_state(source: Litestar | ASGIConnection[Any, Any, Any, Any]) -> PlatformState:
    """The platform state of an app, or of the app serving a connection."""
    app = source if hasattr(source, "asgi_router") else source.app
    state: PlatformState = app.state[STATE_KEY]
    return state
