"""The perf report: ``summary.md`` and ``report.html`` from what :mod:`run` measured.

Both are written from the same tables, so they say the same thing; the HTML adds inline
SVG charts (:mod:`svg`). :func:`evaluate` decides the verdict: every audit target and each
of ours, at the chosen percentile, plus at most 1 % failed requests per endpoint; an
endpoint quipu does not serve yet is listed, not failed.
"""

from __future__ import annotations

import csv
import html
import json
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from endpoints import ENDPOINTS, Endpoint, parse_mix
from svg import (
    Bar,
    LatencyRow,
    Line,
    bar_chart,
    fmt_ms,
    fmt_ratio,
    fmt_rps,
    latency_chart,
    line_chart,
    text_width,
)

__all__ = ["evaluate", "platform_checks", "regenerate", "write_report"]

CACHED, HEALTH = "POST /api/ai/validate [cached]", "GET /health"


def _pkey(percentile: float) -> str:
    return {50: "p50_ms", 90: "p90_ms", 95: "p95_ms", 99: "p99_ms", 99.9: "p999_ms"}.get(
        percentile, "p99_ms"
    )


#: Durations, throughput and ratios look the same everywhere, charts included (svg.py).
_ms = fmt_ms


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "–"
    return fmt_ratio(a / b)


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus's ``histogram_quantile`` over cumulative ``(le, count)`` pairs, in ms."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    previous_le, previous_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return previous_le * 1000
            if count == previous_count:
                return le * 1000
            return (
                previous_le
                + (le - previous_le) * (rank - previous_count) / (count - previous_count)
            ) * 1000
        previous_le, previous_count = le, count
    return None


#: Endpoints fast enough for the histogram's buckets (0.5 ms to 100 ms: exact at 10 ms).
_SERVER_ROUTES = {
    "health": "GET /health",
    "dte_cached": "POST /api/ai/validate",
    "payroll": "POST /api/payroll/validate",
    "indicators": "GET /api/payroll/indicators/{period}",
}


def server_percentiles(results: dict[str, Any], key: str) -> tuple[float | None, float | None]:
    """p50 and p99 of an endpoint as quipu's own latency histogram saw it (mixed phase).

    Hits and AI reviews share ``/api/ai/validate``: hits are its fastest share ``h`` (from
    Locust's counts), so their quantile q is the route's ``q x h`` one.
    """
    routes = results.get("metrics_mixed", {}).get("routes", {})
    route = _SERVER_ROUTES.get(key)
    entry = routes.get(route) if route else None
    if route and entry is None:  # path template spelled without the converter
        entry = routes.get(route.replace(":str", ""))
    if not entry or "buckets" not in entry:
        return None, None
    buckets = [(float(le), float(n)) for le, n in entry["buckets"]]
    stats = results["phases"]["mixed"]["stats"]
    share = None
    if key == "dte_cached":
        hits = stats.get("POST /api/ai/validate [cached]", {}).get("count", 0)
        misses = stats.get("POST /api/ai/validate [uncached]", {}).get("count", 0)
        if not hits + misses:
            return None, None
        share = hits / (hits + misses)

    def at(q: float) -> float | None:
        return histogram_quantile(q if share is None else q * share, buckets)

    return at(0.5), at(0.99)


@dataclass
class Check:
    what: str
    target: str
    measured: str
    ok: bool
    value: float | None = None
    """The measured number, for the comparison with the previous report."""
    unit: str = ""
    """How ``value`` reads: ``ms``, ``req/s``, ``×`` or a plain count."""
    better: str = "lower"
    """Whether a ``lower`` or ``higher`` value is better."""
    skipped: str = ""
    """Why the check did not run (its phase was skipped by configuration): not a verdict."""


@dataclass
class Row:
    endpoint: Endpoint
    status: str  # measured | not served | not in mix | no data
    stats: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)


@dataclass
class Evaluation:
    rows: list[Row]
    checks: list[Check]
    percentile: float
    platform: list[Check] = field(default_factory=list)
    """The platform targets (:func:`platform_checks`), skipped ones included."""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def evaluate(results: dict[str, Any]) -> Evaluation:
    """Each endpoint against its targets, from the mixed phase."""
    config = results["config"]
    percentile = float(config["percentile"])
    key = _pkey(percentile)
    label = f"p{percentile:g}"
    mix = parse_mix(config["mix"])
    stats = results["phases"]["mixed"]["stats"]
    served = results["served"]
    rows, checks = [], []
    for endpoint in ENDPOINTS:
        entry = stats.get(endpoint.name)
        if not served.get(endpoint.family):
            rows.append(Row(endpoint, "not served"))
            continue
        if not mix.get(endpoint.family):
            rows.append(Row(endpoint, "not in mix"))
            continue
        if not entry or (not entry.get("count") and not entry.get("precise")):
            row = Row(endpoint, "no data")
            check = Check(endpoint.name, "measured", "no successful request", False)
            row.checks.append(check)
            rows.append(row)
            checks.append(check)
            continue
        row = Row(endpoint, "measured", entry)
        if endpoint.audit_ms is not None:
            value = entry.get(key, math.nan)
            row.checks.append(
                Check(
                    f"{endpoint.name}: audit",
                    f"{label} < {_ms(endpoint.audit_ms)}",
                    _ms(value),
                    value < endpoint.audit_ms,
                    value,
                    "ms",
                )
            )
        if endpoint.ours_ms is not None:
            # quipu's own p99 (its latency histogram, as the production alert reads it);
            # the client's includes the load generator sharing a core with the emulator.
            _, server = server_percentiles(results, endpoint.key)
            where = "server p99" if server is not None else "p99"
            value = server if server is not None else entry.get("p99_ms", math.nan)
            row.checks.append(
                Check(
                    f"{endpoint.name}: ours",
                    f"{where} < {_ms(endpoint.ours_ms)}",
                    f"{_ms(value)} (client p99 {_ms(entry.get('p99_ms'))})",
                    value < endpoint.ours_ms,
                    value,
                    "ms",
                )
            )
        if endpoint.request_type is None and entry.get("count"):
            ratio = entry["failures"] / entry["count"]
            limit = float(config["max_failure_ratio"])
            row.checks.append(
                Check(
                    f"{endpoint.name}: failures",
                    f"≤ {limit:.0%}",
                    f"{entry['failures']} of {entry['count']} ({ratio:.1%})",
                    ratio <= limit,
                )
            )
        checks.extend(row.checks)
        rows.append(row)
    platform = platform_checks(results)
    checks.extend(c for c in platform if not c.skipped)
    return Evaluation(rows, checks, percentile, platform)


# --- platform targets (issue 12): checks that fail the verdict ------------------------------

HEALTH_VS_BARE = 0.90
"""quipu's ``GET /health`` maximum throughput, at least this share of the bare route's."""
CACHED_VS_BARE = 0.70
"""A cached ``POST /api/ai/validate``, at least this share of the bare app's same route."""
CACHED_SERVER_P99_MS = 2.0
"""A cached validation's server p99 at the suite load (mixed phase)."""
BATCH_MS_PER_DOC = 0.25
"""A batch of 500 one-line documents, per document."""
OVERHEAD_P50_MS, OVERHEAD_P99_MS = 1.0, 3.0
"""What quipu adds around a model call (client latency minus the emulator's own time)."""
LOAD_PER_CORE = 0.5
"""A load average above this per core at start: other work was running."""

#: LLM-backed cases with an overhead target: the runner's case keys (today's and issue
#: 13's bench spelling) and the per-request field holding the overhead.
OVERHEAD_CASES = (
    ("validation review", ("dte_review", "dte_uncached"), "overhead_ms"),
    ("payroll review", ("payroll_review", "payroll"), "overhead_ms"),
    ("chat message", ("chat_message", "chat"), "overhead_ms"),
    ("stream TTFB", ("stream_ttfb", "chat_stream"), "ttfb_overhead_ms"),
)

