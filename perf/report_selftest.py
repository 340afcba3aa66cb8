"""The report's self-check (``report.py --selftest``): the verdict, the formats, the
comparison with a previous report and the charts' labels, on made-up results."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from report_targets import CACHED, HEALTH, evaluate, load_warning
from svg import LatencyRow, fmt_ms, fmt_ratio, fmt_rps, latency_chart, text_width


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


def selftest(write_report: Callable[[Path, dict[str, Any]], dict[str, Any]]) -> int:
    """Checks of the verdict, the formats, the comparison and the charts on made-up data.

    ``write_report`` is :func:`report.write_report`, passed in because :mod:`report` runs
    this check (``--selftest``): importing it back would make an import cycle.
    """
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
