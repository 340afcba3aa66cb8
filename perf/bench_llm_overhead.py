"""What quipu adds around each model call: client latency minus the emulator's own time.

Starts a throwaway Redis, the Anthropic emulator answering instantly (``ttft_ms=0``,
``tokens_per_s=0``, **no script**: the emulator answers the forced review tools by itself)
and ``quipu serve`` (one Granian worker, pinned to the server core; the client, Redis and
the emulator share the other core). Then, one request at a time after a warm-up, for each
LLM-backed route:

- ``dte_review``: ``POST /api/ai/validate`` with a new document each time (AI review runs);
- ``payroll_review``: ``POST /api/payroll/validate`` with a new slip each time;
- ``chat_message``: ``POST /api/chat/message`` in a new session each time;
- ``stream_ttfb``: ``POST /api/chat/message/stream``, time to the first ``text`` event.

Each request is paired with the emulator's log records that arrived while it ran (by wall
clock): ``overhead = client ms - emulator ms``, where emulator ms is the time from the
first call's arrival to the last call's end (for ``stream_ttfb``: to the first content
delta leaving the emulator). The same overhead as quipu reports it in ``Server-Timing``
(``overhead;dur=``) is shown beside it, and ``floor`` is a bare Litestar route on the same
Granian with the same client: what any Python ASGI service pays for one HTTP round trip.

Requests are ``--gap-ms`` apart (20 ms), like separate client calls: with no gap, the work
quipu does after an answer (metrics, ledger, session write-back) runs while the next
request is already waiting, and is counted in it. The client is the standard library's
``http.client`` on one keep-alive connection, the
lightest Python client, so that its own cost does not hide quipu's.

Run: ``.venv/bin/python perf/bench_llm_overhead.py [--requests 200] [--json out.json]``.
Targets (issue 13): overhead p50 < 1 ms and p99 < 3 ms for each route. Exits 1 when a
target is missed. Published gateway figures are printed beside ours (gateway-anchors B.6).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import payloads  # noqa: E402
from harness import API_KEY, PERF_CONFIG, Server, Stack, cores, pin_tree  # noqa: E402

TARGET_P50_MS = 1.0
TARGET_P99_MS = 3.0
CONFIG = """
[plugins.dte]
ai_review = "always"

