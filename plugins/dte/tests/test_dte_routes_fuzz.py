"""No input produces a 500: random JSON bodies against the three routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dte_builders import dte_xml, factura_33, flat_odoo
from dte_http import review
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from quipu.testing.pytest_plugin import AUTH

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["33", "61", "2025-10-20", "76354771-K", "12.5", "", "<DTE>", "1e400"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
FLAT_KEYS = [*flat_odoo(), "rut_receptor", "referencias", "lines", "dte_xml", "Encabezado"]
dte_objects = st.dictionaries(st.sampled_from(FLAT_KEYS), json_values, max_size=8) | st.builds(
    lambda base, key, value: base | {key: value},
    st.sampled_from([flat_odoo(), factura_33()]),
    st.sampled_from([*FLAT_KEYS, "Detalle", "TED", "Referencia"]),
    json_values,
)
xml_texts = st.builds(
    lambda text, cut: {"dte_xml": dte_xml(factura_33())[:cut] + text},
    st.text(max_size=40),
    st.integers(min_value=0, max_value=3000),
)
bodies = (
    json_values
    | st.fixed_dictionaries(
        {"dte_data": dte_objects | xml_texts | json_values, "company_id": st.just(1)},
        optional={"history": json_values, "mode": json_values},
    )
    | st.fixed_dictionaries(
        {"documents": st.lists(dte_objects | json_values, max_size=4), "company_id": json_values}
    )
    | st.fixed_dictionaries(
        {
            "dte_data": dte_objects,
            "pending_pos": st.lists(
                json_values
                | st.dictionaries(
                    st.sampled_from(
                        ["id", "name", "amount_total", "partner_vat", "lines", "date_order"]
                    ),
                    json_values,
                ),
                max_size=3,
            ),
            "company_id": st.just(1),
        }
    )
)
ROUTES = ["/api/ai/validate", "/api/ai/validate/batch", "/api/ai/reception/match_po"]


@pytest.fixture
def client(dte_app: Callable[..., Any]) -> Iterator[TestClient[Any]]:
    with TestClient(app=dte_app()) as test_client:
        test_client.headers.update(AUTH)
        yield test_client


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, route=st.sampled_from(ROUTES))
def test_no_body_gives_a_500(client: TestClient[Any], body: Any, route: str) -> None:
    response = client.post(route, json=body)
    assert response.status_code in (200, 400, 413, 422), (response.status_code, response.text)
    answer = response.json()
    if response.status_code != 200:
        assert isinstance(answer["detail"], str)
        assert answer["detail"]
    elif route == "/api/ai/validate":
        assert answer["recommendation"] in ("send", "review", "reject")
        assert (answer["recommendation"] == "reject") == bool(answer["errors"])


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=200))
def test_raw_bytes(client: TestClient[Any], raw: bytes) -> None:
    response = client.post(
        "/api/ai/validate", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 400, 422), response.text


@pytest.fixture
def ai_client(dte_app: Callable[..., Any], anthropic_emulator: Any) -> Iterator[TestClient[Any]]:
    """Every document reviewed by the emulator, which answers with one observation."""
    anthropic_emulator.script(review(observations=[{"code": "x", "message": "y"}]))
    with TestClient(app=dte_app("ai_review = 'always'", llm=anthropic_emulator)) as test_client:
        test_client.headers.update(AUTH)
        yield test_client


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies)
def test_no_body_gives_a_500_with_the_ai_review(ai_client: TestClient[Any], body: Any) -> None:
    response = ai_client.post("/api/ai/validate", json=body)
    assert response.status_code in (200, 400, 413, 422), (response.status_code, response.text)
    if response.status_code == 200:
        answer = response.json()
        assert answer["ai"]["status"] in ("used", "cached")
        assert answer["recommendation"] != "send"  # the observation always asks for review
