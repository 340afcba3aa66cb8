"""The baseline: plain Litestar on the same Granian, none of quipu's middleware or plugins.

Two routes at quipu's paths, so the same Locust users and the same quick benchmarks drive
either server:

- ``GET /health``: builds and encodes a health answer like quipu's (same fields, values
  from memory), with no middleware, auth, metrics or dependency state;
- ``POST /api/ai/validate``: decodes the JSON body, then answers a pre-encoded validation
  result, which is the least a cached answer can cost (quipu's cached validation also
  authenticates, checks the company, hashes the request and looks up its L1).

Factory for Granian: ``granian --interface asgi --factory bare_app:create_app`` with
``perf/`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Litestar, Response, get, post

__all__ = ["CACHED_BODY", "create_app"]

STARTED = time.time()
#: What a cached validation answers, encoded once.
CACHED_BODY = msgspec.json.encode(
    {
        "confidence": 92.0,
        "warnings": ["Falta la forma de pago (FmaPago); si se omite el SII asume crédito (2)."],
        "errors": [],
        "recommendation": "send",
    }
)


class HealthResponse(msgspec.Struct, kw_only=True):
    status: str
    service: str
    version: str
    timestamp: str
    uptime_seconds: int
    plugins: list[str]
    dependencies: dict[str, dict[str, str]]
    degraded_reasons: list[str]
    health_check_duration_ms: float


_DEPENDENCIES = {"redis": {"status": "up"}, "llm": {"status": "up"}}
_PLUGINS = ["chat", "dte", "payroll", "previred"]


@get("/health")
async def health() -> HealthResponse:
    started = time.perf_counter()
    return HealthResponse(
        status="healthy",
        service="bare",
        version="0",
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        uptime_seconds=int(time.time() - STARTED),
        plugins=_PLUGINS,
        dependencies=_DEPENDENCIES,
        degraded_reasons=[],
        health_check_duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )


@post("/api/ai/validate", status_code=200)
async def validate(data: dict[str, Any]) -> Response[bytes]:
    return Response(CACHED_BODY, media_type="application/json")


def create_app() -> Litestar:
    """Plain Litestar serving the two baseline routes."""
    return Litestar(route_handlers=[health, validate], logging_config=None)
