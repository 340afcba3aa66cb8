"""The alert rules and the dashboard in deploy/ name only metrics quipu exports, and every
metric quipu exports follows Prometheus's naming conventions.

The exported names come from a live app's ``/metrics`` after its routes (cache and LLM
included) have been exercised: sample names, plus each declared family expanded by type
(``_total`` counters, ``_bucket``/``_sum``/``_count`` histograms) so a series that has no
sample yet (no Redis error so far) still counts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from obs_probe import load_probe

ROOT = Path(__file__).resolve().parents[3]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "quipu.json"
#: Series Prometheus makes itself, not quipu.
PROMETHEUS_OWN = {"up"}
_SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[)")
_QUIPU = re.compile(r"\bquipu_[a-z0-9_]+")
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count"),
}


def names_in(expression: str) -> set[str]:
    """Metric names a PromQL expression selects."""
    found = set(_QUIPU.findall(expression))
    found |= {m for m in _SELECTOR.findall(expression) if m not in ("by", "without")}
    return found


def rule_expressions() -> dict[str, str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return {
        rule.get("alert") or rule["record"]: rule["expr"]
        for group in rules["groups"]
        for rule in group["rules"]
    }


def panel_expressions() -> dict[str, str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return {
        f"{panel['title']} [{target['refId']}]": target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }


async def exported(make_quipu_app: Any, quipu_client: Any, emulator: Any, tmp: Path) -> str:
    """``/metrics`` of an app whose every kind of route has been called once."""
    probe = load_probe(tmp / "quipu_probe_deploy.py")
    app = make_quipu_app(
        [("probe", probe)],
        env={"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": emulator.url},
    )
    async with quipu_client(app) as client:
        for path in ("/health", "/ready", "/live", "/_platform/plugins", "/metrics/costs"):
            assert (await client.get(path)).status_code == 200
        assert (await client.get("/no/such/route")).status_code == 404
        for _ in range(2):
            echo = await client.post("/api/probe/echo", json={"question": "hola"})
            assert echo.status_code == 200
            ask = await client.post("/api/probe/ask", json={"question": "¿IVA?"})
            assert ask.status_code == 200, ask.text
        assert (await client.delete("/_platform/cache", params={"plugin": "probe"})).is_success
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        return str(metrics.text)


def exported_names(text: str) -> tuple[set[str], dict[str, str]]:
    """Every sample name quipu can export, and each family's type."""
    names: set[str] = set()
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            types[name] = kind
            names.add(name)
            base = name.removesuffix("_total")
            names.update(base + suffix for suffix in _SUFFIXES.get(kind, ()))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names, types


@pytest.fixture
async def metrics_text(
    make_quipu_app: Any, quipu_client: Any, anthropic_emulator: Any, tmp_path: Path
) -> str:
    return await exported(make_quipu_app, quipu_client, anthropic_emulator, tmp_path)


async def test_rules_and_panels_name_only_exported_metrics(metrics_text: str) -> None:
    names, _ = exported_names(metrics_text)
    expressions = {**rule_expressions(), **panel_expressions()}
    assert len(expressions) > 20
    unknown = {
        where: sorted(names_in(expr) - names - PROMETHEUS_OWN)
        for where, expr in expressions.items()
        if names_in(expr) - names - PROMETHEUS_OWN
    }
    assert not unknown, f"rules or panels name metrics quipu does not export: {unknown}"
    used = set().union(*(names_in(e) for e in expressions.values()))
    for family in ("quipu_http_requests_total", "quipu_cache_redis_breaker_open",
                   "quipu_llm_breaker_state", "quipu_llm_cost_usd_total"):  # fmt: skip
        assert family in used


async def test_exported_metric_names_follow_prometheus_conventions(metrics_text: str) -> None:
    _, types = exported_names(metrics_text)
    ours = {
        name: kind
        for name, kind in types.items()
        # prometheus-client's own creation-time gauges of counters and histograms
        if name.startswith("quipu_") and not name.endswith("_created")
    }
    assert len(ours) >= 20
    problems = []
    for name, kind in ours.items():
        if not re.fullmatch(r"quipu_[a-z][a-z0-9]*(_[a-z0-9]+)*", name):
            problems.append(f"{name}: not snake_case")
        if kind == "counter" and not name.endswith("_total"):
            problems.append(f"{name}: a counter must end in _total")
        if kind != "counter" and name.endswith("_total"):
            problems.append(f"{name}: only counters end in _total")
        if kind == "histogram" and not name.endswith(("_seconds", "_bytes", "_tokens")):
            problems.append(f"{name}: a histogram names its unit (_seconds, _bytes...)")
        if any(word in name for word in ("duration", "latency", "time_to")) and not (
            name.endswith("_seconds")
        ):
            problems.append(f"{name}: durations are in seconds and say so")
        if re.search(r"_(ms|milliseconds|millis)(_|$)", name):
            problems.append(f"{name}: use base units (seconds)")
    assert not problems, problems