#: Published overhead of other gateways, as gateway-anchors.md (B.6) cites it.
PUBLISHED_OVERHEAD = (
    ("Bifrost", 0.44),
    ("Portkey OSS 1.15.2", 2.37),
    ("LiteLLM 1.91.1", 4.34),
)
PUBLISHED_SOURCE = (
    "Independent: `cuihuan/llm-gateway-bench` `data/overhead.json` (2026-07); GitHub "
    "Actions; sequential, localhost mock OpenAI; 7 rounds × 25 requests; median of round "
    "medians; not a load test (a second run: 0.62 / 2.65 / —). Cited in "
    "/work/shared/reference/gateway-anchors.md, B.6."
)

#: A phase the runner skips by configuration: the ``config`` flag and its spelling.
_SKIP_FLAGS = {
    "quick": (("no_quick", "--no-quick"),),
    "batch": (("no_batch", "--no-batch"),),
    "llm_overhead": (("no_llm_overhead", "--no-llm-overhead"),),
}


def skipped_by_config(results: dict[str, Any], phase: str) -> str:
    """Why ``phase`` did not run, when the configuration said so; else ``""``."""
    config = results.get("config", {})
    for key, flag in _SKIP_FLAGS.get(phase, ()):
        if config.get(key):
            return f"skipped by configuration ({flag})"
    if phase == "llm_overhead" and config.get("overhead_requests") == 0:
        return "skipped by configuration (--overhead-requests 0)"
    return ""


def _quick_row(results: dict[str, Any], server: str, route: str) -> dict[str, Any] | None:
    for row in (results.get("quick") or {}).get("rows", []):
        if row.get("server") == server and row.get("route") == route:
            return dict(row)
    return None


def _errors(row: dict[str, Any]) -> float:
    return float(row.get("non_2xx", 0) or 0) + float(row.get("errors", 0) or 0)


def _throughput_check(
    results: dict[str, Any], what: str, route: str, floor: float, extra: str = ""
) -> Check:
    """quipu's maximum throughput on ``route`` over the bare app's (no error answers)."""
    target = f"≥ {fmt_ratio(floor)} bare"
    skipped = skipped_by_config(results, "quick")
    if skipped:
        return Check(what, target, skipped, True, unit="×", better="higher", skipped=skipped)
    quipu, bare = _quick_row(results, "quipu", route), _quick_row(results, "bare", route)
    if not quipu or not bare or not bare.get("rps"):
        return Check(what, target, "not measured", False, unit="×", better="higher")
    ratio = quipu["rps"] / bare["rps"]
    measured = f"{fmt_ratio(ratio)} ({fmt_rps(quipu['rps'])} vs {fmt_rps(bare['rps'])} req/s)"
    if extra:
        measured += f"; {extra}"
    errors = _errors(quipu) + _errors(bare)
    if errors:  # fast error answers (a 429, say) would flatter the ratio
        measured += f"; {errors:,.0f} answers were errors or not 2xx"
    return Check(what, target, measured, ratio >= floor and not errors, ratio, "×", "higher")


def _hits_check(results: dict[str, Any]) -> Check:
    what = "Cached validation: every timed answer a Cache-Status hit"
    skipped = skipped_by_config(results, "quick")
    if skipped:
        return Check(what, "all hits", skipped, True, unit="", skipped=skipped)
    row = _quick_row(results, "quipu", "cached validation")
    if not row or not isinstance(row.get("checked"), int | float):
        return Check(what, "all hits", "not measured (no Cache-Status count)", False)
    checked, missed = float(row["checked"]), float(row.get("non_hits", math.nan))
    if checked <= 0 or math.isnan(missed):
        return Check(what, "all hits", "not measured (no answer checked)", False)
    measured = (
        f"all {checked:,.0f} timed answers were hits"
        if not missed
        else f"{missed:,.0f} of {checked:,.0f} timed answers were not hits"
    )
    return Check(what, "all hits", measured, missed == 0, missed, "not hits")


def _server_p99_check(results: dict[str, Any]) -> Check:
    what = "Cached validation: server p99 at the suite load"
    target = f"< {_ms(CACHED_SERVER_P99_MS)}"
    mix = (results.get("config") or {}).get("mix")
    if mix and not parse_mix(mix).get("dte"):
        why = "skipped by configuration (--mix without dte)"
        return Check(what, target, why, True, unit="ms", skipped=why)
    try:
        _, p99 = server_percentiles(results, "dte_cached")
    except (KeyError, TypeError):
        p99 = None
    if p99 is None:
        return Check(what, target, "not measured", False, unit="ms")
    measured = f"{_ms(p99)} (mixed phase, quipu's latency histogram)"
    return Check(what, target, measured, p99 < CACHED_SERVER_P99_MS, p99, "ms")


def _batch_checks(results: dict[str, Any]) -> list[Check]:
    cost = "Batch: ms per document, 500 one-line documents"
    same = "Batch: answers identical to single calls"
    target = f"≤ {_ms(BATCH_MS_PER_DOC)}"
    skipped = skipped_by_config(results, "batch")
    if skipped:
        return [
            Check(cost, target, skipped, True, unit="ms", skipped=skipped),
            Check(same, "every shape", skipped, True, skipped=skipped),
        ]
    rows = results.get("batch")
    if not rows:
        return [
            Check(cost, target, "not measured", False, unit="ms"),
            Check(same, "every shape", "not measured", False),
        ]
    main = [r for r in rows if r.get("documents") == 500 and r.get("lines") == 1]
    if main:
        value = float(main[0]["ms_per_doc"])
        checks = [Check(cost, target, _ms(value), value <= BATCH_MS_PER_DOC, value, "ms")]
    else:
        checks = [Check(cost, target, "not measured (no 500 × 1-line row)", False, unit="ms")]
    different = [f"{r.get('documents')} × {r.get('lines')}" for r in rows if not r.get("identical")]
    checks.append(
        Check(
            same,
            "every shape",
            f"differ: {', '.join(different)}" if different else f"all {len(rows)} shapes",
            not different,
            float(len(different)),
            "differ",
        )
    )
    return checks


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (of 5 requests, p99 is the slowest one)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def overhead_samples(results: dict[str, Any]) -> dict[str, list[float]]:
    """Per target case, the overheads (ms) of its successful requests that called the LLM."""
    cases = {c.get("key"): c for c in results.get("llm_overhead") or []}
    found: dict[str, list[float]] = {}
    for name, keys, field_name in OVERHEAD_CASES:
        for key in keys:
            case = cases.get(key)
            if case is None:
                continue
            # issue 13's stream_ttfb rows already hold the first-byte overhead in overhead_ms
            column = "overhead_ms" if key == "stream_ttfb" else field_name
            values = [
                float(r[column])
                for r in case.get("requests", [])
                if r.get("status", 500) < 400 and r.get(column) is not None
            ]
            if values:
                found[name] = values
                break
    return found


def _overhead_checks(results: dict[str, Any]) -> list[Check]:
    target = f"p50 < {_ms(OVERHEAD_P50_MS)}, p99 < {_ms(OVERHEAD_P99_MS)}"
    skipped = skipped_by_config(results, "llm_overhead")
    checks = []
    samples = overhead_samples(results)
    for name, _, _ in OVERHEAD_CASES:
        what = f"LLM overhead: {name}"
        if skipped:
            checks.append(Check(what, target, skipped, True, unit="ms", skipped=skipped))
            continue
        values = samples.get(name)
        if not values:  # no data for this case: reported, not judged (see the brief)
            continue
        p50, p99 = _percentile(values, 50), _percentile(values, 99)
        checks.append(
            Check(
                what,
                target,
                f"p50 {_ms(p50)}, p99 {_ms(p99)} over {len(values)} requests",
                p50 < OVERHEAD_P50_MS and p99 < OVERHEAD_P99_MS,
                p50,
                "ms",
            )
        )
    return checks


