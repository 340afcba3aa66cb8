"""The built-in ``platform`` plugin: health, readiness, metrics and introspection.

It uses the same hooks as every other plugin, so what it serves shows up in
``/_platform/plugins`` and OpenAPI like the rest.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from quipu.health import DependencyState
from quipu.hookspecs import hookimpl
from quipu.records import PluginInfo
from quipu.security.auth import PUBLIC, requires_role
from quipu.state import platform_state

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


@get("/health", opt={PUBLIC: True}, tags=["platform"], summary="Service health")
async def health(request: Request[Any, Any, Any]) -> HealthResponse:
    """Answers 200 with ``healthy`` or ``degraded`` (and why) from the last background probe."""
    started = time.perf_counter()
    state = platform_state(request)
    reasons = state.health.degraded_reasons()
    return HealthResponse(
        status="degraded" if reasons else "healthy",
        service="quipu",
        version=state.version,
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        uptime_seconds=int(time.time() - state.started_at),
        plugins=[p.name for p in state.registry.plugins if not p.builtin],
        dependencies=state.health.snapshot(),
        degraded_reasons=reasons,
        health_check_duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )


@get("/ready", opt={PUBLIC: True}, tags=["platform"], summary="Readiness")
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    """200 once start-up finished and until shut-down begins, else 503."""
    if platform_state(request).ready:
        return Response({"status": "ready"}, status_code=HTTP_200_OK)
    return Response(
        {"status": "not_ready", "error": "starting up or shutting down"},
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
    )


@get("/live", opt={PUBLIC: True}, tags=["platform"], summary="Liveness")
async def live(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Always 200 while the process answers."""
    return {
        "status": "alive",
        "uptime_seconds": int(time.time() - platform_state(request).started_at),
    }


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
    from quipu.cache.routes import invalidate_cache
    from quipu.llm.routes import costs

    return [health, ready, live, plugins, metrics, costs, invalidate_cache]