[plugins.payroll]
ai_review = "always"
"""
#: Published overhead of other gateways (gateway-anchors.md B.6), for the report.
PUBLISHED = (
    ("Bifrost (Go)", "0.44 ms median", "cuihuan/llm-gateway-bench overhead.json, sequential"),
    ("Portkey OSS 1.15.2", "2.37 ms median", "same bench"),
    ("LiteLLM 1.91.1", "4.34 ms median", "same bench"),
    ("Helicone AI Gateway (Rust)", "0.31-0.54 ms", "its benchmarks/README.md, 3000 RPS"),
    ("TensorZero (Rust)", "0.35 ms p50, 0.94 ms p99", "tensorzero.com benchmarks, 10k QPS"),
)
_TIMING = re.compile(r"([\w.-]+);dur=([0-9.]+)")


class Client:
    """One keep-alive HTTP/1.1 connection; returns (status, headers, ms, first-text ms)."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    def post(self, path: str, body: bytes, *, stream: bool = False) -> dict[str, Any]:
        start_wall = time.time()
        started = time.perf_counter()
        self.conn.request("POST", path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        headers_ms = (time.perf_counter() - started) * 1000
        first = None
        if stream:
            while line := response.readline():
                if first is None and line.startswith(b"data:") and b'"text"' in line:
                    first = (time.perf_counter() - started) * 1000
            response.read()
        else:
            response.read()
        elapsed = (time.perf_counter() - started) * 1000
        return {
            "status": response.status,
            "ms": elapsed,
            "first_ms": first,
            "headers_ms": headers_ms,
            "start": start_wall,
            "end": start_wall + elapsed / 1000,
            "timing": {
                k: float(v) for k, v in _TIMING.findall(response.getheader("server-timing") or "")
            },
        }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def cases(rng: random.Random) -> list[tuple[str, str, Any, bool]]:
    def dte() -> bytes:
        body = payloads.dte_request(rng, xml_share=0.0)
        return json.dumps(body).encode()

    def payroll() -> bytes:
        return json.dumps(payloads.payroll_request(rng)).encode()

    def chat() -> bytes:
        return json.dumps(payloads.chat_message_request(rng)).encode()

    return [
        ("dte_review", "/api/ai/validate", dte, False),
        ("payroll_review", "/api/payroll/validate", payroll, False),
        ("chat_message", "/api/chat/message", chat, False),
        ("stream_ttfb", "/api/chat/message/stream", chat, True),
    ]


def pair(row: dict[str, Any], records: list[dict[str, Any]], stream: bool) -> dict[str, Any]:
    """The emulator calls made during ``row``, and the overhead around them."""
    mine = [r for r in records if row["start"] <= r["received_at"] <= row["end"]]
    row["calls"] = len(mine)
    if not mine:
        row["emulator_ms"] = row["overhead_ms"] = None
        return row
    start = min(r["received_at"] for r in mine)
    if stream:
        first = [r for r in mine if r.get("first_token_ms") is not None]
        end = start + (first[0]["first_token_ms"] / 1000 if first else 0)
        row["emulator_ms"] = (end - start) * 1000
        row["overhead_ms"] = row["first_ms"] - row["emulator_ms"] if row["first_ms"] else None
    else:
        end = max(r["received_at"] + r["duration_ms"] / 1000 for r in mine)
        row["emulator_ms"] = (end - start) * 1000
        row["overhead_ms"] = row["ms"] - row["emulator_ms"]
    return row


def floor_ms(url: str, n: int) -> float:
    """Median round trip of a bare Litestar POST on the same Granian, same client."""
    client = Client(url)
    body = json.dumps(payloads.dte_request(random.Random(1), xml_share=0.0)).encode()
    for _ in range(50):
        client.post("/api/ai/validate", body)
    return statistics.median(client.post("/api/ai/validate", body)["ms"] for _ in range(n))


def baseline_server(source: str, env: dict[str, str], core: int | None, *, phases: bool) -> Server:
    """quipu from another source tree (e.g. ``git archive`` of the base commit), same venv."""
    root = Path(source)
    paths = [root / "core" / "src", *sorted((root / "plugins").glob("*/src"))]
    if phases:
        python_path = os.pathsep.join([str(HERE), *(str(p) for p in paths)])
        return Server.factory(
            "baseline", "phases_app:create_app", {**env, "PYTHONPATH": python_path}, core
        )
    python_path = os.pathsep.join(str(p) for p in paths)
    return Server.quipu("baseline", {**env, "PYTHONPATH": python_path}, core)


def get_phases(url: str) -> dict[str, list[float]]:
    """Phase durations recorded by ``phases_app`` since the last call."""
    from harness import http_get

    found: dict[str, list[float]] = json.loads(
        http_get(url + "/_phases", headers={"Authorization": f"Bearer {API_KEY}"})
    )
    return found


def profiler(server: Server, key: str, args: argparse.Namespace) -> subprocess.Popen[bytes] | None:
    """py-spy on the quipu worker while ``key`` is measured (``--profile``), or None."""
    if key not in (args.profile or ()):
        return None
    worker = _children(server.proc.pid)[-1]
    out = Path(args.profile_dir) / f"{key}.txt"
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(worker),
            "--rate",
            "1000",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # py-spy attaches
    return spy


def _children(pid: int) -> list[int]:
    found = [pid]
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        for child in children.read().split():
            found.extend(_children(int(child)))
    return found


def upstream_floor_ms(emulator: Any, n: int) -> float:
    """Median (round trip - emulator's own time) of a Messages call straight to the emulator:
    the second HTTP hop every gateway pays, with the lightest client."""
    client = Client(emulator.url)
    client.headers = {
        "x-api-key": "bench",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
    }
    body = json.dumps(
        {
            "model": "claude-sonnet-4-6",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "hola"}],
        }
    ).encode()
    for _ in range(30):
        client.post("/v1/messages", body)
    rows = [client.post("/v1/messages", body) for _ in range(n)]
    records = emulator.requests(limit=5000)["requests"]
    return statistics.median(
        r["overhead_ms"] for r in (pair(row, records, False) for row in rows) if r["calls"]
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    from quipu.testing.emulator import EmulatorConfig, EmulatorProcess
    from quipu.testing.redis_server import RedisServer

    server_core, load_core = cores()
    if load_core is not None:
        os.sched_setaffinity(0, {load_core})
    results: dict[str, Any] = {"requests": args.requests, "gap_ms": args.gap_ms, "routes": {}}
    with Stack() as stack, tempfile.TemporaryDirectory(prefix="bench-llm-") as folder:
        redis = RedisServer()
        redis.start()
        stack.add("redis", redis.stop)
        pin_tree(redis._proc.pid if redis._proc else 0, load_core)
        emulator = EmulatorProcess(EmulatorConfig(request_log_size=5000)).start()
        stack.add("emulator", emulator.stop)
        pin_tree(emulator._process.pid if emulator._process else 0, load_core)
        config = Path(folder) / "platform.toml"
        config.write_text(PERF_CONFIG.read_text() + CONFIG)
        env = {
            "API_KEY": API_KEY,
            "REDIS_URL": redis.url,
            "ANTHROPIC_API_KEY": "bench-emulator",
            "ANTHROPIC_BASE_URL": emulator.url,
            "QUIPU_CONFIG": str(config),
        }
        if args.phases:
            quipu = Server.factory("quipu", "phases_app:create_app", env, server_core)
        else:
            quipu = Server.quipu("quipu", env, server_core)
        stack.add("quipu", quipu.stop)
        servers = {"quipu": quipu}
        if args.baseline_src:
            servers["baseline"] = baseline_server(
                args.baseline_src, env, server_core, phases=args.phases
            )
            stack.add("baseline", servers["baseline"].stop)
        bare = Server.factory("bare", "bare_app:create_app", {}, server_core)
        stack.add("bare", bare.stop)
        for server in servers.values():
            server.wait()
        bare.wait()
        results["floor_ms"] = floor_ms(bare.url, args.requests)
        results["upstream_floor_ms"] = upstream_floor_ms(emulator, args.requests)
        rng = random.Random(args.seed)
        for key, path, make, stream in cases(rng):
            clients = {name: Client(server.url) for name, server in servers.items()}
            for client in clients.values():
                for _ in range(args.warmup):
                    client.post(path, make(), stream=stream)
            if args.phases:
                for server in servers.values():
                    get_phases(server.url)  # forget the warm-up
            spy = profiler(quipu, key, args)
            rows: dict[str, list[dict[str, Any]]] = {name: [] for name in clients}
            for _ in range(args.requests):
                # Interleaved: both servers see the same moments of a shared, noisy machine.
                for name, client in clients.items():
                    rows[name].append(client.post(path, make(), stream=stream))
                    time.sleep(args.gap_ms / 1000)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
            records = emulator.requests(limit=5000)["requests"]
            for name, found in rows.items():
                label = key if name == "quipu" else f"{key} ({name})"
                results["routes"][label] = [pair(row, records, stream) for row in found]
            if args.phases:
                for name, server in servers.items():
                    label = key if name == "quipu" else f"{key} ({name})"
                    results.setdefault("phases", {})[label] = get_phases(server.url)
    return results


def summarise(results: dict[str, Any]) -> tuple[list[str], bool]:
    lines = [
        f"LLM overhead, {results['requests']} requests per route, one at a time "
        f"({results.get('gap_ms', 0):g} ms apart); emulator at zero delay, unscripted",
        f"floor (bare Litestar POST on the same Granian, same client): "
        f"{results['floor_ms']:.3f} ms p50; upstream hop floor (http.client straight to the "
        f"emulator, minus its own time): {results.get('upstream_floor_ms', float('nan')):.3f} ms "
        "p50",
        "",
        "| route | client p50 | emulator p50 | overhead p50 | overhead p99 | Server-Timing "
        "overhead p50 / p99 | calls | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for key, rows in sorted(results["routes"].items()):
        good = [r for r in rows if r["status"] == 200 and r["overhead_ms"] is not None]
        bad = len(rows) - len(good)
        over = [r["overhead_ms"] for r in good]
        client = [r["first_ms"] if key == "stream_ttfb" else r["ms"] for r in good]
        emulated = [r["emulator_ms"] for r in good]
        header = [r["timing"].get("overhead") for r in good if "overhead" in r["timing"]]
        calls = statistics.mean(r["calls"] for r in good) if good else 0
        p50, p99 = percentile(over, 50), percentile(over, 99)
        hit = p50 < TARGET_P50_MS and (key == "stream_ttfb" or p99 < TARGET_P99_MS) and not bad
        if "(" not in key:  # a baseline's rows are shown, not judged
            ok &= hit
        st = f"{percentile(header, 50):.3f} / {percentile(header, 99):.3f}" if header else "n/a"
        lines.append(
            f"| {key} | {percentile(client, 50):.3f} | {percentile(emulated, 50):.3f} | "
            f"{p50:.3f} | {p99:.3f} | {st} | {calls:.1f} | "
            f"{'ok' if hit else 'MISSED'}{f' ({bad} failed)' if bad else ''} |"
        )
    for key, phases in results.get("phases", {}).items():
        n = len(results["routes"][key]) or 1
        lines += ["", f"Phases of {key} (median ms per call, calls per request):", ""]
        lines += ["| phase | median ms | calls/request |", "|---|---|---|"]
        for name, values in sorted(phases.items()):
            lines.append(f"| {name} | {statistics.median(values):.3f} | {len(values) / n:.2f} |")
    lines += ["", "Published gateway overhead (gateway-anchors.md B.6):", ""]
    lines += [f"- {name}: {value} ({where})" for name, value, where in PUBLISHED]
    lines.append(
        f"\nTarget: overhead p50 < {TARGET_P50_MS} ms (all), p99 < {TARGET_P99_MS} ms "
        "(all but stream_ttfb, whose target is p50)."
    )
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="measured, per route")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured, per route")
    parser.add_argument("--seed", type=int, default=1313)
    parser.add_argument(
        "--gap-ms",
        type=float,
        default=20.0,
        help="pause between requests, as between a real client's calls: the work quipu does "
        "after an answer (ledger, session write-back) then does not land on the next request",
    )
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument(
        "--profile", nargs="*", help="routes to sample with py-spy (collapsed stacks)"
    )
    parser.add_argument(
        "--phases", action="store_true", help="serve perf/phases_app.py: time every phase"
    )
    parser.add_argument(
        "--baseline-src",
        help="also serve quipu from this source tree (git archive of the base commit), "
        "requests interleaved with ours",
    )
    parser.add_argument("--profile-dir", default=".", help="where the py-spy files go")
    args = parser.parse_args(argv)
    results = run(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    lines, ok = summarise(results)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
