"""``make perf``: the whole benchmark on this machine, and its report against the targets.

What it does, in order (every process it starts is stopped at the end, on Ctrl-C or on
an error):

1. Starts a throwaway Redis and the Anthropic emulator with realistic latency (300 ms to
   the first token, 60 tokens/s), both on the load core.
2. Starts quipu (``quipu serve``, one Granian worker) pointing at them, and the bare
   Litestar baseline (:mod:`bare_app`) on the same Granian, both on the server core.
3. Warms up: primes the cached DTE pool and every published indicators month.
4. Runs Locust headless on the load core (``--csv``, ``--only-summary``), bounded in time:
   - **baseline**: ``/health`` and a cached validation against the bare app;
   - **quipu**: the same users, same load, against quipu (the latency ratios);
   - **mixed**: every endpoint family at the default mix and cache-hit ratio (the audit's
     targets, ours, throughput over time, cache hit ratio from ``/metrics`` every few s).
5. Measures LLM overhead: LLM-backed requests one at a time, each paired with what the
   emulator logged for it (quipu's latency minus the emulator's).
6. Measures maximum throughput of ``/health`` and a cached validation on quipu and on the
   bare app (``wrk``, else an asyncio client), and the cost of tracing (off, on without an
   exporter, on with OTLP to a local sink).
7. Collects ``/metrics`` before and after and writes ``perf/reports/<date>/``:
   ``summary.md``, ``report.html`` (inline SVG charts) and the raw CSVs.

Exits 1 when a target is missed (or an endpoint fails more than 1 % of its requests), 2
when the run itself fails. Endpoints quipu does not serve yet are reported as such and
skipped. Defaults finish in about four minutes; see ``--help`` for durations and loads.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import payloads  # noqa: E402
import quick  # noqa: E402
from endpoints import DEFAULT_MIX, FAMILIES, parse_mix  # noqa: E402
from harness import (  # noqa: E402
    API_KEY,
    BIN,
    ROOT,
    OtlpSink,
    Server,
    Stack,
    cores,
    http_get,
    pin_tree,
    pinned,
)
from report import write_report  # noqa: E402

AUTH = {"Authorization": f"Bearer {API_KEY}"}
FAMILY_PATHS = {
    "health": ("/health",),
    "dte": ("/api/ai/validate",),
    "batch": ("/api/ai/validate/batch",),
    "payroll": ("/api/payroll/validate",),
    "indicators": ("/api/payroll/indicators/{period}",),
    "chat": ("/api/chat/message", "/api/chat"),
    "chat_stream": ("/api/chat/message/stream",),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--out", type=Path, help="report directory (default perf/reports/<today>)")
    add("--users", type=int, default=40, help="mixed phase: Locust users")
    add("--duration", type=float, default=75, help="mixed phase: seconds")
    add("--mix", default=DEFAULT_MIX, help="mixed phase: user weights per family")
    add("--cache-hit-ratio", type=float, default=0.8, help="share of DTE asks for a primed doc")
    add("--think-time", default="0.5,1.5", help="mixed phase: min,max s between requests")
    add("--fast-users", type=int, default=20, help="baseline/quipu phases: Locust users")
    add("--fast-duration", type=float, default=20, help="baseline/quipu phases: seconds")
    add("--fast-think-time", default="0.05,0.15", help="baseline/quipu phases: think time")
    add("--dte-pool", type=int, default=200, help="distinct cached DTE documents")
    add("--seed", type=int, default=8)
    add("--ttft-ms", type=float, default=300, help="emulator: time to first token")
    add("--tokens-per-s", type=float, default=60, help="emulator: output pacing")
    add("--workers", type=int, default=1, help="quipu's Granian workers")
    add("--percentile", type=float, default=99, help="percentile checked against targets")
    add("--max-failure-ratio", type=float, default=0.01, help="per endpoint")
    add("--overhead-requests", type=int, default=5, help="per LLM endpoint, one at a time")
    add("--quick-duration", type=float, default=3, help="max throughput: s per route")
    add("--quick-rounds", type=int, default=2, help="max throughput: interleaved rounds")
    add("--no-quick", action="store_true", help="skip max throughput and tracing cost")
    add("--no-tracing", action="store_true", help="skip the tracing cost")
    add("--sample-interval", type=float, default=3, help="s between /metrics samples")
    return parser.parse_args(argv)


# --- Locust ------------------------------------------------------------------------------


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("nan")


def read_locust(prefix: Path) -> dict[str, Any]:
    """Per request name: counts from Locust's CSV, exact percentiles from ours."""
    stats: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", newline="") as source:
        for row in csv.DictReader(source):
            if row["Name"] == "Aggregated":
                continue
            stats[row["Name"]] = {
                "type": row["Type"],
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": _float(row["Requests/s"]),
                "mean_ms": _float(row["Average Response Time"]),
                "p50_ms": _float(row["50%"]),
                "p90_ms": _float(row["90%"]),
                "p95_ms": _float(row["95%"]),
                "p99_ms": _float(row["99%"]),
                "p999_ms": _float(row["99.9%"]),
                "max_ms": _float(row["Max Response Time"]),
            }
    precise = Path(f"{prefix}_precise.csv")
    if precise.exists():
        with open(precise, newline="") as source:
            for row in csv.DictReader(source):
                entry = stats.setdefault(
                    row["name"], {"type": row["type"], "count": 0, "failures": 0, "rps": 0}
                )
                for key in ("mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms"):
                    entry[key] = _float(row[key])
                entry["max_ms"] = _float(row["max_ms"])
                entry["precise"] = 1
    history: list[dict[str, Any]] = []
    history_file = Path(f"{prefix}_stats_history.csv")
    if history_file.exists():
        with open(history_file, newline="") as source:
            for row in csv.DictReader(source):
                history.append(
                    {
                        "t": int(row["Timestamp"]),
                        "users": int(row["User Count"] or 0),
                        "name": row["Name"],
                        "rps": _float(row["Requests/s"]),
                        "p50_ms": _float(row["50%"]),
                        "p99_ms": _float(row["99%"]),
                    }
                )
    return {"stats": stats, "history": history}


