"""The assembled app: auth, errors, headers, health, OpenAPI, introspection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from litestar import Request, delete, get, post
from litestar.params import JSONBody
from quipu.api import Caller, hookimpl
from quipu.testing.pytest_plugin import AUTH
from quipu.testing.redis_server import RedisServer


class Invoice(msgspec.Struct):
    company_id: int
    amount: int


@post("/api/acme/invoice")
async def invoice(data: JSONBody[Invoice], principal: Caller) -> dict[str, int]:
    principal.require_company(data.company_id)
    return {"amount": data.amount}


@get("/api/acme/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@get("/api/acme/whoami")
async def whoami(request: Request[Any, Any, Any], principal: Caller) -> dict[str, Any]:
    return {"key": principal.key_name, "plugin": request.route_handler.opt.get("plugin")}


@delete("/api/acme/whoami", status_code=200)
async def forget() -> None:
    return None


class AcmePlugin:
    @hookimpl
    def register_routes(self) -> list[Any]:
        return [invoice, boom, whoami, forget]


SCOPED = """
[[auth.keys]]
name = "empresa-1"
env = "KEY_EMPRESA_1"
companies = [1]
roles = ["client"]

[[auth.keys]]
name = "scraper"
env = "KEY_METRICS"
roles = ["metrics"]
"""
SCOPED_ENV = {"KEY_EMPRESA_1": "key-for-company-1", "KEY_METRICS": "key-for-metrics"}


@pytest.fixture
def app(make_quipu_app: Callable[..., Any]) -> Any:
    return make_quipu_app([("acme", AcmePlugin())], config=SCOPED, env=SCOPED_ENV)


async def test_protected_route_needs_bearer_key(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app, auth=False) as client:
        missing = await client.post("/api/acme/invoice", json={"company_id": 1, "amount": 5})
        wrong = await client.post(
            "/api/acme/invoice",
            json={"company_id": 1, "amount": 5},
            headers={"Authorization": "Bearer nope"},
        )
    assert missing.status_code == 401
    assert "Authorization: Bearer" in missing.json()["detail"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert "invalid API key" in wrong.json()["detail"]


async def test_company_scope_is_enforced(app: Any, quipu_client: Any) -> None:
    scoped = {"Authorization": "Bearer key-for-company-1"}
    async with quipu_client(app, auth=False) as client:
        own = await client.post(
            "/api/acme/invoice", json={"company_id": 1, "amount": 5}, headers=scoped
        )
        other = await client.post(
            "/api/acme/invoice", json={"company_id": 2, "amount": 5}, headers=scoped
        )
        full = await client.post(
            "/api/acme/invoice", json={"company_id": 2, "amount": 5}, headers=AUTH
        )
    assert own.status_code == 201
    assert other.status_code == 403
    assert "may not act for company 2" in other.json()["detail"]
    assert full.status_code == 201


async def test_roles_guard_admin_and_metrics_routes(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app, auth=False) as client:
        client_key = {"Authorization": "Bearer key-for-company-1"}
        metrics_key = {"Authorization": "Bearer key-for-metrics"}
        assert (await client.get("/_platform/plugins", headers=client_key)).status_code == 403
        assert (await client.get("/metrics", headers=client_key)).status_code == 403
        metrics = await client.get("/metrics", headers=metrics_key)
        assert metrics.status_code == 200
        assert "quipu_http_requests_total" in metrics.text
        plugins = await client.get("/_platform/plugins", headers=AUTH)
    assert plugins.status_code == 200
    acme = next(p for p in plugins.json() if p["name"] == "acme")
    assert acme["routes"] == [
        "DELETE /api/acme/whoami",
        "GET /api/acme/boom",
        "GET /api/acme/whoami",
        "POST /api/acme/invoice",
    ]


async def test_routes_know_their_plugin(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        response = await client.get("/api/acme/whoami")
    assert response.json() == {"key": "API_KEY", "plugin": "acme"}


async def test_errors_are_json_with_detail(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        invalid = await client.post("/api/acme/invoice", json={"company_id": "uno", "amount": 5})
        malformed = await client.post(
            "/api/acme/invoice", content=b"{not json", headers={"content-type": "application/json"}
        )
        crash = await client.get("/api/acme/boom")
        missing = await client.get("/nowhere")
    assert invalid.status_code == 422
    assert "company_id" in invalid.json()["detail"]
    assert "Expected `int`, got `str`" in invalid.json()["detail"]
    assert malformed.status_code == 400
    assert "JSON is malformed" in malformed.json()["detail"]
    assert crash.status_code == 500
    assert "secret internals" not in crash.text
    assert crash.json()["request_id"] == crash.headers["x-request-id"]
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Not Found"


async def test_every_response_has_request_id_and_server_timing(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        kept = await client.get("/live", headers={"X-Request-ID": "odoo-42"})
        made = await client.get("/nowhere", headers={"X-Request-ID": "bad id with spaces"})
    assert kept.headers["x-request-id"] == "odoo-42"
    assert len(made.headers["x-request-id"]) == 32
    assert kept.headers["server-timing"].startswith("app;dur=")
    assert "app;dur=" in made.headers["server-timing"]


async def test_openapi_groups_routes_by_plugin(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app, auth=False) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        docs = await client.get("/schema")
    assert schema["paths"]["/api/acme/invoice"]["post"]["tags"] == ["acme"]
    assert schema["paths"]["/health"]["get"]["tags"] == ["platform"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_health_live_ready_are_open(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app, auth=False) as client:
        health = await client.get("/health")
        live = await client.get("/live")
        ready = await client.get("/ready")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "healthy"
    assert body["plugins"] == ["acme"]
    assert body["dependencies"]["redis"]["status"] == "up"
    assert body["dependencies"]["llm"]["status"] == "disabled"
    assert live.json()["status"] == "alive"
    assert ready.json() == {"status": "ready"}


@pytest.mark.slow
async def test_health_degrades_when_redis_dies_and_recovers(
    make_quipu_app: Callable[..., Any], quipu_client: Any
) -> None:
    with RedisServer() as server:
        app = make_quipu_app(
            config="[platform]\nhealth_probe_interval_s = 0.05\n",
            env={"REDIS_URL": server.url},
        )
        async with quipu_client(app, auth=False) as client:
            assert (await client.get("/health")).json()["status"] == "healthy"
            server.stop()
            body = await _wait_for_status(client, "degraded")
            assert body["degraded_reasons"][0].startswith("redis: ")
            assert body["dependencies"]["redis"]["status"] == "down"
            server.start()
            body = await _wait_for_status(client, "healthy")
            assert body["dependencies"]["redis"]["status"] == "up"


async def _wait_for_status(client: Any, status: str) -> dict[str, Any]:
    for _ in range(200):
        response = await client.get("/health")
        assert response.status_code == 200
        if response.json()["status"] == status:
            return response.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.025)
    raise AssertionError(f"/health never became {status}: {response.json()}")


async def test_options_lists_every_method_of_a_path(app: Any, quipu_client: Any) -> None:
    """A path served by two handlers (GET, then DELETE): ``Allow`` names both, as on a 405."""
    async with quipu_client(app) as client:
        options = await client.options("/api/acme/whoami")
        wrong = await client.put("/api/acme/whoami")
    assert options.status_code == 204
    assert options.headers["allow"] == "DELETE, GET, OPTIONS"
    assert wrong.status_code == 405
    assert set(wrong.headers["allow"].replace(" ", "").split(",")) >= {"DELETE", "GET"}
