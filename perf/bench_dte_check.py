"""Per-document cost of :func:`quipu_dte.service.check` (parse + rule engine), stdlib timing.

Three shapes, each a list of documents with distinct folios (as a batch sends them):

* ``flat-1``: Odoo's flat one-line form (``flat_odoo()`` of the test builders);
* ``xml-1``: a one-line factura as SII XML;
* ``xml-60``: a 60-line factura as SII XML.

Each round checks every document once, single thread, timed in the thread's CPU time
(``time.thread_time``: waiting for a core held by other work is not counted); the figure
is the fastest round's µs per document (as ``timeit`` advises: on a shared machine slower
rounds measure the other load), also split into ``read_inputs`` (parse) and the rule
engine. ``--compare`` quotes the median over its processes of those figures.
Validation date 2026-12-01 by default (``--today``): the builders' documents (emitted
2025-10-20) are then old and get ``DTE_DATE_OLD``, as a batch of them does when validated
today, so the cost of reporting a finding is measured too.

Usage::

    .venv/bin/python perf/bench_dte_check.py [--docs N] [--rounds R]
    # side by side with other code (e.g. the base commit's plugins/dte/src), alternating
    # the two in fresh processes so both see the same machine load:
    .venv/bin/python perf/bench_dte_check.py --compare /tmp/base/plugins/dte/src [--pairs P]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "dte" / "tests"))

import dte_builders as b

SHAPES: dict[str, Callable[[int], Any]] = {
    "flat-1": lambda folio: dict(b.flat_odoo(), folio=str(folio)),
    "xml-1": lambda folio: {"dte_xml": b.dte_xml(_with_folio(b.factura_lineas(1), folio))},
    "xml-60": lambda folio: {"dte_xml": b.dte_xml(_with_folio(b.factura_lineas(60), folio))},
}


def _with_folio(doc: dict[str, Any], folio: int) -> dict[str, Any]:
    doc["Encabezado"]["IdDoc"]["Folio"] = folio
    return doc


def run(docs: int, rounds: int, today: date) -> dict[str, dict[str, float]]:
    """Median µs per document of check / read_inputs / rules, per shape."""
    from quipu_dte.config import DteConfig
    from quipu_dte.rules import validate
    from quipu_dte.service import DteRuntime, check, read_inputs

    runtime = DteRuntime.build("dte", DteConfig())
    out: dict[str, dict[str, float]] = {}
    for shape, make in SHAPES.items():
        count = docs if shape != "xml-60" else max(1, docs // 10)
        inputs = [make(1000 + i) for i in range(count)]
        for data in inputs[: min(20, count)]:  # warm-up: imports, first-use caches
            check(runtime, data, None, today)
        totals, parses, rules = [], [], []
        for _ in range(rounds):
            start = time.thread_time()
            for data in inputs:
                check(runtime, data, None, today)
            totals.append((time.thread_time() - start) / count * 1e6)
            start = time.thread_time()
            parsed = [read_inputs(data, None)[0].documents[0] for data in inputs]
            parses.append((time.thread_time() - start) / count * 1e6)
            start = time.thread_time()
            for doc in parsed:
                validate(doc, today=today, config=runtime.rules)
            rules.append((time.thread_time() - start) / count * 1e6)
        out[shape] = {"check": min(totals), "read_inputs": min(parses), "rules": min(rules)}
    return out


def compare(base_src: str, pairs: int, docs: int, rounds: int, today: date) -> None:
    """Alternate base and current code in fresh processes; print medians and ratios."""
    results: dict[str, list[dict[str, dict[str, float]]]] = {"base": [], "new": []}
    for _ in range(pairs):
        for label in ("base", "new"):
            env = dict(os.environ)
            if label == "base":
                env["PYTHONPATH"] = base_src + os.pathsep + env.get("PYTHONPATH", "")
            argv = [sys.executable, __file__, "--json", "--docs", str(docs)]
            argv += ["--rounds", str(rounds), "--today", today.isoformat()]
            done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
            results[label].append(json.loads(done.stdout))
    print(
        f"µs/doc, median of {pairs} alternating processes of the best of {rounds} rounds; "
        f"load {_load()}"
    )
    print(f"{'shape':8} {'part':12} {'base':>9} {'new':>9} {'speed-up':>9}")
    for shape in SHAPES:
        for part in ("check", "read_inputs", "rules"):
            base = statistics.median(r[shape][part] for r in results["base"])
            new = statistics.median(r[shape][part] for r in results["new"])
            print(f"{shape:8} {part:12} {base:9.1f} {new:9.1f} {base / new:8.2f}×")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    """Print µs per document (or compare with other code, see the module docstring)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--compare", metavar="BASE_SRC")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 12, 1))
    args = parser.parse_args()
    if args.compare:
        compare(args.compare, args.pairs, args.docs, args.rounds, args.today)
        return
    result = run(args.docs, args.rounds, args.today)
    if args.json:
        print(json.dumps(result))
        return
    print(f"µs/doc, best of {args.rounds} rounds; load {_load()}")
    for shape, parts in result.items():
        print(shape, " ".join(f"{k}={v:.1f}" for k, v in parts.items()))


if __name__ == "__main__":
    main()
