"""Roles and scopes on the assembled platform: admin routes, ``/metrics``, company-less keys.

Keys: client keys of company 1 and 2, a ``metrics``-only key (no company), an
``admin``-only key (every company) and the full-access ``API_KEY``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from platform_kit import AUTH_1, AUTH_2, AUTH_ADMIN, AUTH_METRICS, FULL

pytestmark = pytest.mark.slow

#: Every route that needs the admin role, with a request that would otherwise succeed.
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/_platform/plugins", None),
    ("DELETE", "/_platform/cache?plugin=dte", None),
    ("PUT", "/api/payroll/indicators/2025-07", {"uf": 39180.55}),
    ("DELETE", "/api/payroll/indicators/2025-07", None),
]


@pytest.fixture
def app(platform_app: Callable[..., Any]) -> Any:
    return platform_app()


async def test_admin_routes_need_the_admin_role(app: Any, quipu_client: Any) -> None:
    """Client keys (either company) and the metrics key call every admin route: 403 with
    the role named. The admin-only key and the full-access key: 200."""
    async with quipu_client(app, auth=False) as client:
        for method, url, body in ADMIN_ROUTES:
            for auth in (AUTH_1, AUTH_2, AUTH_METRICS):
                refused = await client.request(method, url, json=body, headers=auth)
                assert refused.status_code == 403, (method, url, auth, refused.text)
                assert "'admin' role" in refused.json()["detail"]
            for auth in (AUTH_ADMIN, FULL):
                allowed = await client.request(method, url, json=body, headers=auth)
                assert allowed.status_code == 200, (method, url, allowed.text)


async def test_metrics_need_the_metrics_role_by_default(app: Any, quipu_client: Any) -> None:
    """``metrics_access = "role"`` (the default): no key 401, client or admin-only key 403,
    the metrics key 200 with the exposition."""
    async with quipu_client(app, auth=False) as client:
        anonymous = await client.get("/metrics")
        refused = [await client.get("/metrics", headers=a) for a in (AUTH_1, AUTH_ADMIN)]
        scraped = await client.get("/metrics", headers=AUTH_METRICS)
    assert anonymous.status_code == 401
    assert [r.status_code for r in refused] == [403, 403]
    assert scraped.status_code == 200
    assert "quipu_http_requests_total" in scraped.text


async def test_a_key_for_no_company_cannot_act_for_one(
    app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    """The metrics-only key (no company in its scope) asks the assistant, checks a slip,
    validates a DTE and opens a session: 403 each (it was a 500 before: an empty company
    in a cache key), and nothing reaches the model."""
    slip = {"period": "2025-07", "lines": [{"code": "BASIC", "amount": 529000}]}
    async with quipu_client(app, auth=False) as client:
        answers = [
            await client.post("/api/chat/message", json={"message": "hola"}, headers=AUTH_METRICS),
            await client.post("/api/chat/session/new", headers=AUTH_METRICS),
            await client.post("/api/payroll/validate", json=slip, headers=AUTH_METRICS),
            await client.post(
                "/api/ai/validate",
                json={"dte_data": {"tipo_dte": "33"}, "company_id": 1},
                headers=AUTH_METRICS,
            ),
        ]
    assert [a.status_code for a in answers] == [403] * 4, [a.text for a in answers]
    assert "may act for no company" in answers[0].json()["detail"]
    assert anthropic_emulator.requests()["count"] == 0
