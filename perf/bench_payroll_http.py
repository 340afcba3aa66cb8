"""In-process benchmark of the payroll and previred routes through the whole quipu app.

Each request goes through the real ASGI app (auth middleware, request context, Litestar
decoding, the handler, the cache, msgspec encoding) called directly, without a socket, so
the numbers are the server's own cost per request. A bare Litestar route that decodes the
same body and answers a small JSON is the baseline. Redis is real (``REDIS_URL`` or a
throwaway server); there is no LLM key, so ``ai_review = "auto"`` never calls a model.

    .venv/bin/python perf/bench_payroll_http.py [--runs 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
from bench_payroll import _CLEAN, _ODOO  # the script's folder is on sys.path
from litestar import Litestar, post
from litestar.params import JSONBody

API_KEY = "bench-payroll-key-0123456789abcdef0123"
Call = Callable[[], Awaitable[tuple[int, bytes]]]


@post("/api/bench/echo", status_code=200)
async def bare_echo(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    """The baseline: decode the body, answer a small JSON."""
    return {"success": True, "keys": len(data)}


def asgi_call(
    app: Any, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> Call:
    """A coroutine factory that sends one HTTP request to ``app`` through ASGI."""
    raw_headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {API_KEY}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    path_only, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path_only,
        "raw_path": path_only.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8002),
    }

    async def call() -> tuple[int, bytes]:
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(dict(scope), receive, send)
        return status, b"".join(chunks)

    return call


async def timed(call: Call, runs: int) -> tuple[float, float, int]:
    for _ in range(100):
        status, _ = await call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        status, _ = await call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], status


def quipu_app(redis_url: str) -> Litestar:
    from quipu.app import create_app
    from quipu.config import load_settings
    from quipu_payroll import plugin as payroll
    from quipu_previred import plugin as previred

    path = Path(tempfile.mkdtemp(prefix="bench-payroll-")) / "platform.toml"
    path.write_text("[plugins.previred]\nfetch_urls = []\n")
    settings = load_settings(path, env={"API_KEY": API_KEY, "REDIS_URL": redis_url})
    return create_app(
        settings, plugins=[("payroll", payroll), ("previred", previred)], autoload=False
    )


async def run(runs: int, redis_url: str) -> None:
    import logging

    logging.disable(logging.WARNING)
    bare = Litestar(route_handlers=[bare_echo], logging_config=None)
    app = quipu_app(redis_url)
    example_a = msgspec.json.encode(_CLEAN["A oct-2025 Habitat Fonasa"])
    wrong_b = dict(_CLEAN["B mar-2026 Capital Isapre"])
    wrong_b["descuentos"] = {**wrong_b["descuentos"], "afp": 400183, "impuesto": 117913}
    cases: list[tuple[str, Call]] = [
        (
            "bare Litestar: decode + small JSON (baseline)",
            asgi_call(bare, "POST", "/api/bench/echo", example_a),
        ),
        (
            "validate, structured example A (clean)",
            asgi_call(app, "POST", "/api/payroll/validate", example_a),
        ),
        (
            "validate, structured B with 2 diagnosed errors",
            asgi_call(app, "POST", "/api/payroll/validate", msgspec.json.encode(wrong_b)),
        ),
        (
            "validate, Odoo payload (parse + map + check)",
            asgi_call(app, "POST", "/api/payroll/validate", msgspec.json.encode(_ODOO)),
        ),
        (
            "GET indicators 2025-07 (cache hit, L1)",
            asgi_call(app, "GET", "/api/payroll/indicators/2025-07"),
        ),
        (
            "GET indicators 2025-07 (Cache-Control: no-cache)",
            asgi_call(
                app, "GET", "/api/payroll/indicators/2025-07", headers={"cache-control": "no-cache"}
            ),
        ),
    ]
    print(f"in-process ASGI, {runs} requests per case (µs)")
    print(f"{'case':52} {'p50':>8} {'p99':>8} {'x bare':>7}  status")
    async with app.lifespan():
        results = []
        for name, call in cases:
            results.append((name, *(await timed(call, runs))))
        base = results[0][1]
        for name, p50, p99, status in results:
            print(f"{name:52} {p50:8.1f} {p99:8.1f} {p50 / base:7.2f}  {status}")


def main() -> None:
    """Start Redis if needed, run every case, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    runs = parser.parse_args().runs
    url = os.environ.get("REDIS_URL")
    if url:
        asyncio.run(run(runs, url))
        return
    from quipu.testing.redis_server import RedisServer

    with RedisServer() as server:
        asyncio.run(run(runs, server.url))


if __name__ == "__main__":
    main()
