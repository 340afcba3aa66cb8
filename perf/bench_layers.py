"""What each layer of quipu costs per request, measured inside one process (no HTTP server).

Calls the ASGI apps directly (no Granian, no sockets), so the numbers are the application's
own cost: the bare Litestar baseline (``perf/bare_app.py``) against quipu, for ``GET /health``
and a cached ``POST /api/ai/validate`` (identical body, every answer checked to be a
``Cache-Status`` hit). Then cProfile attributes quipu's time to its layers::

    .venv/bin/python perf/bench_layers.py [--requests 20000] [--profile] [--table]

``--table`` splits each quipu route's measured time over the layers a request crosses
(cProfile's own time per function, grouped by layer, scaled to the measured total).
Point ``PYTHONPATH`` at another checkout's ``core/src`` and ``plugins/*/src`` to get the
same table for older code (the layer groups name the functions of both).

Redis is a throwaway server (as in the tests) unless ``REDIS_URL`` is set; the Anthropic
emulator answers the one AI review that primes the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import API_KEY, PERF_CONFIG  # noqa: E402
from payloads import dte_cached_pool  # noqa: E402

Call = Callable[[], Awaitable[tuple[int, dict[bytes, bytes]]]]


def _caller(
    app: Any, method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> Call:
    """An ``async () -> (status, headers)`` that sends one request straight to ``app``."""

    async def call() -> tuple[int, dict[bytes, bytes]]:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        out: dict[str, Any] = {}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
                out["headers"] = dict(message.get("headers", ()))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), *headers],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8002),
        }
        await app(scope, receive, send)
        return out["status"], out["headers"]

    return call


async def _time(call: Call, n: int, check: Callable[[int, dict[bytes, bytes]], None]) -> float:
    """Median µs per request over 5 rounds of ``n // 5`` (each answer checked)."""
    rounds = []
    per = max(1, n // 5)
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(per):
            status, headers = await call()
            check(status, headers)
        rounds.append((time.perf_counter() - started) / per * 1e6)
    return statistics.median(rounds)


def _ok(status: int, headers: dict[bytes, bytes]) -> None:
    assert status == 200, status


def _hit(status: int, headers: dict[bytes, bytes]) -> None:
    assert status == 200, status
    cache_status = headers.get(b"cache-status", b"")
    assert b"hit" in cache_status, f"not a cache hit: {cache_status!r}"


async def _profile(
    call: Call, check: Callable[[int, dict[bytes, bytes]], None], n: int
) -> cProfile.Profile:
    """``n`` checked requests under cProfile."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        check(*await call())
    prof.disable()
    return prof


async def _measure(n: int, profile: bool, table: bool = False) -> dict[str, Any]:
    from bare_app import create_app as bare
    from quipu.app import create_app

    body = json.dumps(dte_cached_pool(1)[0]).encode()
    json_headers = [
        (b"authorization", f"Bearer {API_KEY}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    bare_app = bare()
    quipu_app = create_app()
    results: dict[str, Any] = {}
    async with quipu_app.lifespan():
        bare_health = _caller(bare_app, "GET", "/health", b"", [])
        bare_validate = _caller(bare_app, "POST", "/api/ai/validate", body, json_headers)
        health = _caller(quipu_app, "GET", "/health", b"", [])
        validate = _caller(quipu_app, "POST", "/api/ai/validate", body, json_headers)
        for _ in range(50):  # prime: the first answer computes, the rest are hits
            _, headers = await validate()
            if b"hit" in headers.get(b"cache-status", b""):
                break
            await asyncio.sleep(0.05)
        _hit(*await validate())
        for call, check in (
            (bare_health, _ok),
            (bare_validate, _ok),
            (health, _ok),
            (validate, _hit),
        ):
            await _time(call, n // 4, check)  # warm-up
        results["bare GET /health"] = await _time(bare_health, n, _ok)
        results["bare POST /api/ai/validate"] = await _time(bare_validate, n, _ok)
        results["quipu GET /health"] = await _time(health, n, _ok)
        results["quipu cached POST /api/ai/validate"] = await _time(validate, n, _hit)
        if profile:
            for label, call, check in (
                ("health", health, _ok),
                ("cached validation", validate, _hit),
            ):
                prof = await _profile(call, check, n // 4)
                out = io.StringIO()
                stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
                stats.print_stats(45)
                results[f"profile {label}"] = out.getvalue()
        if table:
            per_request = {
                "health": results["quipu GET /health"],
                "cached validation": results["quipu cached POST /api/ai/validate"],
            }
            for label, call, check in (
                ("health", health, _ok),
                ("cached validation", validate, _hit),
            ):
                prof = await _profile(call, check, n // 4)
                results[f"layers {label}"] = _layers(prof, n // 4, per_request[label])
    return results


#: Layer -> (file fragment, function names or "*") of the functions whose own time it is.
#: Names of the old middleware chain and of the one platform layer both appear.
LAYERS: dict[str, tuple[tuple[str, str], ...]] = {
    "request context, ids, timing": (
        ("quipu/observability/middleware.py", "*"),
        ("quipu/edge.py", "__call__"),
        ("quipu/edge.py", "send_wrapper"),
        ("quipu/edge.py", "__init__"),
        ("quipu/edge.py", "plan"),
        ("quipu/observability/logs.py", "*"),
    ),
    "metrics": (("prometheus_client", "*"), ("quipu/observability/metrics.py", "*")),
    "API key": (("quipu/security/auth.py", "*"), ("quipu/edge.py", "_authenticate")),
    "rate limit": (("quipu/security/ratelimit.py", "*"),),
    "body guard": (("quipu/security/body.py", "*"),),
    "dispatch and response cache (key, lookup, send)": (
        ("quipu/cache/responses.py", "*"),
        ("quipu/cache/serving.py", "*"),
        ("quipu/edge.py", "_cached"),
        ("quipu/edge.py", "_key"),
        ("quipu/edge.py", "_read_body"),
        ("quipu/edge.py", "_send_stored"),
        ("quipu/edge.py", "_handle"),
        ("quipu_dte/responses.py", "*"),
        ("quipu_dte/clock.py", "*"),
    ),
    "DTE parse": (("quipu_dte/parse", "*"), ("quipu_dte/model.py", "*"), ("lxml", "*")),
    "DTE rules": (("quipu_dte/rules", "*"), ("quipu_dte/rut.py", "*"), ("quipu_dte/money.py", "*")),
    "review key, review cache, merge": (
        ("quipu_dte/service.py", "*"),
        ("quipu_dte/review.py", "*"),
        ("quipu_dte/routes.py", "*"),
        ("quipu/cache/", "*"),
        ("quipu/llm/", "*"),
    ),
    "health handler": (("quipu/builtin/platform.py", "*"), ("quipu/health.py", "*")),
}


def _layer_of(filename: str, function: str) -> str:
    for layer, patterns in LAYERS.items():
        for fragment, name in patterns:
            if fragment in filename and name in ("*", function):
                return layer
    if "perf/bench_layers.py" in filename:
        return "(the benchmark's own client)"
    return "Litestar, msgspec, asyncio (as in the bare app)"


def _layers(prof: cProfile.Profile, calls: int, measured_us: float) -> dict[str, float]:
    """µs per request per layer: own time by layer, scaled so the layers sum to measured."""
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    for (filename, _, function), (_, _, tottime, _, _) in stats.items():
        layer = _layer_of(filename, function)
        own[layer] = own.get(layer, 0.0) + tottime
    own.pop("(the benchmark's own client)", None)
    total = sum(own.values()) or 1.0
    return {layer: seconds / total * measured_us for layer, seconds in own.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--profile", action="store_true", help="print where quipu's time goes")
    parser.add_argument("--table", action="store_true", help="µs per request of each layer")
    args = parser.parse_args(argv)
    os.environ.setdefault("API_KEY", API_KEY)
    os.environ.setdefault("QUIPU_CONFIG", str(PERF_CONFIG))  # rate limits sized for perf
    from quipu.testing.emulator import EmulatorConfig, EmulatorProcess
    from quipu.testing.redis_server import RedisServer

    server = None
    if not os.environ.get("REDIS_URL"):
        server = RedisServer()
        server.start()
        os.environ["REDIS_URL"] = server.url
    emulator = EmulatorProcess(EmulatorConfig())
    emulator.start()
    os.environ["ANTHROPIC_API_KEY"] = "perf-emulator"
    os.environ["ANTHROPIC_BASE_URL"] = emulator.url
    try:
        results = asyncio.run(_measure(args.requests, args.profile, args.table))
    finally:
        emulator.stop()
        if server is not None:
            server.__exit__(None, None, None)
    print(f"{'in-process, µs per request (median of 5 rounds)':<44} {'µs':>8}")
    for label, value in results.items():
        if not label.startswith(("profile", "layers")):
            print(f"{label:<44} {value:>8.1f}")
    for label, value in results.items():
        if label.startswith("layers"):
            print(f"\n{label} (µs per request)")
            for layer, us in sorted(value.items(), key=lambda kv: -kv[1]):
                print(f"  {layer:<48} {us:>8.1f}")
    for label, value in results.items():
        if label.startswith("profile"):
            print(f"\n== {label}\n{value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
