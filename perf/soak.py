"""Soak: quipu under Granian at moderate load for a long run, with a fault every minute.

Starts its own Redis, the Anthropic emulator and ``quipu serve`` (the repository's
``platform.toml``: every plugin, the shipped rate limits), then for ``--duration`` seconds
(default 600) runs ``--clients`` asyncio clients over a mix of every endpoint family
(``perf/payloads.py``: DTE validations cached and new, batches, slips, indicators, chat
JSON and SSE), and every ``--fault-every`` seconds injects the next fault of the rotation:

1. ``redis-kill``: Redis killed, restarted 10 s later (same port);
2. ``llm-529``: every model call answers 529 (overloaded) for 10 s;
3. ``redis-freeze``: Redis frozen with SIGSTOP for 5 s (a slow Redis), then SIGCONT;
4. ``llm-timeout``: every model call hangs (10 s) for 10 s;
5. ``stream-cut``: every model stream is cut midway for 10 s.

Every ``--sample-every`` seconds it samples the RSS and open file descriptors of the quipu
processes (the Granian main process and each worker). It writes ``perf/reports/<date>/``:
``soak.md`` (what was held: memory and fd trend per process, start/end/max and slope after
the warm-up minute; every error classified as explained by an injected fault or not),
``soak_samples.csv``, ``soak_minutes.csv`` (requests per minute and outcome) and
``soak_errors.csv`` (every error with its classification) and ``soak_server.log`` (the
server's warnings and errors). Exit 1 when an error is
unexplained, a worker restarted, or memory or descriptors grow past the thresholds.

    .venv/bin/python perf/soak.py                  # 10 minutes
    .venv/bin/python perf/soak.py --duration 120   # a quick look

Not part of CI (it takes the run's duration plus ~20 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import signal
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402
import payloads  # noqa: E402
from harness import API_KEY, Server, Stack, _descendants  # noqa: E402

AUTH = {"Authorization": f"Bearer {API_KEY}"}
CHAT_ROUTES = ("/api/chat/message", "/api/chat/message/stream", "/api/chat")
#: Endpoint families and their weights in the mix.
MIX = {
    "health": 6,
    "dte_cached": 20,
    "dte_new": 8,
    "batch": 1,
    "payroll": 8,
    "indicators": 6,
    "chat": 3,
    "chat_stream": 3,
}
#: How long after a fault ends its effects may still show: the LLM breaker's cooldown
#: (30 s) plus a deadline; Redis's breaker probe and the health interval.
GRACE_S = {
    "redis-kill": 10.0,
    "redis-freeze": 10.0,
    "llm-529": 45.0,
    "llm-timeout": 45.0,
    "stream-cut": 45.0,
}
#: Which routes a fault may make fail. Redis faults must not fail validation, slips or
#: indicators (they degrade to the in-process cache); only the chat's sessions need Redis.
MAY_FAIL = {
    "redis-kill": CHAT_ROUTES,
    "redis-freeze": CHAT_ROUTES,
    "llm-529": CHAT_ROUTES,
    "llm-timeout": CHAT_ROUTES,
    "stream-cut": CHAT_ROUTES,
}
ROTATION = ("redis-kill", "llm-529", "redis-freeze", "llm-timeout", "stream-cut")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Outcome:
    t: float
    route: str
    status: int
    latency_s: float
    kind: str  # ok | degraded | error
    detail: str = ""


@dataclass
class Fault:
    name: str
    start: float
    end: float = 0.0


@dataclass
class Run:
    started: float = field(default_factory=time.monotonic)
    outcomes: list[Outcome] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    l1: list[tuple[float, float]] = field(default_factory=list)
    """(entries, bytes) of the in-process caches, summed over workers: start, end."""

    def now(self) -> float:
        return time.monotonic() - self.started


# --- load -------------------------------------------------------------------------------


def _pick(rng: random.Random) -> str:
    families = list(MIX)
    return rng.choices(families, weights=[MIX[f] for f in families])[0]


async def _request(
    client: httpx.AsyncClient, family: str, rng: random.Random, pool: list[Any]
) -> tuple[str, int, str, str]:
    """``(route, status, kind, detail)`` of one request of ``family``."""
    if family == "health":
        response = await client.get("/health")
        return "/health", response.status_code, "ok", ""
    if family in ("dte_cached", "dte_new"):
        body = rng.choice(pool) if family == "dte_cached" else payloads.dte_request(rng)
        response = await client.post("/api/ai/validate", json=body)
        kind = "ok"
        if (
            response.status_code == 200
            and response.json().get("ai", {}).get("status") == "unavailable"
        ):
            kind = "degraded"
        return (
            "/api/ai/validate",
            response.status_code,
            kind,
            response.json().get("ai", {}).get("reason", "")
            if response.status_code == 200
            else response.text[:200],
        )
    if family == "batch":
        response = await client.post(
            "/api/ai/validate/batch", json=payloads.batch_request(rng, size=5)
        )
        return (
            "/api/ai/validate/batch",
            response.status_code,
            "ok",
            "" if response.status_code == 200 else response.text[:200],
        )
    if family == "payroll":
        response = await client.post("/api/payroll/validate", json=payloads.payroll_request(rng))
        kind = "ok"
        if (
            response.status_code == 200
            and response.json().get("ai", {}).get("status") == "unavailable"
        ):
            kind = "degraded"
        return (
            "/api/payroll/validate",
            response.status_code,
            kind,
            "" if response.status_code == 200 else response.text[:200],
        )
    if family == "indicators":
        path = payloads.indicators_path(rng)
        response = await client.get(path)
        return (
            "/api/payroll/indicators/{period}",
            response.status_code,
            "ok",
            "" if response.status_code == 200 else response.text[:200],
        )
    if family == "chat":
        route = rng.choice(["/api/chat/message", "/api/chat"])
        body = (
            payloads.chat_message_request(rng)
            if route == "/api/chat/message"
            else payloads.chat_wizard_request(rng)
        )
        response = await client.post(route, json=body)
        return (
            route,
            response.status_code,
            "ok",
            "" if response.status_code == 200 else response.text[:200],
        )
    # chat_stream: read the events to the end; an ``error`` event is an error.
    route = "/api/chat/message/stream"
    last: dict[str, Any] = {}
    async with client.stream("POST", route, json=payloads.chat_message_request(rng)) as response:
        if response.status_code != 200:
            await response.aread()
            return route, response.status_code, "error", response.text[:200]
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                last = json.loads(line[6:])
    if last.get("type") != "done":
        return (
            route,
            200,
            "error",
            f"sse {last.get('type')}: {last.get('code', '')} {str(last.get('content', ''))[:120]}",
        )
    return route, 200, "ok", ""


async def client_loop(run: Run, url: str, seed: int, stop: asyncio.Event, pool: list[Any]) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=90.0) as client:
        while not stop.is_set():
            family = _pick(rng)
            started = time.monotonic()
            t = run.now()
            try:
                route, status, kind, detail = await _request(client, family, rng, pool)
            except (httpx.HTTPError, json.JSONDecodeError) as exc:
                route, status, kind, detail = (
                    family,
                    0,
                    "error",
                    f"{type(exc).__name__}: {exc}"[:200],
                )
            if status != 200 and kind != "error":
                kind = "error"
            run.outcomes.append(Outcome(t, route, status, time.monotonic() - started, kind, detail))
            await asyncio.sleep(rng.uniform(0.1, 0.3))


# --- faults and samples -----------------------------------------------------------------


async def inject(run: Run, name: str, redis: Any, emulator: Any) -> None:
    fault = Fault(name, run.now())
    run.faults.append(fault)
    log(f"fault: {name}")
    if name == "redis-kill":
        redis.stop()
        await asyncio.sleep(10)
        await asyncio.to_thread(redis.start)
    elif name == "redis-freeze":
        redis._proc.send_signal(signal.SIGSTOP)
        await asyncio.sleep(5)
        redis._proc.send_signal(signal.SIGCONT)
    else:
        kind = {"llm-529": "529", "llm-timeout": "timeout", "stream-cut": "stream-cut"}[name]
        await asyncio.to_thread(emulator.faults, {"fault": kind}, replace=True)
        await asyncio.sleep(10)
        await asyncio.to_thread(emulator.faults, replace=True)
    fault.end = run.now()
    log(f"fault: {name} over")


def _proc_status(pid: int) -> tuple[int, int] | None:
    """(RSS in KiB, open descriptors) of ``pid``, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return None
    return rss, fds