def platform_checks(results: dict[str, Any]) -> list[Check]:
    """The platform's own targets: maximum throughput against the bare app, cached answers
    really cached and fast under load, batch cost per document, LLM overhead.

    A check whose phase was skipped by configuration is returned with ``skipped`` set (shown,
    not judged); one whose data is missing fails as "not measured".
    """
    bare_health = _quick_row(results, "bare", "health")
    cached = _quick_row(results, "quipu", "cached validation")
    extra = ""
    if bare_health and cached and bare_health.get("rps"):
        extra = f"{fmt_ratio(cached['rps'] / bare_health['rps'])} the bare GET /health"
    return [
        _throughput_check(
            results, "GET /health: maximum throughput vs bare", "health", HEALTH_VS_BARE
        ),
        _throughput_check(
            results,
            "Cached validation: maximum throughput vs bare",
            "cached validation",
            CACHED_VS_BARE,
            extra,
        ),
        _hits_check(results),
        _server_p99_check(results),
        *_batch_checks(results),
        *_overhead_checks(results),
    ]


def load_warning(results: dict[str, Any]) -> str:
    """A warning when the machine was busy at start, else ``""``."""
    env = results.get("environment", {})
    load, cores = env.get("load_average"), env.get("cores") or 1
    if load is None or load / cores <= LOAD_PER_CORE:
        return ""
    return (
        f"⚠️ Load average {load:.2f} at start on {cores} cores ({load / cores:.2f} per core, "
        f"above {LOAD_PER_CORE:g}): other work was running; ratios and latencies are less "
        "trustworthy."
    )


# --- tables in both formats --------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""

    def md(self) -> str:
        lines = [f"**{self.caption}**", ""] if self.caption else []
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.headers) + "|")
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in self.rows
        ]
        return "\n".join(lines)

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>" for r in self.rows
        )
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(text: str) -> str:
    escaped = html.escape(text)
    if text.startswith("✅"):
        return f'<span class="ok">{escaped}</span>'
    if text.startswith("❌"):
        return f'<span class="bad">{escaped}</span>'
    if text.startswith("⏭"):
        return f'<span class="skip">{escaped}</span>'
    return escaped


def _mark(ok: bool) -> str:
    return "✅ met" if ok else "❌ missed"


# --- sections ----------------------------------------------------------------------------


def _audit_table(ev: Evaluation, results: dict[str, Any]) -> Table:
    rows = []
    for row in ev.rows:
        e = row.endpoint
        target = _ms(e.audit_ms) if e.audit_ms else "–"
        if row.status != "measured":
            rows.append([e.name, target, "–", "–", "–", "–", "–", "–", row.status])
            continue
        s = row.stats
        verdicts = [c for c in row.checks if not c.what.endswith("failures")]
        failed = [c for c in row.checks if c.what.endswith("failures") and not c.ok]
        verdict = (
            "; ".join(_mark(c.ok) + f" ({c.target})" for c in verdicts) if verdicts else "reported"
        )
        if failed:
            verdict += f"; ❌ failures {failed[0].measured}"
        failures = f"{s.get('failures', 0)}" if e.request_type is None else "–"
        server50, server99 = server_percentiles(results, e.key)
        server = f"{_ms(server50)} / {_ms(server99)}" if server99 is not None else "–"
        rows.append(
            [
                e.name,
                target,
                _ms(s.get("p50_ms")),
                _ms(s.get("p95_ms")),
                _ms(s.get("p99_ms")),
                server,
                f"{s.get('count', 0):,}",
                failures,
                verdict,
            ]
        )
    return Table(
        ["Endpoint", "Audit target", "p50", "p95", "p99", "server p50 / p99", "Requests",
         "Failures", "Result"],
        rows,
    )  # fmt: skip


def _bare_table(results: dict[str, Any]) -> Table:
    phases = results["phases"]
    rows = []
    for name in (HEALTH, CACHED):
        q = phases["quipu"]["stats"].get(name)
        b = phases["baseline"]["stats"].get(name)
        if not q or not b:
            rows.append([name, "–", "–", "–", "–", "–", "–", "not served"])
            continue
        ok = q["p99_ms"] < 10
        rows.append(
            [
                name,
                _ms(q["p50_ms"]),
                _ms(q["p99_ms"]),
                _ms(b["p50_ms"]),
                _ms(b["p99_ms"]),
                _ratio(q["p50_ms"], b["p50_ms"]),
                _ratio(q["p99_ms"], b["p99_ms"]),
                _mark(ok),
            ]
        )
    return Table(
        ["Route", "quipu p50", "quipu p99", "bare p50", "bare p99", "p50 ratio", "p99 ratio",
         f"client p99 < {_ms(10)}"],
        rows,
    )  # fmt: skip


def _quick_table(quick: dict[str, Any], base: str) -> Table:
    rows_in = quick.get("rows", [])
    baseline = {r["route"]: r["rps"] for r in rows_in if r["server"] == base}
    rows = []
    for r in rows_in:
        hits = "–"
        if r.get("checked") and r["server"] != "bare":  # the bare app sends no Cache-Status
            hits = f"{r['checked'] - r.get('non_hits', 0):,.0f} of {r['checked']:,.0f}"
        rows.append(
            [
                r["label"],
                fmt_rps(r["rps"]),
                _ms(r["p50_ms"]),
                _ms(r["p99_ms"]),
                _ratio(r["rps"], baseline.get(r["route"])),
                f"{_errors(r):,.0f}",
                hits,
            ]
        )
    return Table(
        ["Server and route", "req/s", "p50", "p99", f"vs {base}", "errors", "Cache-Status hits"],
        rows,
    )


def _platform_table(ev: Evaluation) -> Table:
    rows = []
    for c in ev.platform:
        verdict = f"⏭ {c.skipped}" if c.skipped else _mark(c.ok)
        rows.append([c.what, c.target, c.measured, verdict])
    return Table(["Target", "Goal", "Measured", "Result"], rows)


def _published_table() -> Table:
    rows = [[name, _ms(ms)] for name, ms in PUBLISHED_OVERHEAD]
    return Table(
        ["Gateway", "published overhead (median)"],
        rows,
        "Published LLM gateway overheads, for comparison (source above)",
    )


def _batch_table(results: dict[str, Any]) -> Table | None:
    rows = results.get("batch")
    if not rows:
        return None
    out = []
    for r in rows:
        body = f"{r['body_kib']:,} KiB" if "body_kib" in r else "–"
        same = "✅ yes" if r.get("identical") else "❌ no"
        out.append([f"{r['documents']:,}", f"{r['lines']:,}", body, _ms(r["ms_per_doc"]), same])
    return Table(
        ["Documents", "Lines each", "Body", "per document", "Answers identical to single calls"],
        out,
    )


def _overhead(results: dict[str, Any]) -> tuple[Table, list[Bar]]:
    """Every LLM-backed case measured one request at a time; p50 and p99 are nearest-rank
    (as the targets read them: of 5 requests, p99 is the slowest)."""
    rows, bars = [], []
    for case in results.get("llm_overhead") or []:
        reqs = [r for r in case.get("requests", []) if r.get("status", 500) < 400]
        paired = [r for r in reqs if r.get("overhead_ms") is not None]
        if not reqs:
            rows.append([case["path"], "–", "–", "–", "–", "–", "all requests failed"])
            continue
        client = _percentile([r.get("client_ms", r.get("ms", math.nan)) for r in reqs], 50)
        if not paired:
            rows.append([case["path"], _ms(client), "–", "–", "–", "0", "no LLM call"])
            continue
        upstream = _percentile([r["emulator_ms"] for r in paired], 50)
        overheads = [r["overhead_ms"] for r in paired]
        overhead = _percentile(overheads, 50)
        calls = statistics.mean(r.get("calls", 0) for r in paired)
        rows.append(
            [
                case["path"],
                _ms(client),
                _ms(upstream),
                _ms(overhead),
                _ms(_percentile(overheads, 99)),
                f"{calls:.1f}",
                f"{len(paired)} of {len(case['requests'])} called the LLM",
            ]
        )
        ttfb = [r["ttfb_overhead_ms"] for r in paired if r.get("ttfb_overhead_ms") is not None]
        if ttfb:
            rows.append(
                [
                    f"{case['path']} (first byte)",
                    "–",
                    "–",
                    _ms(_percentile(ttfb, 50)),
                    _ms(_percentile(ttfb, 99)),
                    f"{calls:.1f}",
                    "first text event minus the emulator's first token",
                ]
            )
        bars.append(
            Bar(case["path"], [upstream, overhead], [f"emulator {_ms(upstream)}",
                                                    f"quipu {_ms(overhead)}"])
        )  # fmt: skip
    table = Table(
        ["Endpoint", "quipu (client) p50", "emulator p50", "overhead p50", "overhead p99",
         "LLM calls/request", "note"],
        rows,
    )  # fmt: skip
    return table, bars


