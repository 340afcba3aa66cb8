"""Cached routes through the whole app: headers, client control, metrics, admin route."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from cache_demo import DemoPlugin
from quipu.testing.pytest_plugin import AUTH

pytestmark = pytest.mark.usefixtures("flush_redis")

SCOPED = """
[[auth.keys]]
name = "empresa-1"
env = "KEY_EMPRESA_1"
companies = [1]
roles = ["client"]
"""
CLIENT_KEY = {"Authorization": "Bearer key-for-company-1"}
BODY = {"company_id": 1, "folio": 7, "text": "boleta"}


@pytest.fixture
def plugin() -> DemoPlugin:
    return DemoPlugin()


@pytest.fixture
def app(make_quipu_app: Callable[..., Any], plugin: DemoPlugin) -> Any:
    return make_quipu_app(
        [("demo", plugin)], config=SCOPED, env={"KEY_EMPRESA_1": "key-for-company-1"}
    )


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text ``metrics``."""
    for line in metrics.splitlines():
        if not line.startswith((name + "{", name + " ")):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{labels}")


async def test_cached_route_answers_with_cache_status_and_server_timing(
    app: Any, quipu_client: Any, plugin: DemoPlugin
) -> None:
    async with quipu_client(app) as client:
        miss = await client.post("/api/demo/validate", json=BODY)
        hit = await client.post("/api/demo/validate", json=BODY)
        reordered = await client.post(
            "/api/demo/validate", json={"text": "boleta", "folio": 7, "company_id": 1}
        )
    assert miss.status_code == hit.status_code == 200
    assert miss.headers["cache-status"] == "quipu; fwd=miss; stored; ttl=900"
    assert re.fullmatch(r"quipu; hit; ttl=\d+; detail=l1", hit.headers["cache-status"])
    assert reordered.headers["cache-status"].endswith("detail=l1")
    assert hit.content == miss.content
    assert hit.json() == {"folio": 7, "valid": True, "computed": 1, "confidence": 100}
    assert hit.headers["content-type"] == "application/json"
    assert "cache;dur=" in hit.headers["server-timing"]
    assert 'desc="l1 hit"' in hit.headers["server-timing"]
    assert plugin.calls == 1


async def test_cache_control_from_the_client(
    app: Any, quipu_client: Any, plugin: DemoPlugin
) -> None:
    async with quipu_client(app) as client:
        await client.post("/api/demo/validate", json=BODY)
        refreshed = await client.post(
            "/api/demo/validate", json=BODY, headers={"Cache-Control": "no-cache"}
        )
        after = await client.post("/api/demo/validate", json=BODY)
        bypassed = await client.post(
            "/api/demo/validate", json=BODY, headers={"Cache-Control": "no-store"}
        )
        still = await client.post("/api/demo/validate", json=BODY)
    assert refreshed.headers["cache-status"] == "quipu; fwd=request; stored; ttl=900"
    assert refreshed.json()["computed"] == 2
    assert after.json()["computed"] == 2
    assert bypassed.headers["cache-status"] == "quipu; fwd=bypass"
    assert bypassed.json()["computed"] == 3
    assert still.json()["computed"] == 2
    assert plugin.calls == 3


async def test_company_scope_is_checked_before_the_cache(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app, auth=False) as client:
        await client.post("/api/demo/validate", json=BODY, headers=AUTH)
        own = await client.post("/api/demo/validate", json=BODY, headers=CLIENT_KEY)
        other = await client.post(
            "/api/demo/validate", json={**BODY, "company_id": 2}, headers=CLIENT_KEY
        )
    assert own.headers["cache-status"].endswith("detail=l1")
    assert other.status_code == 403


async def test_metrics_show_requests_and_hit_ratio_per_policy(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        for folio in (1, 1, 1, 2):
            await client.post("/api/demo/validate", json={**BODY, "folio": folio})
        await client.get("/api/demo/indicators/2026-01")
        await client.get("/api/demo/indicators/2026-01")
        text = (await client.get("/metrics")).text

    labels = {"plugin": "demo", "policy": "validation"}
    assert sample(text, "quipu_cache_hit_ratio", **labels) == pytest.approx(0.5)
    assert sample(text, "quipu_cache_window_requests", **labels) == 4
    assert sample(text, "quipu_cache_hit_ratio", plugin="demo", policy="indicators") == 0.5
    assert sample(text, "quipu_cache_requests_total", **labels, tier="l1", result="hit") >= 2
    assert sample(text, "quipu_cache_requests_total", **labels, tier="redis", result="miss") >= 2
    assert sample(text, "quipu_cache_l1_entries") >= 3
    assert sample(text, "quipu_cache_l1_bytes") > 0
    assert sample(text, "quipu_cache_redis_breaker_open") == 0
    assert "quipu_cache_operation_duration_seconds_bucket" in text
    assert 'tier="l1"' in text
    assert 'operation="get"' in text
    assert "quipu_cache_compute_duration_seconds_count" in text


async def test_admin_invalidates_by_plugin_policy_and_company(
    app: Any, quipu_client: Any, plugin: DemoPlugin
) -> None:
    async with quipu_client(app, auth=False) as client:
        await client.post("/api/demo/validate", json=BODY, headers=AUTH)
        await client.post("/api/demo/validate", json={**BODY, "company_id": 2}, headers=AUTH)
        forbidden = await client.delete("/_platform/cache?plugin=demo", headers=CLIENT_KEY)
        unknown = await client.delete("/_platform/cache?plugin=demo&policy=nope", headers=AUTH)
        bad = await client.delete("/_platform/cache?company=a:b", headers=AUTH)
        done = await client.delete(
            "/_platform/cache?plugin=demo&policy=validation&company=1", headers=AUTH
        )
        again = await client.post("/api/demo/validate", json=BODY, headers=AUTH)
        other = await client.post(
            "/api/demo/validate", json={**BODY, "company_id": 2}, headers=AUTH
        )
    assert forbidden.status_code == 403
    assert unknown.status_code == 404
    assert "demo.validation" in unknown.json()["detail"]
    assert bad.status_code == 422
    assert done.status_code == 200
    assert done.json() == {
        "policies": ["demo.validation"],
        "company": "1",
        "redis_removed": 1,
        "l1_removed": 1,
        "redis": "ok",
    }
    assert again.headers["cache-status"].startswith("quipu; fwd=miss")
    assert other.headers["cache-status"].endswith("detail=l1")


async def test_without_redis_url_cache_is_l1_only_and_health_says_disabled(
    make_quipu_app: Callable[..., Any], quipu_client: Any
) -> None:
    app = make_quipu_app([("demo", DemoPlugin())], env={"REDIS_URL": ""})
    async with quipu_client(app) as client:
        miss = await client.post("/api/demo/validate", json=BODY)
        hit = await client.post("/api/demo/validate", json=BODY)
        health = (await client.get("/health")).json()
    assert miss.headers["cache-status"] == "quipu; fwd=miss; stored; ttl=900"
    assert hit.headers["cache-status"].endswith("detail=l1")
    assert health["status"] == "healthy"
    assert health["dependencies"]["redis"]["status"] == "disabled"
