"""Discovery time for 1, 10, 100 and 1,000 installed plugins.

Each measurement runs in a fresh interpreter (so imports are real, not cached) against a
site directory of fake plugin distributions, and reports the median of several runs of:
the entry-point scan, discovery (scan + import + register), and the full registry build
(every hook called and validated). Run: ``.venv/bin/python perf/bench_discovery.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from quipu.testing.fake_dist import write_fake_plugin

PLUGIN = """
from quipu.api import CachePolicy, hookimpl

@hookimpl
def register_cache_policies():
    return [CachePolicy(name="p", ttl_s=60)]
"""

PROBE = r"""
import importlib.metadata, json, os, sys, time
t0 = time.perf_counter()
eps = importlib.metadata.entry_points(group="quipu")
t1 = time.perf_counter()
from quipu.config import load_settings
from quipu.plugins import discover, make_plugin_manager
from quipu.registry import build_registry
settings = load_settings(env={})
t2 = time.perf_counter()
pm = make_plugin_manager()
found = discover(pm, settings)
t3 = time.perf_counter()
registry = build_registry(pm, found, settings)
t4 = time.perf_counter()
print(json.dumps({"scan_ms": (t1 - t0) * 1e3, "discover_ms": (t3 - t2) * 1e3,
                  "registry_ms": (t4 - t3) * 1e3, "plugins": len(registry.plugins) - 1}))
"""


def measure(site: Path, runs: int) -> dict[str, float]:
    samples: list[dict[str, float]] = []
    env = {"PYTHONPATH": str(site), "QUIPU_LOAD_PLUGINS": "", "PATH": "/usr/bin:/bin"}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE],
            capture_output=True,
            text=True,
            env={**env, "QUIPU_LOAD_PLUGINS": allow(site)},
            check=True,
        )
        samples.append(json.loads(out.stdout))
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def allow(site: Path) -> str:
    return ",".join(sorted(p.stem for p in site.glob("bench_*.py")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", default="1,10,100,1000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'plugins':>8} {'scan ms':>9} {'discover ms':>12} {'registry ms':>12} {'total ms':>9}")
    for count in (int(c) for c in args.counts.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            site = Path(tmp)
            for i in range(count):
                write_fake_plugin(
                    site,
                    dist=f"bench-plugin-{i}",
                    entry_point=f"bench_{i}",
                    module=f"bench_{i}",
                    source=PLUGIN,
                )
            r = measure(site, args.runs)
            assert r["plugins"] == count, r
            total = r["discover_ms"] + r["registry_ms"]
            print(
                f"{count:>8} {r['scan_ms']:>9.2f} {r['discover_ms']:>12.2f} "
                f"{r['registry_ms']:>12.2f} {total:>9.2f}"
            )


if __name__ == "__main__":
    main()