def _cache_table(results: dict[str, Any]) -> Table:
    configured = float(results["config"]["cache_hit_ratio"])
    rows = []
    for plugin, c in sorted(results.get("metrics_mixed", {}).get("cache", {}).items()):
        expected = (
            f"{configured:.0%} of /api/ai/validate asks (batch items count as lookups too)"
            if plugin == "dte"
            else "–"
        )
        rows.append(
            [plugin, f"{c['lookups']:,.0f}", f"{c['hits']:,.0f}", f"{c['ratio']:.1%}", expected]
        )
    return Table(["Plugin", "Lookups", "Hits", "Hit ratio", "Configured"], rows)


def _tracing_table(results: dict[str, Any]) -> Table | None:
    tracing = results.get("tracing")
    if not tracing:
        return None
    return _quick_table(tracing, "tracing off")


def _throughput_table(results: dict[str, Any]) -> Table:
    stats = results["phases"]["mixed"]["stats"]
    rows = [
        [name, f"{s.get('count', 0):,}", fmt_rps(s.get("rps", 0)), _ms(s.get("mean_ms"))]
        for name, s in sorted(stats.items())
    ]
    return Table(["Request", "Count", "req/s", "mean"], rows)


# --- charts ------------------------------------------------------------------------------


def _charts(results: dict[str, Any], ev: Evaluation, bars: list[Bar]) -> list[tuple[str, str, str]]:
    """``(section title, caption, svg)`` of every chart there is data for."""
    charts: list[tuple[str, str, str]] = []
    latency_rows = []
    for row in ev.rows:
        if row.status != "measured":
            continue
        targets = []
        if row.endpoint.audit_ms:
            targets.append((row.endpoint.audit_ms, f"audit {_ms(row.endpoint.audit_ms)}"))
        if row.endpoint.ours_ms:
            targets.append((row.endpoint.ours_ms, f"ours {_ms(row.endpoint.ours_ms)}"))
        s = row.stats
        _, server = server_percentiles(results, row.endpoint.key)
        latency_rows.append(
            LatencyRow(
                row.endpoint.name,
                s["p50_ms"],
                s["p99_ms"],
                s.get("p90_ms"),
                targets,
                server_p99=server,
            )
        )
    if latency_rows:
        charts.append(
            (
                "Audit targets",
                "Latency per endpoint against the targets (mixed phase)",
                latency_chart(
                    latency_rows, title="Latency: p50, p90 and p99 (log scale)", width=980
                ),
            )
        )
    history = results["phases"]["mixed"].get("history")
    if isinstance(history, list) and history:  # results.json keeps a pointer to the CSV
        start = min(h["t"] for h in history)
        names = sorted({h["name"] for h in history if h["name"] != "Aggregated"})
        lines = [
            Line(name, [(h["t"] - start, h["rps"]) for h in history if h["name"] == name])
            for name in names
        ]
        total = [(h["t"] - start, h["rps"]) for h in history if h["name"] == "Aggregated"]
        lines.append(Line("all requests", total, dashed=True, color="#111827"))
        charts.append(
            (
                "Requests (mixed phase)",
                "Throughput over time (mixed phase)",
                line_chart(lines, title="Requests per second (Locust, 1 s)", y_label="req/s"),
            )
        )
    series = results.get("cache_series", [])
    if series:
        start = min(p["t"] for p in series)
        plugins = sorted({p["plugin"] for p in series})
        lines = [
            Line(
                plugin,
                [(p["t"] - start, p["ratio"] * 100) for p in series if p["plugin"] == plugin],
            )
            for plugin in plugins
        ]
        span = max(p["t"] for p in series) - start
        configured = float(results["config"]["cache_hit_ratio"]) * 100
        lines.append(
            Line(
                "configured (DTE validate)",
                [(0, configured), (span, configured)],
                dashed=True,
                color="#111827",
            )
        )
        charts.append(
            (
                "Cache",
                "Cache hit ratio (from /metrics, per sampling interval)",
                line_chart(lines, title="Cache hit ratio", y_label="%", y_max=100),
            )
        )
    if bars:
        charts.append(
            (
                "LLM overhead",
                "LLM overhead: quipu's latency minus the emulator's (median, one at a time)",
                bar_chart(
                    bars,
                    title="Where an LLM-backed request's time goes",
                    series=["emulator (the model)", "quipu's overhead"],
                    unit="ms",
                    stacked=True,
                ),
            )
        )
    ttfb = results["phases"]["mixed"]["stats"].get("chat ttfb")
    if ttfb:
        ttft = float(results["config"]["ttft_ms"])
        charts.append(
            (
                "Streaming: time to first byte",
                "Streaming chat: time to the first text event",
                bar_chart(
                    [
                        Bar(
                            "chat ttfb",
                            [ttfb["p50_ms"], ttfb["p90_ms"], ttfb["p99_ms"]],
                            [f"p50 {_ms(ttfb['p50_ms'])}", f"p90 {_ms(ttfb['p90_ms'])}",
                             f"p99 {_ms(ttfb['p99_ms'])}"],
                        )
                    ],
                    title=f"Time to first byte (emulator's first token after {_ms(ttft)})",
                    series=["p50", "p90", "p99"],
                    unit="ms",
                    marker=(1000, f"audit target {_ms(1000)}"),
                ),
            )
        )  # fmt: skip
    bare_bars = []
    for name in (HEALTH, CACHED):
        q = results["phases"]["quipu"]["stats"].get(name)
        b = results["phases"]["baseline"]["stats"].get(name)
        if q and b:
            bare_bars.append(Bar(f"{name} p50", [b["p50_ms"], q["p50_ms"]]))
            bare_bars.append(Bar(f"{name} p99", [b["p99_ms"], q["p99_ms"]]))
    if bare_bars:
        charts.append(
            (
                "Ours, and the bare Litestar baseline",
                "quipu against the bare Litestar baseline, same load",
                bar_chart(
                    bare_bars,
                    title="Latency at the same offered load",
                    series=["bare Litestar", "quipu"],
                    unit="ms",
                    marker=(10, f"ours: p99 < {_ms(10)}"),
                ),
            )
        )
    quick = results.get("quick")
    if quick and quick.get("rows"):
        rows = quick["rows"]
        servers = list(dict.fromkeys(r["server"] for r in rows))
        bare = {r["route"]: r["rps"] for r in rows if r["server"] == "bare"}
        groups: dict[str, Bar] = {}
        for r in rows:
            bar = groups.setdefault(r["route"], Bar(r["route"], [], []))
            note = f"{fmt_rps(r['rps'])} req/s"
            if r["server"] != "bare" and bare.get(r["route"]):
                note += f" ({fmt_ratio(r['rps'] / bare[r['route']])} bare)"
            bar.values.append(r["rps"])
            bar.notes.append(note)
        charts.append(
            (
                "Maximum throughput",
                "Maximum throughput, one worker",
                bar_chart(
                    list(groups.values()),
                    title="Requests per second at saturation",
                    series=servers,
                    unit="req/s",
                ),
            )
        )
    return charts


