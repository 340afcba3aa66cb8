"""Cached route through quipu against a bare Litestar route, on the same Granian, one run.

Scenarios, each served by Granian (1 worker, pinned to one core) and driven by ``wrk`` (or
:mod:`bench_cache_client` when ``wrk`` is missing) pinned to another core, with the same
``POST /api/bench/validate`` request:

- ``bare``: plain Litestar, the handler computes and encodes every time;
- ``quipu L1 hit``: quipu (auth, request middleware, cache), answered from memory;
- ``quipu Redis hit``: L1 off (``[cache] l1_max_entries = 0``), one Redis GET each;
- ``quipu miss, Redis down``: L1 off and Redis stopped: the breaker skips Redis and every
  request recomputes (its max latency shows that nobody waits on the dead Redis).

Run: ``.venv/bin/python perf/bench_cache.py [--rounds 5] [--duration 3] [--client wrk|python]``.
Scenarios are interleaved over rounds. Other processes on the machine only ever slow a
measurement down, so the targets are checked on the best round of each scenario (best over
best); the median of the per-round ratios is printed next to it.
Targets: L1 hit >= 70 % and Redis hit >= 40 % of the bare route's requests per second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_cache_app import BODY  # noqa: E402
from harness import Server, cores, pinned  # noqa: E402
from quipu.testing.redis_server import RedisServer  # noqa: E402

API_KEY = "bench-key-0123456789abcdef0123456789abcdef"
PATH = "/api/bench/validate"
HEADERS = [f"Authorization: Bearer {API_KEY}", "Content-Type: application/json"]


@dataclass
class Scenario:
    name: str
    factory: str
    env: dict[str, str]
    expect: str
    """What ``Cache-Status`` must contain before measuring."""
    cache_status: str = ""


class Granian:
    """One Granian server (1 worker) of a factory, for the duration of a ``with`` block."""

    def __init__(self, factory: str, env: dict[str, str], core: int | None) -> None:
        # The bare app has no /health: wait for the port instead.
        self.server = Server.factory(factory, factory, env, core, health=None)
        self.url = self.server.url + PATH

    def __enter__(self) -> Granian:
        self.server.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def wait_for(self, expect: str, limit_s: float = 10.0) -> str:
        """Send requests until ``Cache-Status`` contains ``expect`` (or the route is bare)."""
        deadline = time.monotonic() + limit_s
        while True:
            status, cache_status = self.probe()
            if status == 200 and (expect == "-" or expect in cache_status):
                return cache_status
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.url}: {status} {cache_status!r}, wanted {expect!r}")
            time.sleep(0.05)

    def probe(self) -> tuple[int, str]:
        """One request: (status, Cache-Status header)."""
        request = urllib.request.Request(self.url, data=BODY, method="POST")  # noqa: S310
        for header in HEADERS:
            name, _, value = header.partition(": ")
            request.add_header(name, value)
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.headers.get("cache-status", "-")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(url: str, duration: float, connections: int, core: str | None) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\n')
        script.write(f"wrk.body = {json.dumps(BODY.decode())}\n")
        for header in HEADERS:
            name, _, value = header.partition(": ")
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        out = subprocess.run(
            pinned(
                core,
                [
                    "wrk",
                    "-t1",
                    f"-c{connections}",
                    f"-d{max(1, round(duration))}s",
                    "--latency",
                    "-s",
                    script.name,
                    url,
                ],
            ),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    stats = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    assert stats is not None, out
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "max_ms": _ms(stats.group(3)),
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
        "errors": float(sum(int(g) for g in errors.groups())) if errors else 0.0,
    }


def run_python(url: str, duration: float, connections: int, core: str | None) -> dict[str, float]:
    argv = [sys.executable, str(HERE / "bench_cache_client.py"), url, "--body", BODY.decode()]
    for header in HEADERS:
        argv += ["--header", header]
    argv += ["--connections", str(connections), "--duration", str(duration)]
    out = subprocess.run(pinned(core, argv), capture_output=True, text=True, check=True).stdout
    summary: dict[str, float] = json.loads(out)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    load = run_wrk if client == "wrk" else run_python
    server_core, client_core = cores()

    # One Redis for the hit scenarios, another that dies for the "Redis down" one.
    redis, doomed = RedisServer(), RedisServer()
    for server in (redis, doomed):
        server.start()
        if client_core is not None and server._proc is not None:
            os.sched_setaffinity(server._proc.pid, {int(client_core)})
    config_dir = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    l1_off = config_dir / "l1-off.toml"
    l1_off.write_text("[cache]\nl1_max_entries = 0\n")
    quipu = {"API_KEY": API_KEY, "REDIS_URL": redis.url}
    scenarios = [
        Scenario("bare Litestar", "bench_cache_app:create_bare_app", {}, "-"),
        Scenario("quipu L1 hit", "bench_cache_app:create_app", quipu, "detail=l1"),
        Scenario(
            "quipu Redis hit",
            "bench_cache_app:create_app",
            {**quipu, "QUIPU_CONFIG": str(l1_off)},
            "detail=redis",
        ),
        Scenario(
            "quipu miss, Redis down",
            "bench_cache_app:create_app",
            {**quipu, "REDIS_URL": doomed.url, "QUIPU_CONFIG": str(l1_off)},
            "detail=redis-unavailable",
        ),
    ]
    print(
        f"load average {os.getloadavg()[0]:.2f} (other processes skew every figure); "
        f"client={client} connections={args.connections} {args.rounds} rounds x "
        f"{args.duration}s per scenario, server core={server_core}, "
        f"client+redis core={client_core}",
        flush=True,
    )
    samples: dict[str, list[dict[str, float]]] = {s.name: [] for s in scenarios}
    servers: list[Granian] = []
    try:
        for scenario in scenarios:
            # All servers start first and idle until their turn: rounds interleave the
            # scenarios so that a noisy neighbour hurts all of them alike.
            servers.append(Granian(scenario.factory, scenario.env, server_core).__enter__())
        doomed.stop()
        for server, scenario in zip(servers, scenarios, strict=True):
            scenario.cache_status = server.wait_for(scenario.expect)
        for round_no in range(1, args.rounds + 1):
            for server, scenario in zip(servers, scenarios, strict=True):
                load(server.url, args.warmup, args.connections, client_core)
                measured = load(server.url, args.duration, args.connections, client_core)
                samples[scenario.name].append(measured)
                print(
                    f"  round {round_no}: {scenario.name}: {measured['rps']:.0f} req/s", flush=True
                )
    finally:
        for server in servers:
            server.__exit__()
        redis.stop()
        doomed.stop()
        shutil.rmtree(config_dir, ignore_errors=True)

    results: list[dict[str, object]] = []
    bare_runs = samples[scenarios[0].name]
    for scenario in scenarios:
        runs = samples[scenario.name]
        row: dict[str, object] = {"scenario": scenario.name, "cache_status": scenario.cache_status}
        row["best_rps"] = max(r["rps"] for r in runs)
        for metric in ("rps", "p50_ms", "p99_ms"):
            row[metric] = statistics.median(r[metric] for r in runs)
        row["max_ms"] = max(r["max_ms"] for r in runs)
        row["non_2xx"] = sum(r["non_2xx"] for r in runs)
        row["rounds"] = [r["rps"] for r in runs]
        # Each round's ratio uses that round's bare run, measured seconds apart: a noisy
        # neighbour slows both, and the median over rounds drops the rounds it split.
        row["vs_bare"] = statistics.median(
            r["rps"] / b["rps"] for r, b in zip(runs, bare_runs, strict=True)
        )
        row["best_vs_bare"] = float(row["best_rps"]) / max(b["rps"] for b in bare_runs)  # type: ignore[arg-type]
        results.append(row)

    print()
    print(
        "req/s: best round and median; vs bare: best over best, and median of each round's "
        "ratio; latencies: median over rounds (max: worst)"
    )
    print(
        f"{'scenario':<24} {'best r/s':>9} {'median':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'vs bare':>8} {'(median)':>8} {'non-2xx':>7}  Cache-Status"
    )
    for row in results:
        print(
            f"{row['scenario']!s:<24} {row['best_rps']:>9.0f} {row['rps']:>8.0f} "
            f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['max_ms']:>7.2f} "
            f"{row['best_vs_bare']:>8.0%} {row['vs_bare']:>8.0%} {row['non_2xx']:>7.0f}  "
            f"{row['cache_status']}"
        )
    # Other processes only ever slow a run down: the best round is the least disturbed.
    ratios = {str(r["scenario"]): float(r["best_vs_bare"]) for r in results}  # type: ignore[arg-type]
    l1_ok = ratios["quipu L1 hit"] >= 0.70
    redis_ok = ratios["quipu Redis hit"] >= 0.40
    print(
        f"\ntargets: L1 hit >= 70% of bare: {'met' if l1_ok else 'MISSED'}; "
        f"Redis hit >= 40% of bare: {'met' if redis_ok else 'MISSED'}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"client": client, "results": results}, indent=2))


if __name__ == "__main__":
    main()
