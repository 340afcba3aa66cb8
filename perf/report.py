"""The perf report: ``summary.md`` and ``report.html`` from what :mod:`run` measured.

Both are written from the same tables, so they say the same thing; the HTML adds inline
SVG charts (:mod:`svg`). :func:`evaluate` decides the verdict: every audit target and each
of ours, at the chosen percentile, plus at most 1 % failed requests per endpoint; an
endpoint quipu does not serve yet is listed, not failed.
"""

from __future__ import annotations

import html
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from endpoints import ENDPOINTS, Endpoint, parse_mix
from svg import Bar, LatencyRow, Line, bar_chart, latency_chart, line_chart

__all__ = ["evaluate", "write_report"]

CACHED, HEALTH = "POST /api/ai/validate [cached]", "GET /health"


def _pkey(percentile: float) -> str:
    return {50: "p50_ms", 90: "p90_ms", 95: "p95_ms", 99: "p99_ms", 99.9: "p999_ms"}.get(
        percentile, "p99_ms"
    )


def _ms(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.2f} ms"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "–"
    return f"{a / b:.2f}×"


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
    return Evaluation(rows, checks, percentile)


# --- tables in both formats --------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]

    def md(self) -> str:
        lines = ["| " + " | ".join(self.headers) + " |"]
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
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(text: str) -> str:
    escaped = html.escape(text)
    if text.startswith("✅"):
        return f'<span class="ok">{escaped}</span>'
    if text.startswith("❌"):
        return f'<span class="bad">{escaped}</span>'
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
         "client p99 < 10 ms"],
        rows,
    )  # fmt: skip


def _quick_table(quick: dict[str, Any], base: str) -> Table:
    rows_in = quick.get("rows", [])
    baseline = {r["route"]: r["rps"] for r in rows_in if r["server"] == base}
    rows = []
    for r in rows_in:
        rows.append(
            [
                r["label"],
                f"{r['rps']:,.0f}",
                _ms(r["p50_ms"]),
                _ms(r["p99_ms"]),
                _ratio(r["rps"], baseline.get(r["route"])),
                f"{r['non_2xx'] + r['errors']:.0f}",
            ]
        )
    return Table(["Server and route", "req/s", "p50", "p99", f"vs {base}", "errors"], rows)


def _overhead(results: dict[str, Any]) -> tuple[Table, list[Bar]]:
    rows, bars = [], []
    for case in results.get("llm_overhead", []):
        reqs = [r for r in case["requests"] if r["status"] < 400]
        paired = [r for r in reqs if r["overhead_ms"] is not None]
        if not reqs:
            rows.append([case["path"], "–", "–", "–", "–", "–", "all requests failed"])
            continue
        client = statistics.median(r["client_ms"] for r in reqs)
        if not paired:
            rows.append([case["path"], _ms(client), "–", "–", "–", "0", "no LLM call"])
            continue
        upstream = statistics.median(r["emulator_ms"] for r in paired)
        overhead = statistics.median(r["overhead_ms"] for r in paired)
        worst = max(r["overhead_ms"] for r in paired)
        calls = statistics.mean(r["calls"] for r in paired)
        rows.append(
            [
                case["path"],
                _ms(client),
                _ms(upstream),
                _ms(overhead),
                _ms(worst),
                f"{calls:.1f}",
                f"{len(paired)} of {len(case['requests'])} called the LLM",
            ]
        )
        bars.append(
            Bar(case["path"], [upstream, overhead], [f"emulator {_ms(upstream)}",
                                                    f"quipu {_ms(overhead)}"])
        )  # fmt: skip
    table = Table(
        ["Endpoint", "quipu (client) p50", "emulator p50", "overhead p50", "overhead max",
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
        [name, f"{s.get('count', 0):,}", f"{s.get('rps', 0):.1f}", _ms(s.get("mean_ms"))]
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
    history = results["phases"]["mixed"]["history"]
    if history:
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
                    title=f"Time to first byte (emulator's first token after {ttft:g} ms)",
                    series=["p50", "p90", "p99"],
                    unit="ms",
                    marker=(1000, "audit target 1 s"),
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
                    marker=(10, "ours: p99 < 10 ms"),
                ),
            )
        )
    quick = results.get("quick")
    if quick and quick.get("rows"):
        groups: dict[str, list[float]] = {}
        for r in quick["rows"]:
            groups.setdefault(r["route"], []).append(r["rps"])
        charts.append(
            (
                "Maximum throughput",
                "Maximum throughput, one worker",
                bar_chart(
                    [Bar(route, values) for route, values in groups.items()],
                    title="Requests per second at saturation",
                    series=[r["server"] for r in quick["rows"] if r["route"] == "health"],
                    unit="req/s",
                ),
            )
        )
    return charts


# --- documents ---------------------------------------------------------------------------