# --- against the previous report ---------------------------------------------------------


@dataclass
class Previous:
    """The report this one is compared with."""

    path: Path
    results: dict[str, Any] | None
    error: str = ""


def previous_report(out: Path, reports: Path | None = None) -> Previous | None:
    """The most recent other report under ``reports`` (default: ``out``'s parent), by
    directory name, that kept its ``raw/results.json``; ``None`` when there is none."""
    root = reports if reports is not None else out.parent
    if not root.is_dir():
        return None
    here = out.resolve()
    found = sorted(
        d
        for d in root.iterdir()
        if d.is_dir() and d.resolve() != here and (d / "raw" / "results.json").is_file()
    )
    if not found:
        return None
    try:
        loaded = json.loads((found[-1] / "raw" / "results.json").read_text())
    except (OSError, ValueError) as exc:
        return Previous(found[-1], None, f"{type(exc).__name__}: {exc}")
    return Previous(found[-1], loaded)


def _number(value: float | None, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if unit == "ms":
        return _ms(value)
    if unit == "×":
        return fmt_ratio(value)
    if unit == "req/s":
        return fmt_rps(value)
    return f"{value:,.0f} {unit}".strip()


def _delta(before: float | None, now: float | None, unit: str, better: str) -> list[str]:
    """``[previous, now, change]`` cells; the change says whether it is better or worse."""
    change = "–"
    if before is not None and now is not None and math.isfinite(before) and math.isfinite(now):
        if before:
            pct = (now - before) / abs(before) * 100
            if abs(pct) < 1:
                change = f"{pct:+.1f}% (same)"
            else:
                improved = (pct < 0) == (better == "lower")
                change = f"{pct:+.1f}% ({'better' if improved else 'worse'})"
        elif now == before:
            change = "same"
    return [_number(before, unit), _number(now, unit), change]


def _stats(results: dict[str, Any], phase: str) -> dict[str, Any]:
    return ((results.get("phases") or {}).get(phase) or {}).get("stats") or {}


def _comparison_tables(results: dict[str, Any], ev: Evaluation, prev: dict[str, Any]) -> list:
    tables = []
    now_mixed, prev_mixed = _stats(results, "mixed"), _stats(prev, "mixed")
    rows = []
    for endpoint in ENDPOINTS:
        a, b = prev_mixed.get(endpoint.name), now_mixed.get(endpoint.name)
        if not a or not b:
            continue
        rows.append(
            [
                endpoint.name,
                *_delta(a.get("p50_ms"), b.get("p50_ms"), "ms", "lower"),
                *_delta(a.get("p99_ms"), b.get("p99_ms"), "ms", "lower"),
            ]
        )
    if rows:
        tables.append(
            Table(
                ["Endpoint", "p50 before", "p50 now", "change", "p99 before", "p99 now",
                 "change"],
                rows,
                "Audit endpoints (mixed phase, client-side)",
            )
        )  # fmt: skip
    rows = []
    for name in (HEALTH, CACHED):

        def ratios(r: dict[str, Any], key: str, name: str = name) -> float | None:
            q, b = _stats(r, "quipu").get(name), _stats(r, "baseline").get(name)
            return q[key] / b[key] if q and b and b.get(key) else None

        before50, now50 = ratios(prev, "p50_ms"), ratios(results, "p50_ms")
        before99, now99 = ratios(prev, "p99_ms"), ratios(results, "p99_ms")
        if (before50 or before99) and (now50 or now99):
            rows.append(
                [
                    name,
                    *_delta(before50, now50, "×", "lower"),
                    *_delta(before99, now99, "×", "lower"),
                ]
            )
    if rows:
        tables.append(
            Table(
                ["Route", "p50 ratio before", "now", "change", "p99 ratio before", "now",
                 "change"],
                rows,
                "quipu over bare at the same offered load (latency ratio, lower is better)",
            )
        )  # fmt: skip
    before_quick = {r["label"]: r for r in (prev.get("quick") or {}).get("rows", [])}
    rows = []
    for r in (results.get("quick") or {}).get("rows", []):
        a = before_quick.get(r["label"])
        if a:
            rows.append(
                [
                    r["label"],
                    *_delta(a.get("rps"), r.get("rps"), "req/s", "higher"),
                    *_delta(a.get("p99_ms"), r.get("p99_ms"), "ms", "lower"),
                ]
            )
    if rows:
        tables.append(
            Table(
                ["Server and route", "req/s before", "now", "change", "p99 before", "now",
                 "change"],
                rows,
                "Maximum throughput",
            )
        )  # fmt: skip
    before_checks = {c.what: c for c in platform_checks(prev)}
    rows = []
    for c in ev.platform:
        a = before_checks.get(c.what) or Check(c.what, "", "", False, skipped="absent")

        def verdict(check: Check) -> str:
            if check.skipped == "absent":
                return "absent"
            if check.skipped:
                return "skipped"
            return "met" if check.ok else "not measured" if check.value is None else "missed"

        rows.append(
            [c.what, *_delta(a.value, c.value, c.unit, c.better), f"{verdict(a)} → {verdict(c)}"]
        )
    tables.append(
        Table(
            ["Target", "before", "now", "change", "result before → now"],
            rows,
            "Platform targets (the previous run judged by today's targets; LLM overhead: p50)",
        )
    )
    return tables


def _comparison(
    results: dict[str, Any], ev: Evaluation, previous: Previous | None, out_name: str
) -> tuple[str, list[Table]]:
    """The paragraph and tables of "Against the previous report"."""
    if previous is None:
        return "There is no other report with a `raw/results.json` to compare with.", []
    where = f"`{previous.path.name}`"
    if previous.results is None:
        return f"The previous report {where} could not be read ({previous.error}).", []
    env = previous.results.get("environment", {})
    text = (
        f"Compared with {where}: commit `{env.get('commit', '?')}`, run {env.get('date', '?')}"
        f", load average at start {env.get('load_average', math.nan):.2f}. Change = (now − "
        "before) / before; better or worse by what the row measures. Endpoints either "
        "report lacks are left out; a target the previous report did not check is absent."
    )
    if previous.path.name > out_name:
        text += " (That report's directory sorts after this one: it is the later of the two.)"
    if load_warning(previous.results):
        text += " ⚠️ The previous run started on a busy machine too: compare with care."
    try:
        tables = _comparison_tables(results, ev, previous.results)
    except (KeyError, TypeError, ValueError) as exc:  # an older format we cannot read
        return text + f" Its results could not be compared ({type(exc).__name__}: {exc}).", []
    return text, tables


# --- documents ---------------------------------------------------------------------------


Section = tuple[str, str, list[Table]]


def _sections(
    results: dict[str, Any], ev: Evaluation, previous: Previous | None = None, name: str = ""
) -> list[Section]:
    """``(title, paragraph, tables)`` in report order; ``name`` is this report's directory."""
    cfg = results["config"]
    mixed = results["phases"]["mixed"]
    quipu_fast = results["phases"]["quipu"]
    out: list[Any] = []
    out.append(
        (
            "Platform targets",
            "What the platform itself must reach (issue 12), checked like the audit's: "
            f"maximum throughput of `GET /health` ≥ {fmt_ratio(HEALTH_VS_BARE)} the bare route "
            f"and of a cached `POST /api/ai/validate` ≥ {fmt_ratio(CACHED_VS_BARE)} the bare "
            "app's same route (same worker count, no error answers), every timed cached answer "
            f"a `Cache-Status` hit, a cached validation's server p99 < {_ms(CACHED_SERVER_P99_MS)}"
            f" at the suite load (histogram buckets at 1 ms and 2.5 ms, interpolated), a batch "
            f"of 500 one-line documents ≤ {_ms(BATCH_MS_PER_DOC)} per document with answers "
            "identical to single calls, and what quipu adds around each model call (p50 < "
            f"{_ms(OVERHEAD_P50_MS)}, p99 < {_ms(OVERHEAD_P99_MS)}; nearest rank, so of 5 "
            "requests p99 is the slowest) for every LLM-backed case that was measured. A "
            "target whose phase was skipped by configuration is shown, not judged; one whose "
            "data is missing fails as not measured. Published gateway overheads: "
            + PUBLISHED_SOURCE,
            [_platform_table(ev), _published_table()],
        )
    )
    out.append(
        (
            "Audit targets",
            f"Mixed phase: {mixed['users']} Locust users for {mixed['duration_s']:g} s, mix "
            f"`{mixed['mix']}`, {float(cfg['cache_hit_ratio']):.0%} of DTE validations asking "
            f"for a cached document, think time {mixed['think']} s. Targets are checked at "
            f'p{ev.percentile:g}; percentiles are exact (recorded per request). "server" is '
            "the same from quipu's own latency histogram (arrival to last byte, interpolated "
            "between buckets as Prometheus does; fast routes only): the difference is the "
            "load generator's share, which shares its core with the emulator streaming "
            "tokens. Our 10 ms target is checked on quipu's own p99, as the production "
            "alert reads it; the audit's on the client's.",
            _audit_table(ev, results),
        )
    )
    out.append(
        (
            "Ours, and the bare Litestar baseline",
            f"Same Locust users, same offered load ({quipu_fast['users']} users, think time "
            f"{quipu_fast['think']} s, {quipu_fast['duration_s']:g} s) against the bare app "
            "(plain Litestar on the same Granian, no middleware, a pre-encoded body) and then "
            "quipu. Ratio = quipu / bare (1.00× = as fast as bare Litestar).",
            _bare_table(results),
        )
    )
    if results.get("quick"):
        q = results["quick"]
        out.append(
            (
                "Maximum throughput",
                f"One Granian worker each, `{q['client']}` with {q['connections']} keep-alive "
                f"connections for {q['duration_s']:g} s per route on the other core (median of "
                f"{q.get('rounds', 1)} interleaved rounds).",
                _quick_table(q, "bare"),
            )
        )
    batch = _batch_table(results)
    skipped = skipped_by_config(results, "batch")
    if batch is not None or skipped:
        out.append(
            (
                "Batch: cost per document",
                "`POST /api/ai/validate/batch` on quipu with `Cache-Control: no-store` (every "
                "document checked, none answered from the cache), median of a few rounds "
                "after a warm-up; each shape's answers compared item by item with single "
                "`POST /api/ai/validate` calls." + (f" Batch {skipped}." if skipped else ""),
                batch,
            )
        )
    ttfb = mixed["stats"].get("chat ttfb")
    if ttfb:
        out.append(
            (
                "Streaming: time to first byte",
                f"`chat ttfb` is the time from sending the request to the first `text` event "
                f"(the emulator sends its first token after {_ms(float(cfg['ttft_ms']))}): p50 "
                f"{_ms(ttfb['p50_ms'])}, p90 {_ms(ttfb['p90_ms'])}, p99 {_ms(ttfb['p99_ms'])} "
                f"over {ttfb.get('count') or '–'} streams.",
                None,
            )
        )
    overhead, _ = _overhead(results)
    if overhead.rows:
        out.append(
            (
                "LLM overhead",
                "Each LLM-backed endpoint, a few requests one at a time; for each, the "
                "emulator's own time for the calls it received during that request (first "
                "arrival to last end) is subtracted from the latency the client saw. Published "
                "gateway overheads are under Platform targets.",
                overhead,
            )
        )
    em = results.get("emulator_mixed") or {}
    llm = results.get("metrics_mixed", {}).get("llm", {})
    if llm:
        lines = [
            f"{plugin}: {v['calls']:.0f} calls, mean {_ms(v['seconds'] / v['calls'] * 1000)} "
            "as quipu timed them"
            for plugin, v in sorted(llm.items())
            if v["calls"]
        ]
        if em.get("mean_ms"):
            lines.append(f"emulator: mean {_ms(em['mean_ms'])} over its last {em['sampled']} calls")
        out.append(
            ("LLM calls under load (mixed phase, from /metrics)", "; ".join(lines) + ".", None)
        )
    out.append(
        (
            "Cache",
            "From `quipu_cache_requests_total` before and after the mixed phase (bypassed "
            "requests excluded).",
            _cache_table(results),
        )
    )
    tracing = _tracing_table(results)
    if tracing is not None:
        costs = results["tracing"].get("span_costs", {})
        note = ""
        if costs:
            note = (
                f" One `tracing.span()`: {_ms(costs['span_off_us'] / 1000)} with tracing off, "
                f"{_ms(costs['span_on_us'] / 1000)} on (made, ended, dropped)."
            )
        out.append(
            (
                "Tracing cost",
                "Maximum throughput of the same quipu with tracing off (no `OTEL_*`), on with "
                "every span made and dropped, and on exporting over OTLP/HTTP to a local sink "
                f"({results['tracing'].get('otlp_exports', 0)} export calls)." + note,
                tracing,
            )
        )
    text, tables = _comparison(results, ev, previous, name)
    out.append(("Against the previous report", text, tables))
    out.append(("Requests (mixed phase)", "", _throughput_table(results)))
    return [
        (title, text, [t for t in (table if isinstance(table, list) else [table]) if t])
        for title, text, table in out
    ]


def _headline(results: dict[str, Any], ev: Evaluation) -> list[str]:
    lines = []
    warning = load_warning(results)
    if warning:
        lines.append(warning)
    failed = [c for c in ev.checks if not c.ok]
    lines.append(
        f"**{'All targets met' if ev.ok else f'{len(failed)} target(s) missed'}** "
        f"({len(ev.checks)} checks)."
    )
    for c in failed:
        lines.append(f"- ❌ {c.what} ({c.target}): {c.measured}")
    not_served = [r.endpoint.name for r in ev.rows if r.status == "not served"]
    if not_served:
        lines.append(f"- Not served by this quipu yet (skipped): {', '.join(not_served)}.")
    for c in ev.platform:
        if c.skipped:
            lines.append(f"- ⏭ {c.what}: {c.skipped}, not judged.")
    return lines


def render_markdown(
    results: dict[str, Any], ev: Evaluation, previous: Previous | None = None, name: str = ""
) -> str:
    """``summary.md``: the same sections as the HTML, without charts."""
    env = results["environment"]
    cfg = results["config"]
    parts = [
        f"# quipu performance report, {env['date']}",
        "",
        f"Commit `{env['commit']}` · Python {env['python']} · {env['cpu']} · {env['cores']} "
        f"cores (server on core {env['server_core']}, load generator, Redis and emulator on "
        f"core {env['load_core']}) · load average at start {env['load_average']:.2f} · "
        f"quipu {cfg['workers']} Granian worker(s) · emulator {_ms(float(cfg['ttft_ms']))} "
        f"to first token, {float(cfg['tokens_per_s']):g} tokens/s · run took "
        f"{results.get('elapsed_s', 0):.0f} s. Reproduce with `make perf`.",
        "",
        "## Verdict",
        "",
        *(f"> {line}\n" if line.startswith("⚠️") else line for line in _headline(results, ev)),
    ]
    for title, text, tables in _sections(results, ev, previous, name):
        parts += ["", f"## {title}", ""]
        if text:
            parts += [text, ""]
        if tables:
            parts.append("\n\n".join(t.md() for t in tables))
        elif parts[-1] == "":
            parts.pop()
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    parts += [
        "",
        "## Files",
        "",
        "- `report.html`: this report with charts.",
        "- `raw/<phase>_stats.csv`, `_stats_history.csv`, `_failures.csv`: Locust's CSVs for "
        "the phases `baseline`, `quipu` and `mixed`; `raw/<phase>_precise.csv`: exact "
        "percentiles; `raw/metrics_before.prom`, `raw/metrics_after.prom`: quipu's `/metrics`; "
        "`raw/results.json`: everything above.",
        "",
        f"Versions: {versions}.",
        "",
    ]
    return "\n".join(parts)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1000px;
       margin: 2em auto; padding: 0 1em; color: #111827; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; }
th { background: #f9fafb; }
.ok { color: #15803d; } .bad { color: #b91c1c; font-weight: 600; } .skip { color: #6b7280; }
.warn { background: #fef3c7; border: 1px solid #f59e0b; padding: 8px 12px; font-weight: 600; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
figure { margin: 1em 0 2em; } figcaption { color: #4b5563; font-size: 13px; }
code { background: #f3f4f6; padding: 0 3px; }
"""


def render_html(
    results: dict[str, Any], ev: Evaluation, previous: Previous | None = None, name: str = ""
) -> str:
    """``report.html``: every section with its charts (inline SVG) and tables."""
    env = results["environment"]
    verdict, items = [], []
    for line in _headline(results, ev):
        if line.startswith("- "):
            items.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.startswith("⚠️"):
            verdict.append(f'<p class="warn">{html.escape(line)}</p>')
        else:
            verdict.append(f"<p>{html.escape(line.replace('**', ''))}</p>")
    if items:
        verdict.append(f"<ul>{''.join(items)}</ul>")
    _, bars = _overhead(results)
    body = [
        f"<h1>quipu performance report, {html.escape(env['date'])}</h1>",
        f"<p>Commit <code>{html.escape(env['commit'])}</code>, {html.escape(env['cpu'])}, "
        f"{env['cores']} cores: quipu and the bare app on core {env['server_core']}, "
        f"Locust, Redis and the emulator on core {env['load_core']}; load average at start "
        f"{env['load_average']:.2f}. Reproduce with <code>make perf</code>; the Markdown "
        "summary and raw CSVs are beside this file.</p>",
        f"<h2>Verdict</h2>{''.join(verdict)}",
    ]
    charts = _charts(results, ev, bars)
    for title, text, tables in _sections(results, ev, previous, name):
        body.append(f"<h2>{html.escape(title)}</h2>")
        if text:
            body.append(f"<p>{html.escape(text).replace('`', '')}</p>")
        for section, caption, chart in charts:
            if section == title:
                body.append(
                    f"<figure>{chart}<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
        body += [table.html() for table in tables]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>quipu performance report {html.escape(env['date'])}</title>"
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(
    out: Path, results: dict[str, Any], *, reports: Path | None = None
) -> dict[str, Any]:
    """Write both documents; returns ``{"ok": bool, "lines": [headline...]}``.

    The comparison is with the most recent other report under ``reports`` (default: the
    directory holding ``out``, i.e. ``perf/reports/``).
    """
    ev = evaluate(results)
    previous = previous_report(out, reports)
    (out / "summary.md").write_text(render_markdown(results, ev, previous, out.name))
    (out / "report.html").write_text(render_html(results, ev, previous, out.name))
    lines = [line.replace("**", "") for line in _headline(results, ev)]
    for row in ev.rows:
        if row.status == "measured":
            s = row.stats
            line = f"  {row.endpoint.name}: p50 {_ms(s.get('p50_ms'))}, p99 {_ms(s.get('p99_ms'))}"
            _, server = server_percentiles(results, row.endpoint.key)
            if server is not None:
                line += f" (server p99 {_ms(server)})"
            lines.append(line)
    return {"ok": ev.ok, "lines": lines}


# --- regenerating a report, and the self-check --------------------------------------------


def _history(raw: Path, phase: str) -> list[dict[str, Any]]:
    """Locust's per-second history, which ``results.json`` keeps only as a pointer."""
    path = raw / f"{phase}_stats_history.csv"
    if not path.is_file():
        return []

    def number(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return math.nan

    with path.open(newline="") as source:
        return [
            {
                "t": int(row["Timestamp"]),
                "users": int(row["User Count"] or 0),
                "name": row["Name"],
                "rps": number(row["Requests/s"]),
                "p50_ms": number(row["50%"]),
                "p99_ms": number(row["99%"]),
            }
            for row in csv.DictReader(source)
        ]


def regenerate(source: Path, out: Path | None = None, reports: Path | None = None) -> dict:
    """Write ``summary.md`` and ``report.html`` again from ``source/raw/results.json``."""
    results = json.loads((source / "raw" / "results.json").read_text())
    for phase, data in results.get("phases", {}).items():
        if not isinstance(data.get("history"), list):
            data["history"] = _history(source / "raw", phase)
    target = out or source
    target.mkdir(parents=True, exist_ok=True)
    return write_report(target, results, reports=reports)


def _sample() -> dict[str, Any]:
    """A small, complete ``results`` in which every target is met."""

    def stats(p50: float, p99: float) -> dict[str, Any]:
        return {
            "type": "GET",
            "count": 100,
            "failures": 0,
            "rps": 10.0,
            "mean_ms": p50,
            "p50_ms": p50,
            "p90_ms": p99,
            "p95_ms": p99,
            "p99_ms": p99,
            "precise": 1,
        }

    def quick(server: str, route: str, rps: float, **extra: float) -> dict[str, Any]:
        label = f"{server} {'GET /health' if route == 'health' else route}"
        return {
            "label": label,
            "server": server,
            "route": route,
            "rps": rps,
            "p50_ms": 1.0,
            "p99_ms": 3.0,
            "non_2xx": 0.0,
            "errors": 0.0,
            **extra,
        }

    overhead = [
        {
            "status": 200,
            "client_ms": 1400.5,
            "emulator_ms": 1400.0,
            "calls": 1,
            "overhead_ms": ms,
            "first_text_ms": None,
        }
        for ms in (0.5, 0.6, 0.7, 0.8, 0.9)
    ]
    return {
        "config": {
            "percentile": 99,
            "mix": "health=1,dte=1",
            "cache_hit_ratio": 0.8,
            "max_failure_ratio": 0.01,
            "ttft_ms": 300,
            "tokens_per_s": 60,
            "workers": 1,
            "overhead_requests": 5,
        },
        "environment": {
            "date": "2026-12-03 09:00 UTC",
            "commit": "abc1234",
            "python": "3.11",
            "cpu": "test",
            "cores": 2,
            "server_core": 1,
            "load_core": 0,
            "load_average": 0.2,
            "versions": {},
        },
        "served": {"health": True, "dte": True},
        "phases": {
            "baseline": {"stats": {HEALTH: stats(0.5, 1.4), CACHED: stats(0.7, 1.6)}},
            "quipu": {
                "stats": {HEALTH: stats(0.6, 1.5), CACHED: stats(0.8, 1.9)},
                "users": 20,
                "think": "0.05,0.15",
                "duration_s": 20,
            },
            "mixed": {
                "stats": {
                    HEALTH: stats(0.9, 5.0),
                    CACHED: stats(1.2, 8.0),
                    "POST /api/ai/validate [uncached]": stats(1400, 1420),
                },
                "history": [],
                "users": 40,
                "duration_s": 75,
                "mix": "health=1,dte=1",
                "think": "0.5,1.5",
            },
        },
        "metrics_mixed": {
            "routes": {
                "POST /api/ai/validate": {
                    "count": 100,
                    "buckets": [[0.0005, 0.0], [0.001, 98.0], [0.0025, 100.0]],
                }
            }
        },
        "quick": {
            "client": "wrk",
            "connections": 32,
            "duration_s": 3,
            "rounds": 2,
            "rows": [
                quick("bare", "health", 10000),
                quick("quipu", "health", 9500),
                quick("bare", "cached validation", 8000, non_hits=1000, checked=1000),
                quick("quipu", "cached validation", 6000, non_hits=0, checked=1000),
            ],
        },
        "batch": [
            {"documents": 500, "lines": 1, "ms_per_doc": 0.2, "identical": True},
            {"documents": 500, "lines": 60, "ms_per_doc": 0.9, "identical": True},
        ],
        "llm_overhead": [{"key": "dte_uncached", "path": "/api/ai/validate", "requests": overhead}],
    }


def _text_boxes(svg: str) -> list[tuple[float, float, float, float, str]]:
    """The estimated box of every unrotated ``<text>`` of a chart."""
    boxes = []
    for match in re.finditer(r"<text ([^>]*)>([^<]*)</text>", svg):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))
        if "transform" in attrs:
            continue
        text = html.unescape(match.group(2))
        size = float(attrs.get("font-size", 12))
        w, x, y = text_width(text, size), float(attrs["x"]), float(attrs["y"])
        left = {"start": x, "middle": x - w / 2, "end": x - w}[attrs["text-anchor"]]
        boxes.append((left, y - size * 0.8, left + w, y + size * 0.2, text))
    return boxes


def overlapping_labels(svg: str) -> list[tuple[str, str]]:
    """Pairs of chart labels whose estimated boxes intersect, and labels that run off the
    chart (paired with ``"<edge>"``): none, in a good chart."""
    boxes, found = _text_boxes(svg), []
    size = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    if size:
        width, height = float(size.group(1)), float(size.group(2))
        found += [("<edge>", b[4]) for b in boxes if b[0] < 0 or b[2] > width or b[3] > height]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                found.append((a[4], b[4]))
    return found


def selftest() -> int:
    """Checks of the verdict, the formats, the comparison and the charts on made-up data."""
    import copy
    import tempfile

    failures: list[str] = []

    def expect(condition: bool, what: str) -> None:
        if not condition:
            failures.append(what)

    for value, text in (
        (0.000233, "0.233 µs"),
        (0.947, "947 µs"),
        (1.0, "1.00 ms"),
        (10, "10.0 ms"),
        (999.7, "1.00 s"),
        (1412.2, "1.41 s"),
        (None, "–"),
    ):
        expect(fmt_ms(value) == text, f"fmt_ms({value}) == {text!r}, got {fmt_ms(value)!r}")
    expect(fmt_rps(19063.34) == "19,063", "fmt_rps has thousands separators, no decimals")
    expect(fmt_rps(0.27) == "< 1" and fmt_rps(0) == "0", "fmt_rps: a rare request is not 0")
    expect(fmt_ratio(0.6) == "0.60×", "fmt_ratio has two decimals and ×")

    base = _sample()
    ev = evaluate(base)
    expect(ev.ok, f"the sample meets every target: {[c for c in ev.checks if not c.ok]}")
    expect(len(ev.platform) == 7, f"7 platform checks on the sample, got {len(ev.platform)}")

    def failed(results: dict[str, Any]) -> dict[str, str]:
        return {c.what: c.measured for c in evaluate(results).checks if not c.ok}

    slow = copy.deepcopy(base)
    slow["quick"]["rows"][1]["rps"] = 8000
    expect("GET /health: maximum throughput vs bare" in failed(slow), "0.80× bare /health fails")
    errors = copy.deepcopy(base)
    errors["quick"]["rows"][3]["non_2xx"] = 10
    expect(
        "Cached validation: maximum throughput vs bare" in failed(errors),
        "error answers fail the throughput check",
    )
    missed = copy.deepcopy(base)
    missed["quick"]["rows"][3]["non_hits"] = 3
    expect(
        "Cached validation: every timed answer a Cache-Status hit" in failed(missed),
        "a non-hit fails the hits check",
    )
    uncounted = copy.deepcopy(base)
    del uncounted["quick"]["rows"][3]["checked"]
    hits = failed(uncounted).get("Cached validation: every timed answer a Cache-Status hit", "")
    expect(hits.startswith("not measured"), "no Cache-Status count: not measured")
    nobatch = copy.deepcopy(base)
    del nobatch["batch"]
    expect(
        failed(nobatch).get("Batch: ms per document, 500 one-line documents") == "not measured",
        "no batch results: not measured",
    )
    costly = copy.deepcopy(base)
    costly["batch"][0]["ms_per_doc"] = 0.3
    costly["batch"][1]["identical"] = False
    expect(len(failed(costly)) == 2, "0.3 ms per document and a differing shape both fail")
    busy = copy.deepcopy(base)
    busy["llm_overhead"][0]["requests"][4]["overhead_ms"] = 3.5
    expect("LLM overhead: validation review" in failed(busy), "a 3.5 ms p99 overhead fails")
    skipped = copy.deepcopy(base)
    skipped["config"]["no_quick"] = True
    del skipped["quick"]
    ev_skipped = evaluate(skipped)
    expect(ev_skipped.ok, "--no-quick: the throughput checks are skipped, not failed")
    expect(
        sum(bool(c.skipped) for c in ev_skipped.platform) == 3,
        "--no-quick skips the two throughput checks and the hits check",
    )
    health_only = copy.deepcopy(base)
    health_only["config"]["mix"] = "health=1"
    p99 = next(c for c in evaluate(health_only).platform if "server p99" in c.what)
    expect(bool(p99.skipped), "a mix without dte skips the cached server p99 check")
    expect(not load_warning(base), "load 0.2 on 2 cores: no warning")
    loaded = copy.deepcopy(base)
    loaded["environment"]["load_average"] = 1.5
    expect(load_warning(loaded).startswith("⚠️"), "load 1.5 on 2 cores: a warning")

    with tempfile.TemporaryDirectory() as folder:
        reports = Path(folder)
        (reports / "2026-12-03").mkdir()
        write_report(reports / "2026-12-03", loaded)
        summary = (reports / "2026-12-03" / "summary.md").read_text()
        expect("other work was running" in summary, "the warning is in summary.md")
        expect("no other report" in summary, "no previous report: said so")
        (reports / "2026-12-01" / "raw").mkdir(parents=True)
        before = copy.deepcopy(base)
        before["quick"]["rows"][1]["rps"] = 5000
        before["environment"]["commit"] = "0ld0ld0"
        (reports / "2026-12-01" / "raw" / "results.json").write_text(json.dumps(before))
        write_report(reports / "2026-12-03", base)
        summary = (reports / "2026-12-03" / "summary.md").read_text()
        expect("`2026-12-01`" in summary and "`0ld0ld0`" in summary, "previous dir and commit")
        expect("| quipu GET /health | 5,000 | 9,500 | +90.0% (better) |" in summary, "a delta")
        expect(
            "| GET /health: maximum throughput vs bare | 0.50× | 0.95× | +90.0% (better) | "
            "missed → met |" in summary,
            "a platform target's delta",
        )
        page = (reports / "2026-12-03" / "report.html").read_text()
        charts = re.findall(r"<svg.*?</svg>", page, re.S)
        expect(len(charts) >= 3, f"charts in report.html, got {len(charts)}")
        crowded = latency_chart(
            [
                LatencyRow(
                    "POST /api/a/very/long/endpoint/name/that/goes/on [cached]",
                    1,
                    9,
                    5,
                    [(10, "ours 10.0 ms"), (12, "audit 12.0 ms"), (15, "x 15.0 ms")],
                    server_p99=8,
                )
            ],
            title="crowded",
        )
        for chart in [*charts, crowded]:
            clash = overlapping_labels(chart)
            expect(not clash, f"chart labels overlap: {clash[:3]}")
    for line in failures:
        print(f"FAILED: {line}")
    print(f"report self-check: {'ok' if not failures else f'{len(failures)} failed'}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Regenerate a perf report, or check report.py.")
    parser.add_argument("report", nargs="?", type=Path, help="a report directory with raw/")
    parser.add_argument("--out", type=Path, help="write there instead of in place")
    parser.add_argument("--reports", type=Path, help="where to look for the previous report")
    parser.add_argument("--selftest", action="store_true", help="check this module and exit")
    args = parser.parse_args(argv)
    if args.selftest:
        return selftest()
    if args.report is None:
        parser.error("give a report directory, or --selftest")
    verdict = regenerate(args.report, args.out, args.reports)
    print("\n".join(verdict["lines"]))
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    import sys

    sys.exit(main())
