"""Maximum throughput of ``/health`` and of a cached validation, beside the bare routes.

One Granian worker per server, pinned to the server core; the load generator (``wrk``
when installed, else the asyncio keep-alive client of :mod:`bench_cache_client`) pinned
to the other core with Redis and the emulator. Prints requests per second, p50/p99 and
the ratio of each quipu route to the bare one::

    .venv/bin/python perf/quick.py [--duration 5] [--tracing] [--client wrk|python]

``--tracing`` also serves quipu with tracing on (every span made and dropped; and spans
exported over OTLP to a local sink) and prints the cost against tracing off.
A route quipu does not serve yet (no DTE plugin) is reported as "not served".
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import (  # noqa: E402
    API_KEY,
    OtlpSink,
    Server,
    Stack,
    cores,
    http_get,
    pin_tree,
    pinned,
)
from payloads import dte_cached_pool  # noqa: E402

__all__ = ["Probe", "load", "measure", "prime_cached", "served_paths"]

VALIDATE = "/api/ai/validate"


@dataclass
class Probe:
    """One route of one server to drive."""

    label: str
    server: str
    route: str
    url: str
    method: str = "GET"
    body: bytes = b""
    headers: list[str] = field(default_factory=list)
    count_cache_status: bool = False
    """Count the answers whose ``Cache-Status`` is not a hit (``non_hits``)."""


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk(probe: Probe, duration: float, connections: int, core: int | None) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{probe.method}"\n')
        if probe.body:
            script.write(f"wrk.body = {json.dumps(probe.body.decode())}\n")
        for header in probe.headers:
            name, _, value = header.partition(": ")
            script.write(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n")
        if probe.count_cache_status:
            script.write(_COUNT_NON_HITS)
    try:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency"]
        argv += ["-s", script.name, probe.url]
        out = subprocess.run(pinned(core, argv), capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)

    def grab(pattern: str) -> str:
        match = re.search(pattern, out, re.M)
        if match is None:
            raise RuntimeError(f"unexpected wrk output:\n{out}")
        return match.group(1)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non_hits = re.search(r"^non-hits: (\d+) of (\d+)$", out, re.M)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(grab(r"Requests/sec:\s+([\d.]+)")),
        "p50_ms": _ms(grab(r"^\s+50%\s+(\S+)")),
        "p99_ms": _ms(grab(r"^\s+99%\s+(\S+)")),
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
        "errors": float(sum(int(g) for g in errors.groups())) if errors else 0.0,
        **(
            {"non_hits": float(non_hits.group(1)), "checked": float(non_hits.group(2))}
            if non_hits
            else {}
        ),
    }


#: wrk Lua: count the answers whose Cache-Status is not a hit, over every thread; the same
#: callback runs on the bare probes too, so both clients do the same work per answer.
_COUNT_NON_HITS = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
non_hits = 0
answers = 0
function response(status, headers, body)
  answers = answers + 1
  local value = headers["cache-status"] or headers["Cache-Status"] or ""
  if not string.find(value, "; hit", 1, true) then non_hits = non_hits + 1 end
end
function done(summary, latency, requests)
  local missed, total = 0, 0
  for _, t in ipairs(threads) do
    missed = missed + t:get("non_hits")
    total = total + t:get("answers")
  end
  io.write(string.format("non-hits: %d of %d\\n", missed, total))
end
"""


