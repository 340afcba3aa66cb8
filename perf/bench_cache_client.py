"""A small keep-alive HTTP/1.1 load generator, for machines without ``wrk``.

``connections`` connections each send one request, wait for the whole response, and send
the next, until ``duration_s`` or ``max_requests``. Built on ``asyncio.Protocol`` (no
streams, no HTTP library) so that one core drives a fast server; ``wrk`` is still preferred
and :mod:`bench_cache` uses it when installed.

    python perf/bench_cache_client.py http://127.0.0.1:8000/path --body '{"a":1}' \\
        --header 'Authorization: Bearer x' --connections 32 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["LoadResult", "build_request", "run_load"]


@dataclass
class LoadResult:
    """What a run measured; latencies in seconds."""

    requests: int = 0
    errors: int = 0
    non_2xx: int = 0
    elapsed_s: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "rps": self.rps,
            "p50_ms": self.percentile(50) * 1000,
            "p99_ms": self.percentile(99) * 1000,
            "max_ms": (max(self.latencies) if self.latencies else float("nan")) * 1000,
            "mean_ms": (statistics.fmean(self.latencies) if self.latencies else float("nan"))
            * 1000,
            "errors": self.errors,
            "non_2xx": self.non_2xx,
        }


def build_request(url: str, method: str, body: bytes, headers: list[str]) -> bytes:
    """The raw bytes of one keep-alive HTTP/1.1 request."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive"]
    lines += headers
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection(asyncio.Protocol):
    def __init__(self, run: _Run) -> None:
        self.run = run
        self.buffer = bytearray()
        self.started = 0.0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        run = self.run
        if time.perf_counter() >= run.deadline or run.sent >= run.max_requests:
            assert self.transport is not None
            self.transport.close()
            return
        run.sent += 1
        self.started = time.perf_counter()
        assert self.transport is not None
        self.transport.write(run.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            length = 0
            marker = head.find(b"content-length:")
            if marker >= 0:
                length = int(head[marker + 15 :].split(b"\r\n", 1)[0])
                total = end + 4 + length
                if len(self.buffer) < total:
                    return
            elif b"transfer-encoding: chunked" in head:
                stop = self.buffer.find(b"0\r\n\r\n", end + 4)
                if stop < 0:
                    return
                total = stop + 5
            else:
                total = end + 4
            status = int(head[9:12])
            del self.buffer[:total]
            result = self.run.result
            result.requests += 1
            result.latencies.append(time.perf_counter() - self.started)
            if not 200 <= status < 300:
                result.non_2xx += 1
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.run.result.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class _Run:
    request: bytes
    deadline: float
    max_requests: int
    sent: int = 0
    result: LoadResult = field(default_factory=LoadResult)


async def run_load(
    url: str,
    *,
    method: str = "GET",
    body: bytes = b"",
    headers: list[str] | None = None,
    connections: int = 32,
    duration_s: float = 10.0,
    max_requests: int = 2_000_000,
) -> LoadResult:
    """Drive ``url`` with ``connections`` keep-alive connections; bounded in time and count."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    run = _Run(build_request(url, method, body, headers or []), started + duration_s, max_requests)
    protocols: list[_Connection] = []
    for _ in range(connections):
        try:
            _, protocol = await loop.create_connection(lambda: _Connection(run), host, port)
        except OSError:
            run.result.errors += 1
            continue
        protocols.append(protocol)
    if protocols:
        await asyncio.wait(
            [p.closed for p in protocols], timeout=duration_s + 30, return_when="ALL_COMPLETED"
        )
    run.result.elapsed_s = time.perf_counter() - started
    return run.result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--method", default=None)
    parser.add_argument("--body", default="")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    args = parser.parse_args()
    body = args.body.encode()
    result = asyncio.run(
        run_load(
            args.url,
            method=args.method or ("POST" if body else "GET"),
            body=body,
            headers=args.header,
            connections=args.connections,
            duration_s=args.duration,
            max_requests=args.max_requests,
        )
    )
    print(json.dumps(result.summary()))


if __name__ == "__main__":
    main()