def _sections(results: dict[str, Any], ev: Evaluation) -> list[tuple[str, str, Any]]:
    """``(title, paragraph, table-or-None)`` in report order."""
    cfg = results["config"]
    mixed = results["phases"]["mixed"]
    quipu_fast = results["phases"]["quipu"]
    out: list[tuple[str, str, Any]] = []
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
    ttfb = mixed["stats"].get("chat ttfb")
    if ttfb:
        out.append(
            (
                "Streaming: time to first byte",
                f"`chat ttfb` is the time from sending the request to the first `text` event "
                f"(the emulator sends its first token after {float(cfg['ttft_ms']):g} ms): p50 "
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
                "arrival to last end) is subtracted from the latency the client saw.",
                overhead,
            )
        )
    em = results.get("emulator_mixed") or {}
    llm = results.get("metrics_mixed", {}).get("llm", {})
    if llm:
        lines = [
            f"{plugin}: {v['calls']:.0f} calls, mean {v['seconds'] / v['calls'] * 1000:.0f} ms "
            "as quipu timed them"
            for plugin, v in sorted(llm.items())
            if v["calls"]
        ]
        if em.get("mean_ms"):
            lines.append(
                f"emulator: mean {em['mean_ms']:.0f} ms over its last {em['sampled']} calls"
            )
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
                f" One `tracing.span()`: {costs['span_off_us'] * 1000:.0f} ns with tracing off, "
                f"{costs['span_on_us']:.1f} µs on (made, ended, dropped)."
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
    out.append(("Requests (mixed phase)", "", _throughput_table(results)))
    return out


def _headline(results: dict[str, Any], ev: Evaluation) -> list[str]:
    lines = []
    failed = [c for c in ev.checks if not c.ok]
    lines.append(
        f"**{'All targets met' if ev.ok else f'{len(failed)} target(s) missed'}** "
        f"({len(ev.checks)} checks)."
    )
    for c in failed:
        lines.append(f"- ❌ {c.what}: {c.target}, measured {c.measured}")
    not_served = [r.endpoint.name for r in ev.rows if r.status == "not served"]
    if not_served:
        lines.append(f"- Not served by this quipu yet (skipped): {', '.join(not_served)}.")
    return lines


def render_markdown(results: dict[str, Any], ev: Evaluation) -> str:
    env = results["environment"]
    cfg = results["config"]
    parts = [
        f"# quipu performance report, {env['date']}",
        "",
        f"Commit `{env['commit']}` · Python {env['python']} · {env['cpu']} · {env['cores']} "
        f"cores (server on core {env['server_core']}, load generator, Redis and emulator on "
        f"core {env['load_core']}) · load average at start {env['load_average']:.2f} · "
        f"quipu {cfg['workers']} Granian worker(s) · emulator {float(cfg['ttft_ms']):g} ms "
        f"to first token, {float(cfg['tokens_per_s']):g} tokens/s · run took "
        f"{results.get('elapsed_s', 0):.0f} s. Reproduce with `make perf`.",
        "",
        "## Verdict",
        "",
        *_headline(results, ev),
    ]
    for title, text, table in _sections(results, ev):
        parts += ["", f"## {title}", ""]
        if text:
            parts += [text, ""]
        if table is not None:
            parts.append(table.md())
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
.ok { color: #15803d; } .bad { color: #b91c1c; font-weight: 600; }
figure { margin: 1em 0 2em; } figcaption { color: #4b5563; font-size: 13px; }
code { background: #f3f4f6; padding: 0 3px; }
"""


def render_html(results: dict[str, Any], ev: Evaluation) -> str:
    env = results["environment"]
    head = _headline(results, ev)
    verdict = "".join(
        f"<p>{html.escape(line.strip('*'))}</p>" if not line.startswith("- ") else
        f"<li>{html.escape(line[2:])}</li>"
        for line in head
    )  # fmt: skip
    _, bars = _overhead(results)
    body = [
        f"<h1>quipu performance report, {html.escape(env['date'])}</h1>",
        f"<p>Commit <code>{html.escape(env['commit'])}</code>, {html.escape(env['cpu'])}, "
        f"{env['cores']} cores: quipu and the bare app on core {env['server_core']}, "
        f"Locust, Redis and the emulator on core {env['load_core']}. Reproduce with "
        "<code>make perf</code>; the Markdown summary and raw CSVs are beside this file.</p>",
        f"<h2>Verdict</h2>{verdict}",
    ]
    charts = _charts(results, ev, bars)
    for title, text, table in _sections(results, ev):
        body.append(f"<h2>{html.escape(title)}</h2>")
        if text:
            body.append(f"<p>{html.escape(text).replace('`', '')}</p>")
        for section, caption, chart in charts:
            if section == title:
                body.append(
                    f"<figure>{chart}<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
        if table is not None:
            body.append(table.html())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>quipu performance report {html.escape(env['date'])}</title>"
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(out: Path, results: dict[str, Any]) -> dict[str, Any]:
    """Write both documents; returns ``{"ok": bool, "lines": [headline...]}``."""
    ev = evaluate(results)
    (out / "summary.md").write_text(render_markdown(results, ev))
    (out / "report.html").write_text(render_html(results, ev))
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