def _role(pid: int, root_pid: int) -> str | None:
    """``main`` (Granian's supervisor), ``worker`` (serves requests) or None (a helper such
    as multiprocessing's resource tracker, not quipu)."""
    if pid == root_pid:
        return "main"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    return None if "resource_tracker" in cmdline else "worker"


async def sampler(run: Run, root_pid: int, every_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = run.now()
        for pid in _descendants(root_pid):
            role = _role(pid, root_pid)
            found = _proc_status(pid) if role else None
            if found is None:
                continue
            run.samples.append(
                {"t_s": round(t, 1), "pid": pid, "role": role, "rss_kib": found[0], "fds": found[1]}
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


# --- analysis ---------------------------------------------------------------------------


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points (0 with fewer than two)."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def classify(run: Run) -> list[tuple[Outcome, str]]:
    """Every error with the fault that explains it, or ``UNEXPLAINED``."""
    result = []
    for outcome in run.outcomes:
        if outcome.kind != "error":
            continue
        reason = "UNEXPLAINED"
        for fault in run.faults:
            end = (fault.end or run.now()) + GRACE_S[fault.name]
            if fault.start - 1.0 <= outcome.t <= end and outcome.route in MAY_FAIL[fault.name]:
                reason = fault.name
                break
        result.append((outcome, reason))
    return result


def trend(run: Run, warmup_s: float) -> list[dict[str, Any]]:
    """Per process: RSS and descriptors at start (after warm-up), end, max, slope per minute."""
    by_pid: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for sample in run.samples:
        by_pid[sample["pid"]].append(sample)
    rows = []
    for pid, samples in sorted(by_pid.items()):
        steady = [s for s in samples if s["t_s"] >= warmup_s] or samples
        rss = [(s["t_s"] / 60, s["rss_kib"] / 1024) for s in steady]
        fds = [(s["t_s"] / 60, float(s["fds"])) for s in steady]
        half = steady[len(steady) // 2 :]
        rss_late = [(s["t_s"] / 60, s["rss_kib"] / 1024) for s in half]
        rows.append(
            {
                "pid": pid,
                "role": samples[0]["role"],
                "samples": len(samples),
                "first_s": samples[0]["t_s"],
                "last_s": samples[-1]["t_s"],
                "rss_start_mib": round(rss[0][1], 1),
                "rss_end_mib": round(rss[-1][1], 1),
                "rss_max_mib": round(max(r[1] for r in rss), 1),
                "rss_slope_mib_per_min": round(_slope(rss), 3),
                "rss_slope_late_mib_per_min": round(_slope(rss_late), 3),
                "fds_start": int(fds[0][1]),
                "fds_end": int(fds[-1][1]),
                "fds_max": int(max(f[1] for f in fds)),
                "fds_slope_per_min": round(_slope(fds), 3),
            }
        )
    return rows


def notable_lines(server_log: str, limit: int = 2000) -> str:
    """The server's warnings and errors (and Granian's own lines), at most ``limit``."""
    kept = []
    for line in server_log.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                if json.loads(line).get("level") in ("info", "debug"):
                    continue
        kept.append(line)
    return "\n".join(kept[-limit:]) + "\n"


def write_report(run: Run, out: Path, args: argparse.Namespace, server_log: str) -> bool:
    out.mkdir(parents=True, exist_ok=True)
    warmup_s = min(60.0, args.duration / 5)
    rows = trend(run, warmup_s)
    errors = classify(run)
    unexplained = [e for e in errors if e[1] == "UNEXPLAINED"]
    workers = [r for r in rows if r["role"] == "worker"]
    # A worker replaced mid-run shows up as a pid that starts late or ends early.
    restarts = [
        r
        for r in workers
        if r["first_s"] > warmup_s or r["last_s"] < run.samples[-1]["t_s"] - args.sample_every * 2
    ]
    rss_ok = all(
        r["rss_slope_late_mib_per_min"] <= args.max_rss_slope
        and r["rss_end_mib"] - r["rss_start_mib"] <= args.max_rss_growth
        for r in rows
    )
    fds_ok = all(r["fds_end"] - r["fds_start"] <= args.max_fd_growth for r in rows)
    ok = not unexplained and not restarts and rss_ok and fds_ok and bool(workers)
    if len(run.l1) == 2:
        (e0, b0), (e1, b1) = run.l1
        l1_note = f"L1 {e0:.0f} → {e1:.0f} entries, {b0 / 2**20:.1f} → {b1 / 2**20:.1f} MiB"
    else:
        l1_note = "L1 size not read"

    with (out / "soak_samples.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["t_s", "pid", "role", "rss_kib", "fds"])
        writer.writeheader()
        writer.writerows(run.samples)
    minutes: dict[int, Counter[str]] = defaultdict(Counter)
    for o in run.outcomes:
        minutes[int(o.t // 60)][o.kind] += 1
    with (out / "soak_minutes.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["minute", "requests", "ok", "degraded", "error", "faults_started"])
        for minute in sorted(minutes):
            c = minutes[minute]
            started = [x.name for x in run.faults if int(x.start // 60) == minute]
            writer.writerow(
                [minute, sum(c.values()), c["ok"], c["degraded"], c["error"], " ".join(started)]
            )
    with (out / "soak_errors.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["t_s", "route", "status", "latency_s", "explained_by", "detail"])
        for o, reason in errors:
            writer.writerow(
                [round(o.t, 2), o.route, o.status, round(o.latency_s, 3), reason, o.detail]
            )

    total = len(run.outcomes)
    explained_by = ", ".join(f"{k} {v}" for k, v in sorted(Counter(r for _, r in errors).items()))
    explained_by = explained_by or "none"
    kinds = Counter(o.kind for o in run.outcomes)
    by_route: dict[str, list[float]] = defaultdict(list)
    for o in run.outcomes:
        by_route[o.route].append(o.latency_s)
    lines = [
        f"# Soak, {date.today().isoformat()}",
        "",
        f"**Verdict: {'held' if ok else 'NOT held'}.** {args.duration / 60:.1f} minutes of "
        f"{args.clients} clients (think 0.1-0.3 s) against `quipu serve` ({args.workers} Granian "
        f"workers, the repository's `platform.toml`), real Redis, the Anthropic emulator "
        f"(first token {args.ttft_ms:g} ms, {args.tokens_per_s:g} tokens/s); a fault every "
        f"{args.fault_every:g} s; RSS and open descriptors sampled every {args.sample_every:g} s. "
        f"Command: `{' '.join(['.venv/bin/python perf/soak.py', *sys.argv[1:]])}`.",
        "",
        "## What was held",
        "",
        f"- **Errors**: {len(errors)} of {total} requests, every one explained by an injected "
        f"fault: {'yes' if not unexplained else f'NO, {len(unexplained)} unexplained'}. "
        f"Explained by fault: {explained_by}.",
        f"- **Degraded but answered** (200, AI review `unavailable`: the rules' verdict): "
        f"{kinds['degraded']}.",
        f"- **Memory** (after the {warmup_s:g} s warm-up): "
        + "; ".join(
            f"{r['role']} {r['pid']}: {r['rss_start_mib']} → {r['rss_end_mib']} MiB "
            f"(max {r['rss_max_mib']}, "
            f"slope {r['rss_slope_mib_per_min']:+.3f} MiB/min, second half "
            f"{r['rss_slope_late_mib_per_min']:+.3f})"
            for r in rows
        )
        + f". Threshold: second-half slope ≤ {args.max_rss_slope} MiB/min and growth ≤ "
        f"{args.max_rss_growth} MiB (the in-process cache fills first: {l1_note}): "
        f"{'held' if rss_ok else 'NOT held'}.",
        "- **Open file descriptors**: "
        + "; ".join(
            f"{r['role']} {r['pid']}: {r['fds_start']} → {r['fds_end']} (max {r['fds_max']}, "
            f"slope {r['fds_slope_per_min']:+.2f}/min)"
            for r in rows
        )
        + f". Threshold: growth ≤ {args.max_fd_growth}: {'held' if fds_ok else 'NOT held'}.",
        f"- **Workers**: {len(workers)}, restarted during the run: {len(restarts)}.",
        "",
        "## Faults injected",
        "",
        "| # | fault | start s | end s | errors it explains |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for n, fault in enumerate(run.faults, 1):
        explained = sum(
            1
            for o, reason in errors
            if reason == fault.name and fault.start - 1 <= o.t <= fault.end + GRACE_S[fault.name]
        )
        lines.append(f"| {n} | {fault.name} | {fault.start:.1f} | {fault.end:.1f} | {explained} |")
    lines += [
        "",
        "An error is *explained* when it happened from 1 s before a fault until the fault's "
        "grace after its end (Redis faults 10 s: breaker probe and health interval; model "
        "faults 45 s: the LLM breaker's 30 s cooldown plus a deadline) **and** on a route "
        "that fault may fail: only the chat routes (model calls, Redis sessions). A failed "
        "DTE validation, slip check, indicator read or health check is never explained: "
        "those must answer (degraded) through every fault.",
        "",
        "## Requests",
        "",
        "| route | requests | p50 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for route, lat in sorted(by_route.items()):
        lat.sort()
        p50, p99 = (lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 for q in (0.5, 0.99))
        lines.append(f"| `{route}` | {len(lat)} | {p50:.1f} | {p99:.1f} | {lat[-1] * 1000:.1f} |")
    if unexplained:
        lines += ["", "## Unexplained errors", ""]
        lines += [f"- t={o.t:.1f}s {o.route} {o.status}: {o.detail}" for o, _ in unexplained[:50]]
    lines += [
        "",
        "Files: `soak_samples.csv` (every sample), `soak_minutes.csv` (outcomes per minute), "
        "`soak_errors.csv` (every error and what explains it).",
        "",
    ]
    (out / "soak.md").write_text("\n".join(lines))
    (out / "soak_server.log").write_text(notable_lines(server_log))
    return ok


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--duration", type=float, default=600, help="seconds of load (default 600)")
    add("--fault-every", type=float, default=60, help="seconds between faults")
    add("--sample-every", type=float, default=5, help="seconds between RSS/fd samples")
    add("--clients", type=int, default=8, help="concurrent clients")
    add("--workers", type=int, default=2, help="quipu's Granian workers")
    add("--ttft-ms", type=float, default=100, help="emulator: time to first token")
    add("--tokens-per-s", type=float, default=200, help="emulator: output pacing")
    add("--max-rss-slope", type=float, default=1.0, help="MiB/min allowed after warm-up")
    add("--max-rss-growth", type=float, default=30.0, help="MiB allowed after warm-up")
    add("--max-fd-growth", type=int, default=10, help="descriptors allowed after warm-up")
    add("--out", type=Path, help="report directory (default perf/reports/<today>)")
    add("--seed", type=int, default=9)
    return parser.parse_args(argv)


async def l1_size(client: httpx.AsyncClient) -> tuple[float, float]:
    """``quipu_cache_l1_entries`` and ``quipu_cache_l1_bytes`` (summed over workers)."""
    text = (await client.get("/metrics")).text
    found = {"quipu_cache_l1_entries": 0.0, "quipu_cache_l1_bytes": 0.0}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.split("{")[0] in found:
            found[name.split("{")[0]] += float(value.split()[0])
    return found["quipu_cache_l1_entries"], found["quipu_cache_l1_bytes"]


async def soak(
    args: argparse.Namespace, run: Run, url: str, root_pid: int, redis: Any, emulator: Any
) -> None:
    pool = payloads.dte_cached_pool(40)
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=60.0) as warm:
        await asyncio.gather(*(warm.post("/api/ai/validate", json=body) for body in pool))
        run.l1.append(await l1_size(warm))
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(client_loop(run, url, args.seed + n, stop, pool))
        for n in range(args.clients)
    ]
    samples = asyncio.create_task(sampler(run, root_pid, args.sample_every, stop))
    faults = 0
    deadline = run.now() + args.duration
    next_fault = run.now() + args.fault_every
    while run.now() < deadline:
        if run.now() >= next_fault and run.now() + 15 < deadline:
            await inject(run, ROTATION[faults % len(ROTATION)], redis, emulator)
            faults += 1
            next_fault += args.fault_every
        await asyncio.sleep(0.5)
        if int(run.now()) % 60 == 0:
            errors = sum(o.kind == "error" for o in run.outcomes)
            log(f"{run.now():.0f} s: {len(run.outcomes)} requests, {errors} errors")
    stop.set()
    await asyncio.gather(*tasks)
    await samples
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30.0) as client:
        run.l1.append(await l1_size(client))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or HERE / "reports" / date.today().isoformat()
    from quipu.testing.emulator import EmulatorConfig, EmulatorProcess
    from quipu.testing.redis_server import RedisServer

    run = Run()
    with Stack() as stack:
        redis = RedisServer()
        redis.start()
        stack.add("redis", lambda: redis.__exit__(None, None, None))
        emulator = EmulatorProcess(
            EmulatorConfig(
                ttft_ms=args.ttft_ms, tokens_per_s=args.tokens_per_s, hang_s=10, retry_after_s=1
            )
        )
        emulator.start()
        stack.add("emulator", emulator.stop)
        env = {
            "API_KEY": API_KEY,
            "REDIS_URL": redis.url,
            "ANTHROPIC_API_KEY": "soak-emulator",
            "ANTHROPIC_BASE_URL": emulator.url,
        }
        quipu = Server.quipu("quipu", env, None, workers=args.workers)
        stack.add("quipu", quipu.stop)
        quipu.wait()
        log(f"quipu on {quipu.url} ({args.workers} workers), {args.duration:g} s of load")
        run.started = time.monotonic()
        asyncio.run(soak(args, run, quipu.url, quipu.proc.pid, redis, emulator))
        server_log = quipu.output()
    ok = write_report(run, out, args, server_log)
    log(f"report: {out / 'soak.md'} ({'held' if ok else 'NOT held'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
