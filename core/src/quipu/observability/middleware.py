"""One ASGI middleware for what every response carries: request id, timings, metrics."""

from __future__ import annotations

import os
import re
import time
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import SpanKind

from quipu.observability import tracing
from quipu.observability.logs import REQUEST_ID_VAR
from quipu.observability.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS

__all__ = ["REQUEST_ID_HEADER", "RequestContextMiddleware", "add_timing"]

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: ``scope["state"]`` key holding ``Server-Timing`` entries added while handling.
TIMINGS = "quipu.timings"
REQUEST_ID = "quipu.request_id"
#: Metric children by (route, method, status): ``labels()`` per request costs microseconds.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def add_timing(scope: Scope | dict[str, Any], name: str, dur_ms: float, desc: str = "") -> None:
    """Add a ``Server-Timing`` entry (e.g. ``cache;dur=0.1;desc="l1 hit"``) to the response."""
    state = scope.setdefault("state", {})
    entry = f"{name};dur={dur_ms:.2f}" + (f';desc="{desc}"' if desc else "")
    state.setdefault(TIMINGS, []).append(entry)


class RequestContextMiddleware:
    """Adds ``X-Request-ID`` and ``Server-Timing`` to every response and records metrics.

    A request id sent by the client is kept when it is short and plain, so an ERP's own
    correlation id flows through; otherwise a new one is made.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        started = time.perf_counter()
        request_id = ""
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                candidate = value.decode("latin-1")
                if _SAFE_ID.match(candidate):
                    request_id = candidate
                break
        # 32 hex digits like uuid4().hex, at a quarter of the cost (this runs per request).
        request_id = request_id or os.urandom(16).hex()
        state = scope.setdefault("state", {})
        state[REQUEST_ID] = request_id
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                timing = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
                extra = state.get(TIMINGS)
                if extra:
                    timing = ", ".join([*extra, timing])
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"server-timing", timing.encode()))
                message["headers"] = headers
            await send(message)

        HTTP_IN_FLIGHT.inc()
        token = REQUEST_ID_VAR.set(request_id)
        try:
            if tracing.ENABLED:
                await self._traced(scope, receive, send_wrapper, method, request_id)
            else:
                await self.app(scope, receive, send_wrapper)
        finally:
            REQUEST_ID_VAR.reset(token)
            HTTP_IN_FLIGHT.dec()
            route = scope.get("path_template") or "<unmatched>"
            children = _CHILDREN.get((route, method, status))
            if children is None:  # bounded: route templates x methods x status codes
                children = _CHILDREN[route, method, status] = (
                    HTTP_REQUESTS.labels(route, method, str(status)),
                    HTTP_LATENCY.labels(route, method),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - started)

    async def _traced(
        self, scope: Scope, receive: Receive, send: Send, method: str, request_id: str
    ) -> None:
        with tracing.tracer().start_as_current_span(
            f"HTTP {method}",
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "quipu.request_id": request_id},
        ) as current:
            status = 500

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            finally:
                route = scope.get("path_template")
                if route:
                    current.update_name(f"{method} {route}")
                    current.set_attribute("http.route", route)
                current.set_attribute("http.response.status_code", status)
