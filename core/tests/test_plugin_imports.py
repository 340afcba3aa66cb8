"""Plugin modules are light: loading them pulls in no SDK, parser or index library.

quipu imports every plugin module at start-up, in every Granian worker and every CLI call;
heavy dependencies belong inside hooks and handlers.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("anthropic", "pypdf", "bm25s", "numpy", "lxml", "redis", "opentelemetry.sdk")

SCRIPT = f"""
import importlib.metadata, sys
for ep in importlib.metadata.entry_points(group="quipu"):
    ep.load()
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_installed_plugin_modules_import_nothing_heavy() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
