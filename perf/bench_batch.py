"""``POST /api/ai/validate/batch`` per document, side by side with an earlier commit.

Serves the DTE plugin twice in one run, rules only (``ai_review = "off"``), one Granian
worker each: the code of ``--baseline`` (a temporary git worktree put first on
``PYTHONPATH``) and this checkout. Each batch (1, 100 and 500 documents of 1 and of 60
lines, Odoo's flat form and SII XML) is posted ``--rounds`` times to each, interleaved,
with ``Cache-Control: no-store`` so no answer comes from a cache; the table shows the
median milliseconds per document and the speed-up. This checkout's batch answers must be
what its single calls answer, item by item (checked on the 100-document shapes), or the
run fails; the baseline's answers may differ where the rules changed since::

    .venv/bin/python perf/bench_batch.py --baseline 9351487 [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "plugins" / "dte" / "tests"))

from harness import API_KEY, Server, Stack  # noqa: E402

CONFIG = """
[platform]
max_body_bytes = 33554432

[plugins.dte]
ai_review = "off"
"""


def _documents(count: int, lines: int) -> list[Any]:
    from dte_builders import dte_xml, factura_lineas, flat_odoo

    if lines == 1:
        return [flat_odoo() | {"folio": str(30_000 + i)} for i in range(count)]
    xml = dte_xml(factura_lineas(lines))
    folio = re.search(r"<Folio>\d+</Folio>", xml)
    assert folio is not None
    # Distinct folios: the same folio twice in one batch is a duplicate (a finding).
    return [
        {"dte_xml": xml.replace(folio.group(0), f"<Folio>{30_000 + i}</Folio>")}
        for i in range(count)
    ]


def _request(url: str, path: str, body: bytes) -> urllib.request.Request:
    """A JSON POST with the perf key that no cache may answer (``no-store``)."""
    return urllib.request.Request(  # noqa: S310 - loopback
        url + path,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
        },
    )


def _post(url: str, body: bytes) -> tuple[float, Any]:
    """``(server seconds, answer)``: the server's own time from ``Server-Timing: app``
    (the request's arrival to the start of its answer, body read and answer encoded
    included), so neither the client's JSON work nor the transfer of a large answer is
    counted as quipu's."""
    request = _request(url, "/api/ai/validate/batch", body)
    with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
        timing = response.headers.get("server-timing", "")
        raw = response.read()
    found = re.search(r"(?:^|,\s*)app;dur=([\d.]+)", timing)
    if found is None:
        raise RuntimeError(f"no Server-Timing app entry in {timing!r}")
    return float(found.group(1)) / 1000, json.loads(raw)


def identical_to_single_calls(url: str, documents: list[Any]) -> bool:
    """Whether each batch item's answer is what ``POST /api/ai/validate`` answers for it."""
    _, batch = _post(url, json.dumps({"documents": documents, "company_id": 1}).encode())
    for item, document in zip(batch["results"], documents, strict=True):
        body = json.dumps({"dte_data": document, "company_id": 1}).encode()
        request = _request(url, "/api/ai/validate", body)
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            if item.get("result") != json.loads(response.read()):
                return False
    return True


def measure(url: str, size: int, lines: int, rounds: int = 3) -> dict[str, Any]:
    """Median ms per document (server time) of one batch shape on one server, warmed up."""
    documents = _documents(size, lines)
    body = json.dumps({"documents": documents, "company_id": 1}).encode()
    _post(url, body)
    times = [_post(url, body)[0] for _ in range(rounds)]
    return {
        "documents": size,
        "lines": lines,
        "body_kib": round(len(body) / 1024),
        "ms_per_doc": statistics.median(times) / size * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="1,100,500")
    parser.add_argument("--lines", default="1,60")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with Stack() as stack, tempfile.TemporaryDirectory(prefix="quipu-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        stack.add(
            "worktree",
            lambda: subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
            ),
        )
        config = Path(tmp) / "platform.toml"
        config.write_text(CONFIG)
        base_env = {"API_KEY": API_KEY, "QUIPU_CONFIG": str(config), "QUIPU_WORKERS": "1"}
        old_path = [str(tree / "core" / "src")]
        old_path += [str(p / "src") for p in sorted((tree / "plugins").iterdir())]
        servers = {
            "baseline": Server.quipu(
                "baseline",
                {**base_env, "PYTHONPATH": os.pathsep.join(old_path)},
                None,
            ),
            "head": Server.quipu("head", base_env, None),
        }
        for server in servers.values():
            stack.add(server.name, server.stop)
        for server in servers.values():
            server.wait()
        for lines in (int(x) for x in args.lines.split(",")):
            for size in (int(x) for x in args.sizes.split(",")):
                body = json.dumps({"documents": _documents(size, lines), "company_id": 1}).encode()
                times: dict[str, list[float]] = {name: [] for name in servers}
                answers: dict[str, Any] = {}
                for server in servers.values():  # warm-up (and the pool's start)
                    _post(server.url, body)
                for _ in range(args.rounds):
                    for name, server in servers.items():
                        elapsed, answers[name] = _post(server.url, body)
                        times[name].append(elapsed)
                if size == 100 and not identical_to_single_calls(
                    servers["head"].url, _documents(size, lines)
                ):
                    print(f"batch != single calls for {size} x {lines} lines", file=sys.stderr)
                    return 1
                per_doc = {n: statistics.median(t) / size * 1000 for n, t in times.items()}
                rows.append(
                    {
                        "documents": size,
                        "lines": lines,
                        "body_kib": round(len(body) / 1024),
                        "baseline_ms_per_doc": per_doc["baseline"],
                        "head_ms_per_doc": per_doc["head"],
                        "speedup": per_doc["baseline"] / per_doc["head"],
                    }
                )
    print(f"baseline {args.baseline} vs this checkout, median of {args.rounds} (ms per document)")
    print(f"{'docs':>5} {'lines':>5} {'body KiB':>9} {'baseline':>9} {'head':>9} {'speed-up':>9}")
    for row in rows:
        print(
            f"{row['documents']:>5} {row['lines']:>5} {row['body_kib']:>9} "
            f"{row['baseline_ms_per_doc']:>9.3f} {row['head_ms_per_doc']:>9.3f} "
            f"{row['speedup']:>8.2f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
