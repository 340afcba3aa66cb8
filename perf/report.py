"""The perf report: ``summary.md`` and ``report.html`` from what :mod:`run` measured.

Both are written from the same tables (:mod:`report_tables`), so they say the same thing;
the HTML adds inline SVG charts (:mod:`report_charts`). :func:`evaluate`
(:mod:`report_targets`) decides the verdict; :mod:`report_compare` compares with the
previous report; ``--selftest`` runs :mod:`report_selftest`.
"""

from __future__ import annotations

import csv
import html
import json
import math
from pathlib import Path
from typing import Any

from report_charts import build_charts
from report_compare import Previous, comparison, previous_report
from report_selftest import selftest
from report_tables import (
    Table,
    audit_table,
    bare_table,
    batch_table,
    cache_table,
    overhead_table,
    platform_table,
    published_table,
    quick_table,
    throughput_table,
    tracing_table,
)
from report_targets import (
    BATCH_MS_PER_DOC,
    CACHED_SERVER_P99_MS,
    CACHED_VS_BARE,
    HEALTH_VS_BARE,
    OVERHEAD_P50_MS,
    OVERHEAD_P99_MS,
    PUBLISHED_SOURCE,
    Evaluation,
    evaluate,
    load_warning,
    platform_checks,
    server_percentiles,
    skipped_by_config,
)
from svg import fmt_ms, fmt_ratio

__all__ = ["evaluate", "platform_checks", "regenerate", "write_report"]

_ms = fmt_ms


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
            [platform_table(ev), published_table()],
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
            audit_table(ev, results),
        )
    )
    out.append(
        (
            "Ours, and the bare Litestar baseline",
            f"Same Locust users, same offered load ({quipu_fast['users']} users, think time "
            f"{quipu_fast['think']} s, {quipu_fast['duration_s']:g} s) against the bare app "
            "(plain Litestar on the same Granian, no middleware, a pre-encoded body) and then "
            "quipu. Ratio = quipu / bare (1.00× = as fast as bare Litestar).",
            bare_table(results),
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
                quick_table(q, "bare"),
            )
        )
    batch = batch_table(results)
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
    overhead, _ = overhead_table(results)
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
    pauses = results.get("metrics_mixed", {}).get("gc_pauses", {})
    if pauses:
        lines = [
            f"generation {gen}: {v['count']:.0f} collections, mean "
            f"{_ms(v['seconds'] / v['count'] * 1000)}, {v['over_1ms']:.0f} over 1 ms"
            for gen, v in sorted(pauses.items())
            if v["count"]
        ]
        out.append(
            (
                "Garbage collection (mixed phase, `quipu_gc_pause_seconds`)",
                "; ".join(lines) + ". Every request in flight on the worker waits for a pause.",
                None,
            )
        )
    out.append(
        (
            "Cache",
            "From `quipu_cache_requests_total` before and after the mixed phase (bypassed "
            "requests excluded).",
            cache_table(results),
        )
    )
    tracing = tracing_table(results)
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
    text, tables = comparison(results, ev, previous, name)
    out.append(("Against the previous report", text, tables))
    out.append(("Requests (mixed phase)", "", throughput_table(results)))
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
    _, bars = overhead_table(results)
    body = [
        f"<h1>quipu performance report, {html.escape(env['date'])}</h1>",
        f"<p>Commit <code>{html.escape(env['commit'])}</code>, {html.escape(env['cpu'])}, "
        f"{env['cores']} cores: quipu and the bare app on core {env['server_core']}, "
        f"Locust, Redis and the emulator on core {env['load_core']}; load average at start "
        f"{env['load_average']:.2f}. Reproduce with <code>make perf</code>; the Markdown "
        "summary and raw CSVs are beside this file.</p>",
        f"<h2>Verdict</h2>{''.join(verdict)}",
    ]
    charts = build_charts(results, ev, bars)
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


# --- regenerating a report, and the command line -----------------------------------------


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


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Regenerate a perf report, or check report.py.")
    parser.add_argument("report", nargs="?", type=Path, help="a report directory with raw/")
    parser.add_argument("--out", type=Path, help="write there instead of in place")
    parser.add_argument("--reports", type=Path, help="where to look for the previous report")
    parser.add_argument("--selftest", action="store_true", help="check this module and exit")
    args = parser.parse_args(argv)
    if args.selftest:
        return selftest(write_report)
    if args.report is None:
        parser.error("give a report directory, or --selftest")
    verdict = regenerate(args.report, args.out, args.reports)
    print("\n".join(verdict["lines"]))
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    import sys

    sys.exit(main())
