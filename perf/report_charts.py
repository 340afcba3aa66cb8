"""The perf report's charts: inline SVG (:mod:`svg`) for ``report.html``, by section."""

from __future__ import annotations

from typing import Any

from report_targets import CACHED, HEALTH, Evaluation, server_percentiles
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
)

_ms = fmt_ms


def build_charts(
    results: dict[str, Any], ev: Evaluation, bars: list[Bar]
) -> list[tuple[str, str, str]]:
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
