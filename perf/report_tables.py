"""The perf report's tables: one :class:`Table` renders as Markdown and as HTML, so
``summary.md`` and ``report.html`` say the same thing; a builder per section."""

from __future__ import annotations

import html
import math
import statistics
from dataclasses import dataclass
from typing import Any

from report_targets import (
    CACHED,
    HEALTH,
    PUBLISHED_OVERHEAD,
    Evaluation,
    error_answers,
    nearest_rank,
    server_percentiles,
)
from svg import Bar, fmt_ms, fmt_ratio, fmt_rps

#: Durations, throughput and ratios look the same everywhere, charts included (svg.py).
_ms = fmt_ms


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "–"
    return fmt_ratio(a / b)


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


# --- a table per section ------------------------------------------------------------------


def audit_table(ev: Evaluation, results: dict[str, Any]) -> Table:
    """Each endpoint's client (and server) percentiles against its audit target."""
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


def bare_table(results: dict[str, Any]) -> Table:
    """quipu against the bare app at the same offered load, route by route."""
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


def quick_table(quick: dict[str, Any], base: str) -> Table:
    """Maximum throughput per server and route, as a ratio of ``base``'s same route."""
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
                f"{error_answers(r):,.0f}",
                hits,
            ]
        )
    return Table(
        ["Server and route", "req/s", "p50", "p99", f"vs {base}", "errors", "Cache-Status hits"],
        rows,
    )


def platform_table(ev: Evaluation) -> Table:
    """The platform targets and their results; a skipped one says why."""
    rows = []
    for c in ev.platform:
        verdict = f"⏭ {c.skipped}" if c.skipped else _mark(c.ok)
        rows.append([c.what, c.target, c.measured, verdict])
    return Table(["Target", "Goal", "Measured", "Result"], rows)


def published_table() -> Table:
    """Other gateways' published LLM overheads, for comparison."""
    rows = [[name, _ms(ms)] for name, ms in PUBLISHED_OVERHEAD]
    return Table(
        ["Gateway", "published overhead (median)"],
        rows,
        "Published LLM gateway overheads, for comparison (source above)",
    )


def batch_table(results: dict[str, Any]) -> Table | None:
    """Batch cost per document for each shape measured; ``None`` when none was."""
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


def overhead_table(results: dict[str, Any]) -> tuple[Table, list[Bar]]:
    """Every LLM-backed case measured one request at a time; p50 and p99 are nearest-rank
    (as the targets read them: of 5 requests, p99 is the slowest)."""
    rows, bars = [], []
    for case in results.get("llm_overhead") or []:
        reqs = [r for r in case.get("requests", []) if r.get("status", 500) < 400]
        paired = [r for r in reqs if r.get("overhead_ms") is not None]
        if not reqs:
            rows.append([case["path"], "–", "–", "–", "–", "–", "all requests failed"])
            continue
        client = nearest_rank([r.get("client_ms", r.get("ms", math.nan)) for r in reqs], 50)
        if not paired:
            rows.append([case["path"], _ms(client), "–", "–", "–", "0", "no LLM call"])
            continue
        upstream = nearest_rank([r["emulator_ms"] for r in paired], 50)
        overheads = [r["overhead_ms"] for r in paired]
        overhead = nearest_rank(overheads, 50)
        calls = statistics.mean(r.get("calls", 0) for r in paired)
        rows.append(
            [
                case["path"],
                _ms(client),
                _ms(upstream),
                _ms(overhead),
                _ms(nearest_rank(overheads, 99)),
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
                    _ms(nearest_rank(ttfb, 50)),
                    _ms(nearest_rank(ttfb, 99)),
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


def cache_table(results: dict[str, Any]) -> Table:
    """Lookups, hits and hit ratio per plugin's cache (mixed phase, from ``/metrics``)."""
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


def tracing_table(results: dict[str, Any]) -> Table | None:
    """Maximum throughput with tracing off and on; ``None`` when not measured."""
    tracing = results.get("tracing")
    if not tracing:
        return None
    return quick_table(tracing, "tracing off")


def throughput_table(results: dict[str, Any]) -> Table:
    """Count, rate and mean latency of every request name (mixed phase)."""
    stats = results["phases"]["mixed"]["stats"]
    rows = [
        [name, f"{s.get('count', 0):,}", fmt_rps(s.get("rps", 0)), _ms(s.get("mean_ms"))]
        for name, s in sorted(stats.items())
    ]
    return Table(["Request", "Count", "req/s", "mean"], rows)
