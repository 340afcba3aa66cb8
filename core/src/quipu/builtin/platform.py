"""The built-in ``platform`` plugin: health, readiness, metrics and introspection.

It uses the same hooks as every other plugin, so what it serves shows up in
``/_platform/plugins`` and OpenAPI like the rest.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import msgspec
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from quipu.health import DependencyState
from quipu.hookspecs import hookimpl
from quipu.records import PluginInfo
from quipu.security.auth import EDGE, PUBLIC, requires_role
from quipu.state import PlatformState, platform_state

__all__ = ["register_routes"]


class HealthResponse(msgspec.Struct, kw_only=True):
    """``GET /health``; 200 whenever the service can serve, even degraded."""

    status: str
    service: str
    version: str
    timestamp: str
    uptime_seconds: int
    plugins: list[str]
    dependencies: dict[str, DependencyState]
    degraded_reasons: list[str]
    health_check_duration_ms: float


class ReadyResponse(msgspec.Struct, kw_only=True):
    """``GET /ready``."""

    status: Literal["ready", "not_ready"]
    error: str | None = None


class LiveResponse(msgspec.Struct, kw_only=True):
    """``GET /live``."""

    status: Literal["alive"]
    uptime_seconds: int


_encode = msgspec.json.Encoder().encode
_JSON = "application/json"


class _HealthBody:
    """The encoded ``/health`` answer, rebuilt when a second passes or a state changes.

    Load balancers and orchestrators ask for it all the time; its fields change at most
    once a second (timestamp, uptime) or when a dependency's state does.
    """

    __slots__ = ("body", "key")

    def __init__(self) -> None:
        self.key: tuple[Any, ...] = ()
        self.body = b""


def health_answer(state: PlatformState) -> tuple[int, bytes]:
    """``GET /health``: 200 with ``healthy`` or ``degraded`` (and why), always."""
    started = time.perf_counter()
    now = int(time.time())
    states = state.health.snapshot()
    # What the answer says, not when each state was read (a live state is read now).
    key = (now, tuple((n, s.status, s.detail, s.latency_ms) for n, s in states.items()))
    cached: _HealthBody | None = state.services.get("health.body")
    if cached is None:
        cached = state.services["health.body"] = _HealthBody()
    if cached.key != key:
        reasons = state.health.degraded_reasons()
        cached.body = _encode(
            HealthResponse(
                status="degraded" if reasons else "healthy",
                service="quipu",
                version=state.version,
                timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                uptime_seconds=int(now - state.started_at),
                plugins=[p.name for p in state.registry.plugins if not p.builtin],
                dependencies=states,
                degraded_reasons=reasons,
                health_check_duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
        )
        cached.key = key
    return 200, cached.body


def live_answer(state: PlatformState) -> tuple[int, bytes]:
    """``GET /live``: always 200 while the process answers."""
    uptime = int(time.time() - state.started_at)
    return 200, _encode(LiveResponse(status="alive", uptime_seconds=uptime))


_READY = _encode({"status": "ready"})
_NOT_READY = _encode(ReadyResponse(status="not_ready", error="starting up or shutting down"))


def ready_answer(state: PlatformState) -> tuple[int, bytes]:
    """``GET /ready``: 200 once start-up finished and until shut-down begins, else 503."""
    return (HTTP_200_OK, _READY) if state.ready else (HTTP_503_SERVICE_UNAVAILABLE, _NOT_READY)


def _probe(answer: Any, request: Request[Any, Any, Any]) -> Response[bytes]:
    status, body = answer(platform_state(request))
    return Response(body, status_code=status, media_type=_JSON)


# The platform layer answers these three itself (opt EDGE): probes cost nothing. The
# handlers below give the same answer through Litestar (and document it in OpenAPI).
@get(
    "/health",
    opt={PUBLIC: True, EDGE: health_answer},
    tags=["platform"],
    summary="Service health",
    responses={
        200: ResponseSpec(
            HealthResponse, description="healthy or degraded", generate_examples=False
        )
    },
)
async def health(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Answers 200 with ``healthy`` or ``degraded`` (and why) from the last background probe."""
    return _probe(health_answer, request)


@get(
    "/ready",
    opt={PUBLIC: True, EDGE: ready_answer},
    tags=["platform"],
    summary="Readiness",
    responses={
        200: ResponseSpec(ReadyResponse, description="ready", generate_examples=False),
        503: ResponseSpec(
            ReadyResponse, description="starting up or shutting down", generate_examples=False
        ),
    },
)
async def ready(request: Request[Any, Any, Any]) -> Response[bytes]:
    """200 once start-up finished and until shut-down begins, else 503."""
    return _probe(ready_answer, request)


@get(
    "/live",
    opt={PUBLIC: True, EDGE: live_answer},
    tags=["platform"],
    summary="Liveness",
    responses={200: ResponseSpec(LiveResponse, description="alive", generate_examples=False)},
)
async def live(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Always 200 while the process answers."""
    return _probe(live_answer, request)


@get(
    "/_platform/plugins",
    guards=[requires_role("admin")],
    tags=["platform"],
    summary="Loaded plugins (admin)",
)
async def plugins(request: Request[Any, Any, Any]) -> list[PluginInfo]:
    """Each plugin's name, distribution, version, hooks, routes, policies and prompts."""
    return list(platform_state(request).registry.plugins)


@get(
    "/metrics",
    guards=[requires_role("metrics")],
    tags=["platform"],
    summary="Prometheus metrics (metrics role)",
    media_type="text/plain",
)
async def metrics() -> Response[bytes]:
    """Prometheus text exposition of every quipu metric, summed over Granian workers."""
    from quipu.observability.multiprocess import fresh_exposition

    body, content_type = await fresh_exposition()
    return Response(body, media_type=content_type)


@hookimpl
def register_routes() -> list[Any]:
    """The platform's own routes."""
    from quipu.builtin.cache_routes import invalidate_cache
    from quipu.builtin.costs_routes import costs

    return [health, ready, live, plugins, metrics, costs, invalidate_cache]
