"""The shipped ``platform.toml`` sets a rate limit on every plugin, and they load.

How limits behave (per key and route, shared through Redis, 429 with ``Retry-After``,
degrading open) is tested in ``core/tests/security/test_rate_limits.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from quipu.app import build_platform, create_app
from quipu.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "platform.toml"


def test_quipu_check_accepts_the_shipped_limits() -> None:
    """``quipu check`` with the repository's ``platform.toml``: exit 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIPU_")}
    done = subprocess.run(
        [sys.executable, "-m", "quipu.cli", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok:" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("plugin", "route", "at_least_per_minute"),
    [
        # perf/run.py's fast phase: ~100 validations/s with one key; its max-throughput
        # probes ~1,500/s for seconds at a time.
        ("dte", "/api/ai/validate", 6_000),
        ("dte", "/api/ai/validate/batch", 120),
        ("dte", "/api/ai/reception/match_po", 120),
        ("payroll", "/api/payroll/validate", 600),
        ("previred", "/api/payroll/indicators/{period:str}", 300),
        ("chat", "/api/chat/message", 300),
        ("chat", "/api/chat/message/stream", 300),
        ("chat", "/api/chat", 300),
    ],
)
def test_every_plugin_route_has_a_limit_above_the_perf_load(
    plugin: str, route: str, at_least_per_minute: int
) -> None:
    registry = build_platform(load_settings(SHIPPED, env={}))
    rate = registry.rate_limits[plugin].for_route(route)
    assert rate is not None, (plugin, route)
    assert rate.limit * 60 / rate.window_s >= at_least_per_minute, str(rate)


def test_limited_routes_document_429_with_retry_after() -> None:
    app = create_app(load_settings(SHIPPED, env={}))
    paths = app.openapi_schema.to_schema()["paths"]
    limited = paths["/api/ai/validate"]["post"]["responses"]["429"]
    assert "Retry-After" in limited["headers"]
    assert "429" not in paths["/health"]["get"]["responses"]
