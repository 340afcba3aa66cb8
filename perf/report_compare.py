"""The perf report against the previous one: finding it, and what changed since."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from endpoints import ENDPOINTS
from report_tables import Table
from report_targets import CACHED, HEALTH, Check, Evaluation, load_warning, platform_checks
from svg import fmt_ms, fmt_ratio, fmt_rps

_ms = fmt_ms


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


def comparison(
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