def run_locust(
    phase: str,
    host: str,
    raw: Path,
    *,
    users: int,
    duration: float,
    mix: str,
    hit_ratio: float,
    think: str,
    args: argparse.Namespace,
    core: int | None,
    expect_hits: bool = False,
) -> dict[str, Any]:
    """One headless Locust run; its CSVs go to ``raw/<phase>_*.csv``.

    ``expect_hits``: every ``[cached]`` validation must be a ``Cache-Status`` hit (quipu)."""
    prefix = raw / phase
    argv = [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless"]
    argv += ["--host", host, "-u", str(users), "-r", str(max(1, users // 2))]
    argv += ["-t", f"{int(duration)}s", "--stop-timeout", "15", "--only-summary"]
    argv += ["--csv", str(prefix), "--csv-full-history", "--loglevel", "WARNING"]
    argv += ["--quipu-mix", mix, "--cache-hit-ratio", str(hit_ratio), "--think-time", think]
    argv += ["--dte-pool", str(args.dte_pool), "--seed", str(args.seed)]
    argv += ["--precise-csv", f"{prefix}_precise.csv", "--served-file", f"{prefix}_served.json"]
    argv += ["--expect-cache-hits", "1" if expect_hits else "0"]
    log(f"{phase}: Locust, {users} users, {duration:g} s against {host}")
    with open(raw / f"{phase}_locust.log", "w") as out:
        subprocess.run(
            pinned(core, argv),
            env={**os.environ, "API_KEY": API_KEY},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=duration + 120,
            check=False,
        )
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"Locust wrote no statistics; see {raw / f'{phase}_locust.log'}")
    result = read_locust(prefix)
    result.update(users=users, duration_s=duration, mix=mix, hit_ratio=hit_ratio, think=think)
    return result


# --- /metrics ----------------------------------------------------------------------------


def scrape(url: str) -> str:
    return http_get(url + "/metrics", headers=AUTH).decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and sorted labels."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def delta(before: dict[Any, float], after: dict[Any, float], name: str) -> dict[Any, float]:
    """``after - before`` of every sample called ``name``, by labels."""
    return {
        labels: value - before.get((sample, labels), 0.0)
        for (sample, labels), value in after.items()
        if sample == name
    }


def cache_counts(values: dict[Any, float]) -> dict[str, tuple[float, float]]:
    """Plugin -> (hits, lookups) from ``quipu_cache_requests_total`` samples."""
    out: dict[str, list[float]] = {}
    for labels, value in values.items():
        label = dict(labels)
        if label.get("result") == "bypass":
            continue
        acc = out.setdefault(label.get("plugin", "?"), [0.0, 0.0])
        acc[1] += value
        if label.get("result") == "hit":
            acc[0] += value
    return {plugin: (hits, total) for plugin, (hits, total) in out.items()}


class Sampler(threading.Thread):
    """Scrapes quipu's ``/metrics`` every few seconds during the mixed phase."""

    def __init__(self, url: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.url, self.interval = url, interval
        self.points: list[tuple[float, dict[str, tuple[float, float]]]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            with contextlib.suppress(Exception):
                counts = cache_counts(
                    {
                        labels: v
                        for (name, labels), v in samples(scrape(self.url)).items()
                        if name == "quipu_cache_requests_total"
                    }
                )
                self.points.append((time.time(), counts))
            self.stop_event.wait(self.interval)

    def series(self) -> list[dict[str, Any]]:
        """Hit ratio per plugin for each interval between two samples."""
        rows = []
        for (t0, c0), (t1, c1) in zip(self.points, self.points[1:], strict=False):
            for plugin, (hits, total) in c1.items():
                h0, n0 = c0.get(plugin, (0.0, 0.0))
                if total - n0 > 0:
                    rows.append(
                        {
                            "t": t1,
                            "plugin": plugin,
                            "ratio": (hits - h0) / (total - n0),
                            "lookups": total - n0,
                            "interval_s": t1 - t0,
                        }
                    )
        return rows


def metrics_summary(before: str, after: str) -> dict[str, Any]:
    """What changed in ``/metrics`` over the measured phases."""
    b, a = samples(before), samples(after)
    routes: dict[str, dict[str, float]] = {}
    counts = delta(b, a, "quipu_http_request_duration_seconds_count")
    sums = delta(b, a, "quipu_http_request_duration_seconds_sum")
    for labels, count in counts.items():
        if count:
            label = dict(labels)
            routes[f"{label['method']} {label['route']}"] = {
                "count": count,
                "mean_ms": sums.get(labels, 0.0) / count * 1000,
            }
    buckets: dict[str, list[tuple[float, float]]] = {}
    for labels, value in delta(b, a, "quipu_http_request_duration_seconds_bucket").items():
        label = dict(labels)
        route = f"{label['method']} {label['route']}"
        buckets.setdefault(route, []).append((float(label["le"]), value))
    for route, pairs in buckets.items():
        if route in routes:
            routes[route]["buckets"] = sorted(pairs)  # type: ignore[assignment]
    llm: dict[str, dict[str, float]] = {}
    llm_count = delta(b, a, "quipu_llm_request_duration_seconds_count")
    llm_sum = delta(b, a, "quipu_llm_request_duration_seconds_sum")
    for labels, count in llm_count.items():
        if count:
            plugin = dict(labels).get("plugin", "?")
            entry = llm.setdefault(plugin, {"calls": 0.0, "seconds": 0.0})
            entry["calls"] += count
            entry["seconds"] += llm_sum.get(labels, 0.0)
    tokens: dict[str, float] = {}
    for labels, value in delta(b, a, "quipu_llm_tokens_total").items():
        kind = dict(labels).get("kind", "?")
        tokens[kind] = tokens.get(kind, 0.0) + value
    outcomes: dict[str, float] = {}
    for labels, value in delta(b, a, "quipu_llm_requests_total").items():
        if value:
            key = f"{dict(labels).get('plugin')}:{dict(labels).get('outcome')}"
            outcomes[key] = outcomes.get(key, 0.0) + value
    cost = sum(delta(b, a, "quipu_llm_cost_usd_total").values())
    cache = {
        plugin: {"hits": hits, "lookups": total, "ratio": hits / total if total else None}
        for plugin, (hits, total) in cache_counts(delta(b, a, "quipu_cache_requests_total")).items()
        if total
    }
    gc_pauses: dict[str, dict[str, float]] = {}
    gc_count = delta(b, a, "quipu_gc_pause_seconds_count")
    gc_sum = delta(b, a, "quipu_gc_pause_seconds_sum")
    gc_within = {
        dict(labels)["generation"]: value
        for labels, value in delta(b, a, "quipu_gc_pause_seconds_bucket").items()
        if dict(labels).get("le") == "0.001"
    }
    for labels, count in gc_count.items():
        generation = dict(labels).get("generation", "?")
        gc_pauses[generation] = {
            "count": count,
            "seconds": gc_sum.get(labels, 0.0),
            "over_1ms": count - gc_within.get(generation, 0.0),
        }
    return {
        "gc_pauses": gc_pauses,
        "routes": routes,
        "llm": llm,
        "llm_tokens": tokens,
        "llm_outcomes": outcomes,
        "llm_cost_usd": cost,
        "cache": cache,
    }


# --- warm-up -----------------------------------------------------------------------------


def post(url: str, body: dict[str, Any] | bytes, timeout: float = 60) -> tuple[int, dict[str, str]]:
    import urllib.error
    import urllib.request

    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=data, method="POST", headers={**AUTH, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def warm_up(quipu: str, bare: str, served: dict[str, bool], args: argparse.Namespace) -> dict:
    """Prime the DTE pool and the indicators months; exercise each route once."""
    info: dict[str, Any] = {}
    for _ in range(200):
        http_get(quipu + "/health")
        http_get(bare + "/health")
    if served["dte"]:
        pool = payloads.dte_cached_pool(args.dte_pool, args.seed)
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as workers:
            statuses = list(workers.map(lambda b: post(quipu + "/api/ai/validate", b), pool))
        again = [post(quipu + "/api/ai/validate", body)[1] for body in pool[:20]]
        info["dte_pool"] = {
            "documents": len(pool),
            "status_codes": sorted({s for s, _ in statuses}),
            "seconds": round(time.perf_counter() - started, 1),
            "cache_status_on_repeat": sorted({h.get("cache-status", "-") for h in again}),
        }
        for body in pool[:50]:
            post(bare + "/api/ai/validate", body)
    if served["indicators"]:
        with ThreadPoolExecutor(8) as workers:
            list(
                workers.map(
                    lambda p: http_get(quipu + f"/api/payroll/indicators/{p}", headers=AUTH),
                    payloads.INDICATOR_PERIODS,
                )
            )
    return info


# --- LLM overhead ------------------------------------------------------------------------


def _emulator_span(records: list[dict[str, Any]]) -> float:
    """Milliseconds from the first emulator request's arrival to the last one's end."""
    start = min(r["received_at"] for r in records) * 1000
    end = max(r["received_at"] * 1000 + r["duration_ms"] for r in records)
    return end - start


def llm_overhead(quipu: str, emulator: Any, served: dict[str, bool], n: int) -> list[dict]:
    """Each LLM-backed endpoint, ``n`` requests one at a time, paired with the emulator log."""
    import httpx

    rng = random.Random(424242)
    cases: list[tuple[str, str, Any]] = []
    if served["dte"]:
        cases.append(("dte_uncached", "/api/ai/validate", lambda: payloads.dte_request(rng)))
    if served["batch"]:
        cases.append(("dte_batch", "/api/ai/validate/batch", lambda: payloads.batch_request(rng)))
    if served["payroll"]:
        cases.append(("payroll", "/api/payroll/validate", lambda: payloads.payroll_request(rng)))
    if served["chat"]:
        cases.append(("chat", "/api/chat/message", lambda: payloads.chat_message_request(rng)))
    if served["chat_stream"]:
        cases.append(
            ("chat_stream", "/api/chat/message/stream", lambda: payloads.chat_message_request(rng))
        )
    results = []
    with httpx.Client(base_url=quipu, headers=AUTH, timeout=60) as client:
        for key, path, make in cases:
            rows = []
            for _ in range(n):
                body = make()
                before = emulator.requests(limit=0)["count"]
                started = time.perf_counter()
                first = None
                if key == "chat_stream":
                    with client.stream("POST", path, json=body) as response:
                        status = response.status_code
                        for line in response.iter_lines():
                            if first is None and line.startswith("data:") and '"text"' in line:
                                first = (time.perf_counter() - started) * 1000
                else:
                    status = client.post(path, json=body).status_code
                client_ms = (time.perf_counter() - started) * 1000
                records: list[dict[str, Any]] = []
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    log_view = emulator.requests(limit=100)
                    records = [r for r in log_view["requests"] if r["seq"] > before]
                    if all(r["outcome"] != "pending" for r in records):
                        break
                    time.sleep(0.02)
                upstream = _emulator_span(records) if records else 0.0
                rows.append(
                    {
                        "status": status,
                        "client_ms": client_ms,
                        "emulator_ms": upstream,
                        "calls": len(records),
                        "overhead_ms": client_ms - upstream if records else None,
                        "first_text_ms": first,
                    }
                )
            results.append({"key": key, "path": path, "requests": rows})
    return results


# --- main --------------------------------------------------------------------------------


def batch_costs(env: dict[str, str], core: int | None, stack: Stack) -> list[dict[str, Any]]:
    """``POST /api/ai/validate/batch`` per document (the server's own time) at 1, 100 and
    500 documents of 1 line and 100 and 500 of 60 lines; each row says whether its answers
    equal single calls' (checked on the 100-document batch of each shape, every item).

    On a quipu of its own with ``ai_review = "off"``: the cost measured is the platform's
    and the rules' per document, not the emulator's 300 ms per review (the batch's AI
    reviews are the model's time, and the LLM overhead section measures quipu's share).
    """
    import tempfile

    import bench_batch

    folder = Path(tempfile.mkdtemp(prefix="quipu-perf-batch-"))
    config = folder / "platform.toml"
    config.write_text(bench_batch.CONFIG)
    server = Server.quipu("batch", {**env, "QUIPU_CONFIG": str(config)}, core)
    stack.add("batch server", server.stop)
    server.wait()
    rows = []
    for size, lines in ((1, 1), (100, 1), (500, 1), (100, 60), (500, 60)):
        row = bench_batch.measure(server.url, size, lines)
        if size == 100:
            documents = bench_batch._documents(size, lines)
            row["identical"] = bench_batch.identical_to_single_calls(server.url, documents)
        rows.append(row)
    checked = {r["lines"]: r["identical"] for r in rows if "identical" in r}
    for row in rows:
        row.setdefault("identical", checked.get(row["lines"], False))
    server.stop()
    return rows


def served_families(url: str) -> dict[str, bool]:
    paths = quick.served_paths(url)
    return {f: any(p in paths for p in FAMILY_PATHS[f]) for f in FAMILIES}


def environment(server_core: int | None, load_core: int | None) -> dict[str, Any]:
    def version(name: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as get

        try:
            return get(name)
        except PackageNotFoundError:
            return "-"

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    cpu = "-"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "server_core": server_core,
        "load_core": load_core,
        "taskset": bool(shutil.which("taskset")),
        "load_average": os.getloadavg()[0],
        "versions": {
            n: version(n)
            for n in ("quipu", "granian", "litestar", "msgspec", "locust", "redis", "anthropic")
        },
        "wrk": bool(shutil.which("wrk")),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parse_mix(args.mix)  # fail early on a typo
    out = args.out or ROOT / "perf" / "reports" / dt.date.today().isoformat()
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    server_core, load_core = cores()
    results: dict[str, Any] = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": environment(server_core, load_core),
    }
    started = time.monotonic()
    if server_core is None:
        log("warning: fewer than two cores: server and load generator share them")
    load = results["environment"]["load_average"]
    if load > 0.5 * (os.cpu_count() or 1):
        log(f"warning: load average {load:.2f} at start: other work is running, and ratios")
        log("         and latencies measured now are less trustworthy (the report says so)")

    from quipu.testing.emulator import EmulatorConfig, EmulatorProcess
    from quipu.testing.redis_server import RedisServer

    try:
        with Stack() as stack:
            redis = RedisServer()
            redis.start()
            stack.add("redis", lambda: redis.__exit__(None, None, None))
            pin_tree(redis._proc.pid if redis._proc else 0, load_core)
            emulator = EmulatorProcess(
                EmulatorConfig(
                    ttft_ms=args.ttft_ms, tokens_per_s=args.tokens_per_s, request_log_size=1000
                )
            )
            emulator.start()
            stack.add("emulator", emulator.stop)
            pin_tree(emulator._process.pid if emulator._process else 0, load_core)
            env = {
                "API_KEY": API_KEY,
                "REDIS_URL": redis.url,
                "ANTHROPIC_API_KEY": "perf-emulator",
                "ANTHROPIC_BASE_URL": emulator.url,
            }
            quipu = Server.quipu("quipu", env, server_core, workers=args.workers)
            stack.add("quipu", quipu.stop)
            bare = Server.factory("bare", "bare_app:create_app", {}, server_core)
            stack.add("bare", bare.stop)
            quipu.wait()
            bare.wait()
            log(f"quipu on {quipu.url}, bare on {bare.url}, emulator on {emulator.url}")
            served = served_families(quipu.url)
            results["served"] = served
            log("served: " + ", ".join(f"{f}={'yes' if s else 'NO'}" for f, s in served.items()))
            log("warm-up: priming the cached DTE pool and the indicators months")
            results["warmup"] = warm_up(quipu.url, bare.url, served, args)
            metrics_before = scrape(quipu.url)
            (raw / "metrics_before.prom").write_text(metrics_before)

            fast_mix = "health=1,dte=1" if served["dte"] else "health=1"
            phases: dict[str, Any] = {}
            for phase, host in (("baseline", bare.url), ("quipu", quipu.url)):
                phases[phase] = run_locust(
                    phase,
                    host,
                    raw,
                    users=args.fast_users,
                    duration=args.fast_duration,
                    mix=fast_mix,
                    hit_ratio=1.0,
                    think=args.fast_think_time,
                    args=args,
                    core=load_core,
                    expect_hits=phase == "quipu",
                )
            sampler = Sampler(quipu.url, args.sample_interval)
            sampler.start()
            emulator_before = emulator.requests(limit=0)["count"]
            metrics_mixed_before = scrape(quipu.url)
            phases["mixed"] = run_locust(
                "mixed",
                quipu.url,
                raw,
                users=args.users,
                duration=args.duration,
                mix=args.mix,
                hit_ratio=args.cache_hit_ratio,
                think=args.think_time,
                args=args,
                core=load_core,
                expect_hits=True,
            )
            sampler.stop_event.set()
            sampler.join(timeout=10)
            metrics_after = scrape(quipu.url)
            (raw / "metrics_after.prom").write_text(metrics_after)
            emulator_log = emulator.requests(limit=1000)
            calls = [
                r
                for r in emulator_log["requests"]
                if r["seq"] > emulator_before and r["outcome"] == "completed"
            ]
            results["phases"] = phases
            results["cache_series"] = sampler.series()
            results["metrics"] = metrics_summary(metrics_before, metrics_after)
            results["metrics_mixed"] = metrics_summary(metrics_mixed_before, metrics_after)
            results["emulator_mixed"] = {
                "calls": emulator_log["count"] - emulator_before,
                "sampled": len(calls),
                "mean_ms": sum(r["duration_ms"] for r in calls) / len(calls) if calls else None,
            }
            if served["batch"]:
                log("batch: ms per document (no-store), and answers equal to single calls")
                results["batch"] = batch_costs(env, server_core, stack)
            log("LLM overhead: LLM-backed requests one at a time, paired with the emulator")
            results["llm_overhead"] = llm_overhead(
                quipu.url, emulator, served, args.overhead_requests
            )
            if not args.no_quick:
                client = "wrk" if shutil.which("wrk") else "python"
                log(f"maximum throughput ({client}): /health and cached validation")
                servers = {"bare": bare, "quipu": quipu}
                results["quick"] = quick.run_probes(
                    servers,
                    duration=args.quick_duration,
                    warmup=0.5,
                    connections=32,
                    core=load_core,
                    client=client,
                    rounds=args.quick_rounds,
                )
                if not args.no_tracing:
                    log("tracing cost: off, on without exporter, on with OTLP")
                    sink = OtlpSink()
                    stack.add("otlp sink", sink.stop)
                    tracing_servers = {
                        "tracing off": Server.factory(
                            "tracing off", "quipu.app:create_app", env, server_core
                        ),
                        "tracing on, no exporter": Server.factory(
                            "tracing on, no exporter", "traced_app:create_app", env, server_core
                        ),
                        "tracing on, OTLP": Server.factory(
                            "tracing on, OTLP",
                            "quipu.app:create_app",
                            {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url},
                            server_core,
                        ),
                    }
                    for server in tracing_servers.values():
                        stack.add(server.name, server.stop)
                    for server in tracing_servers.values():
                        server.wait()
                    results["tracing"] = quick.run_probes(
                        tracing_servers,
                        duration=args.quick_duration,
                        warmup=0.5,
                        connections=32,
                        core=load_core,
                        client=client,
                        rounds=args.quick_rounds,
                    )
                    results["tracing"]["otlp_exports"] = sink.received
                    results["tracing"]["span_costs"] = quick.span_costs(server_core)
            results["quipu_log_tail"] = quipu.output()[-4000:]
    except KeyboardInterrupt:
        log("interrupted: everything started was stopped")
        return 130
    except Exception as exc:
        log(f"the run failed: {type(exc).__name__}: {exc}")
        return 2
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    verdict = write_report(out, results)
    kept = {**results, "phases": {k: {**v, "history": "see raw/<phase>_stats_history.csv"}
                                  for k, v in results["phases"].items()}}  # fmt: skip
    (raw / "results.json").write_text(json.dumps(kept, indent=2, default=str))
    log(f"report: {out / 'summary.md'} and {out / 'report.html'} ({results['elapsed_s']:.0f} s)")
    for line in verdict["lines"]:
        print(line)
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