def _python(probe: Probe, duration: float, connections: int, core: int | None) -> dict[str, float]:
    """The asyncio keep-alive client another perf script already has: reused, not copied."""
    argv = [sys.executable, str(HERE / "bench_cache_client.py"), probe.url]
    argv += ["--method", probe.method, "--connections", str(connections)]
    argv += ["--duration", str(duration)]
    if probe.body:
        argv += ["--body", probe.body.decode()]
    for header in probe.headers:
        argv += ["--header", header]
    out = subprocess.run(pinned(core, argv), capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def load(
    probe: Probe, duration: float, connections: int, core: int | None, client: str
) -> dict[str, float]:
    """Drive ``probe`` as fast as it answers for ``duration`` seconds."""
    return (_wrk if client == "wrk" else _python)(probe, duration, connections, core)


def measure(
    probes: list[Probe],
    *,
    duration: float,
    warmup: float,
    connections: int,
    core: int | None,
    client: str,
    rounds: int = 1,
) -> list[dict[str, Any]]:
    """Each probe's median over ``rounds`` interleaved rounds (after a warm-up each time)."""
    samples: dict[str, list[dict[str, float]]] = {p.label: [] for p in probes}
    for _ in range(rounds):
        for probe in probes:
            if warmup > 0:
                load(probe, warmup, connections, core, client)
            samples[probe.label].append(load(probe, duration, connections, core, client))
    results = []
    for probe in probes:
        runs = samples[probe.label]
        row: dict[str, Any] = {"label": probe.label, "server": probe.server, "route": probe.route}
        for metric in ("rps", "p50_ms", "p99_ms"):
            row[metric] = statistics.median(r[metric] for r in runs)
        row["non_2xx"] = sum(r.get("non_2xx", 0) for r in runs)
        row["errors"] = sum(r.get("errors", 0) for r in runs)
        if any("non_hits" in r for r in runs):
            row["non_hits"] = sum(r.get("non_hits", 0) for r in runs)
            row["checked"] = sum(r.get("checked", 0) for r in runs)
        results.append(row)
    return results


def served_paths(url: str) -> set[str]:
    """Paths in a server's OpenAPI (empty if it has none)."""
    try:
        return set(json.loads(http_get(url + "/schema/openapi.json")).get("paths", {}))
    except (OSError, ValueError):
        return set()


def prime_cached(url: str, body: bytes, attempts: int = 50) -> str:
    """Send ``body`` until quipu answers it from its cache; returns the ``Cache-Status``."""
    import urllib.request

    status = ""
    for _ in range(attempts):
        request = urllib.request.Request(  # noqa: S310 - loopback
            url + VALIDATE,
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            status = response.headers.get("cache-status", "")
        if "hit" in status:
            return status
        time.sleep(0.05)
    raise RuntimeError(f"{url}{VALIDATE} never answered from the cache: {status!r}")


_SPAN_COST = r"""
import json, timeit
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from quipu.observability import tracing

class Drop(SpanExporter):
    def export(self, spans):
        return SpanExportResult.SUCCESS

def one():
    with tracing.span("cache get", {"quipu.cache.policy": "dte.validation"}):
        pass

n = 20000
off = min(timeit.repeat(one, number=n, repeat=5)) / n
tracing.configure_tracing(exporter=Drop())
on = min(timeit.repeat(one, number=n, repeat=5)) / n
print(json.dumps({"span_off_us": off * 1e6, "span_on_us": on * 1e6}))
"""


def span_costs(core: int | None = None) -> dict[str, float]:
    """Cost of one ``quipu.observability.tracing.span`` with tracing off and on (no export)."""
    out = subprocess.run(
        pinned(core, [sys.executable, "-c", _SPAN_COST]), capture_output=True, text=True, check=True
    ).stdout
    costs: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return costs


def print_table(rows: list[dict[str, Any]], servers: list[str]) -> None:
    """Rows of ``servers``: throughput as a ratio of the first server's same route and of
    its ``/health``, and (cached probes) the answers that were not cache hits."""
    base = {r["route"]: r["rps"] for r in rows if r["server"] == servers[0]}
    print(
        f"{'':<40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7} {'/health':>8} "
        f"{'non-2xx':>8} {'non-hits':>9}"
    )
    for row in rows:
        if row["server"] not in servers:
            continue
        ratio = f"{row['rps'] / base[row['route']]:.2f}" if base.get(row["route"]) else "-"
        health = f"{row['rps'] / base['health']:.2f}" if base.get("health") else "-"
        hits = f"{row['non_hits']:.0f}/{row['checked']:.0f}" if "non_hits" in row else "-"
        print(
            f"{row['label']:<40} {row['rps']:>9.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{ratio:>7} {health:>8} {row['non_2xx'] + row['errors']:>8.0f} {hits:>9}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (median)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--tracing", action="store_true", help="also measure tracing on")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "python")
    server_core, load_core = cores()

    from quipu.testing.emulator import EmulatorConfig, EmulatorProcess
    from quipu.testing.redis_server import RedisServer

    with Stack() as stack:
        redis = RedisServer()
        redis.start()
        stack.add("redis", lambda: redis.__exit__(None, None, None))
        pin_tree(redis._proc.pid if redis._proc else 0, load_core)
        emulator = EmulatorProcess(EmulatorConfig())
        emulator.start()
        stack.add("emulator", emulator.stop)
        pin_tree(emulator._process.pid if emulator._process else 0, load_core)
        env = {
            "API_KEY": API_KEY,
            "REDIS_URL": redis.url,
            "ANTHROPIC_API_KEY": "perf-emulator",
            "ANTHROPIC_BASE_URL": emulator.url,
        }
        servers = {
            "bare": Server.factory("bare", "bare_app:create_app", {}, server_core),
            "quipu": Server.quipu("quipu", env, server_core),
        }
        sink = None
        if args.tracing:
            sink = OtlpSink()
            stack.add("otlp sink", sink.stop)
            servers["tracing off"] = Server.factory(
                "tracing off", "quipu.app:create_app", env, server_core
            )
            servers["tracing on, no exporter"] = Server.factory(
                "tracing on, no exporter", "traced_app:create_app", env, server_core
            )
            servers["tracing on, OTLP"] = Server.factory(
                "tracing on, OTLP",
                "quipu.app:create_app",
                {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url},
                server_core,
            )
        for server in servers.values():
            stack.add(server.name, server.stop)
        for server in servers.values():
            server.wait()
        results = run_probes(
            servers,
            duration=args.duration,
            warmup=args.warmup,
            connections=args.connections,
            core=load_core,
            client=client,
            rounds=args.rounds,
        )
    print(
        f"client={client}, {args.connections} connections, {args.duration:g} s per route, "
        f"server core {server_core}, load core {load_core}\n"
    )
    print_table(results["rows"], ["bare", "quipu"])
    if args.tracing:
        print_table(results["rows"], [n for n in servers if n.startswith("tracing")])
        print(f"OTLP sink received {sink.received if sink else 0} export requests")
        costs = span_costs(server_core)
        results["span_costs"] = costs
        print(
            f"one span: {costs['span_off_us'] * 1000:.0f} ns with tracing off, "
            f"{costs['span_on_us']:.1f} µs on (made, ended, dropped)\n"
        )
    for route in results["not_served"]:
        print(f"{route}: not served by quipu yet (skipped)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def run_probes(
    servers: dict[str, Server],
    *,
    duration: float,
    warmup: float,
    connections: int,
    core: int | None,
    client: str,
    rounds: int = 1,
) -> dict[str, Any]:
    """Health and cached validation on every server (all quipu but the one named "bare")."""
    body = json.dumps(dte_cached_pool(1)[0]).encode()
    auth = [f"Authorization: Bearer {API_KEY}"]
    json_headers = [*auth, "Content-Type: application/json"]
    quipu_paths = set().union(*(served_paths(s.url) for n, s in servers.items() if n != "bare"))
    probes: list[Probe] = []
    not_served = []
    for name, server in servers.items():
        probes.append(Probe(f"{name} GET /health", name, "health", server.url + "/health"))
    if VALIDATE in quipu_paths:
        for name, server in servers.items():
            if name != "bare":
                prime_cached(server.url, body)
            probes.append(
                Probe(
                    f"{name} cached validation",
                    name,
                    "cached validation",
                    server.url + VALIDATE,
                    "POST",
                    body,
                    json_headers,
                    count_cache_status=True,
                )
            )
    else:
        not_served.append(f"POST {VALIDATE}")
    rows = measure(
        probes,
        duration=duration,
        warmup=warmup,
        connections=connections,
        core=core,
        client=client,
        rounds=rounds,
    )
    return {
        "client": client,
        "connections": connections,
        "duration_s": duration,
        "rounds": rounds,
        "rows": rows,
        "not_served": not_served,
    }


if __name__ == "__main__":
    sys.exit(main())
