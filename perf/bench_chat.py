"""Time quipu adds to the first byte of a streamed chat answer, over the model's own first token.

Starts a throwaway Redis, the Anthropic emulator (``--ttft-ms``, default 300 ms, before the
first token) and ``quipu serve`` (one Granian worker, only the chat plugin), then measures:

- ``model``: ``POST /v1/messages`` with ``stream: true`` straight to the emulator, time to
  the first ``text_delta``: the model's own time to first token, as a client next to it
  sees it;
- ``quipu``: ``POST /api/chat/message/stream`` (a new session and a different question each
  time, so neither the response cache nor a session history helps), time to the response
  headers, to the first body byte and to the first ``{"type":"text"}`` event.

The overhead is ``median(quipu first text) - median(model first token)``: authentication,
the session in Redis, skill routing, the BM25 search, prompt assembly, the SDK call and the
SSE framing. Requests run one at a time (``--concurrency`` for more) after a warm-up.

Run: ``.venv/bin/python perf/bench_chat.py [--requests 50] [--ttft-ms 300] [--concurrency 1]``.
Target: the overhead well under the 1 s first-byte budget of the audit (we aim at < 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from quipu.testing.emulator import EmulatorConfig, EmulatorProcess
from quipu.testing.redis_server import RedisServer, free_port

API_KEY = "bench-chat-key-0123456789abcdef0123456789"
QUESTIONS = (
    "¿Cómo emito una nota de crédito que anula una factura?",
    "¿Qué significa el rechazo por folio fuera de rango?",
    "¿Cómo se calcula la gratificación legal?",
    "¿Dónde veo los indicadores Previred del mes?",
)
CONFIG = """
[platform]
workers = 1

[plugins.chat]
keepalive_s = 5.0
"""


def _pinned(core: int | None, argv: list[str]) -> list[str]:
    if core is None or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", str(core), *argv]


@contextmanager
def quipu_server(env: dict[str, str], core: int | None) -> Iterator[str]:
    """``quipu serve`` (chat plugin only) on a free port; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as folder:
        config = Path(folder) / "platform.toml"
        config.write_text(CONFIG)
        log = (Path(folder) / "quipu.log").open("wb")
        argv = [sys.executable, "-m", "quipu.cli", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(port)]
        process = subprocess.Popen(
            _pinned(core, argv),
            env={**os.environ, **env, "QUIPU_CONFIG": str(config), "QUIPU_LOAD_PLUGINS": "chat"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError((Path(folder) / "quipu.log").read_text()[-3000:])
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("quipu did not start in 60 s")
                time.sleep(0.1)
            yield url
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.close()


async def model_first_token(client: httpx.AsyncClient, emulator: str) -> float:
    """Seconds from sending to the first text delta, straight from the emulator."""
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 512,
        "stream": True,
        "messages": [{"role": "user", "content": QUESTIONS[0]}],
    }
    headers = {"x-api-key": "bench", "anthropic-version": "2023-06-01"}
    started = time.perf_counter()
    first: float | None = None
    async with client.stream("POST", f"{emulator}/v1/messages", json=body, headers=headers) as r:
        async for line in r.aiter_lines():  # read to the end, as quipu does
            if first is None and line.startswith("data: ") and '"text_delta"' in line:
                first = time.perf_counter() - started
    if first is None:
        raise RuntimeError("the emulator sent no text")
    return first


async def quipu_first_text(client: httpx.AsyncClient, url: str, n: int) -> dict[str, float]:
    """Seconds to headers, first byte, first text event and done of one streamed answer."""
    message = f"{QUESTIONS[n % len(QUESTIONS)]} (consulta {n})"
    times: dict[str, float] = {}
    started = time.perf_counter()
    async with client.stream(
        "POST", f"{url}/api/chat/message/stream", json={"message": message}
    ) as response:
        times["headers"] = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {(await response.aread())[:300]!r}")
        buffer = b""
        async for chunk in response.aiter_raw():
            now = time.perf_counter() - started
            times.setdefault("first_byte", now)
            buffer += chunk
            if "first_text" not in times and b'"type":"text"' in buffer:
                times["first_text"] = now
        times["done"] = time.perf_counter() - started
        if b'"type":"done"' not in buffer:
            raise RuntimeError(f"no done event: {buffer[-300:]!r}")
    return times


async def measure(
    url: str, emulator: str, requests: int, concurrency: int
) -> tuple[list[float], list[dict[str, float]]]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(headers=headers, timeout=30, limits=limits) as client:
        for n in range(5):  # warm-up: connections, imports, first prompt-cache writes
            await quipu_first_text(client, url, 10_000 + n)
            await model_first_token(client, emulator)
        model = [await model_first_token(client, emulator) for _ in range(requests)]
        slots = asyncio.Semaphore(concurrency)

        async def one(n: int) -> dict[str, float]:
            async with slots:
                return await quipu_first_text(client, url, n)

        quipu = await asyncio.gather(*(one(n) for n in range(requests)))
    return model, list(quipu)


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
        "min_ms": round(ordered[0] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--ttft-ms", type=float, default=300.0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print only the JSON summary")
    args = parser.parse_args()

    available = sorted(os.sched_getaffinity(0))
    server_core = available[-1] if len(available) > 1 else None
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer())
        emulator = stack.enter_context(
            EmulatorProcess(EmulatorConfig(ttft_ms=args.ttft_ms, tokens_per_s=0, reply_words=40))
        )
        env = {
            "API_KEY": API_KEY,
            "REDIS_URL": redis.url,
            "ANTHROPIC_API_KEY": "bench",
            "ANTHROPIC_BASE_URL": emulator.url,
        }
        url = stack.enter_context(quipu_server(env, server_core))
        model, quipu = asyncio.run(measure(url, emulator.url, args.requests, args.concurrency))

    first_text = [t["first_text"] for t in quipu]
    overhead = [q - statistics.median(model) for q in first_text]
    summary: dict[str, Any] = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "emulator_ttft_ms": args.ttft_ms,
        "model_first_token": _ms(model),
        "quipu_headers": _ms([t["headers"] for t in quipu]),
        "quipu_first_byte": _ms([t["first_byte"] for t in quipu]),
        "quipu_first_text": _ms(first_text),
        "quipu_done": _ms([t["done"] for t in quipu]),
        "overhead_first_text_ms": round(
            (statistics.median(first_text) - statistics.median(model)) * 1000, 2
        ),
        "overhead_p90_ms": _ms(overhead)["p90_ms"],
    }
    if not args.json:
        print(f"{args.requests} streamed answers, emulator TTFT {args.ttft_ms:g} ms")
        for name in ("model_first_token", "quipu_headers", "quipu_first_byte", "quipu_first_text"):
            row = summary[name]
            print(
                f"  {name:<18} median {row['median_ms']:8.2f} ms  p90 {row['p90_ms']:8.2f} ms  "
                f"max {row['max_ms']:8.2f} ms"
            )
        print(
            f"  quipu adds {summary['overhead_first_text_ms']:.2f} ms (median) to the model's "
            f"first token; p90 {summary['overhead_p90_ms']:.2f} ms"
        )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
