"""``POST /api/ai/validate`` through the whole app: the issue's Done-when cases, rules only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dte_builders import (
    EMISOR,
    boleta_39,
    factura_33,
    flat_odoo,
    guia_52,
    nota_credito_61,
)
from dte_http import SCOPED_KEY
from quipu_dte.rules import RULESET_VERSION

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/api/ai/validate"


def xml_fixture(name: str) -> str:
    raw = (FIXTURES / name).read_bytes()
    return raw.decode("iso-8859-1" if b"ISO-8859-1" in raw[:60] else "utf-8")


@pytest.fixture
def app(dte_app: Callable[..., Any]) -> Any:
    return dte_app()


async def post(app: Any, client_factory: Any, body: Any, **kw: Any) -> Any:
    async with client_factory(app) as client:
        return await client.post(URL, json=body, **kw)


@pytest.mark.parametrize("build", [factura_33, nota_credito_61, boleta_39, guia_52])
async def test_correct_documents_validate_clean(app: Any, quipu_client: Any, build: Any) -> None:
    response = await post(app, quipu_client, {"dte_data": build(), "company_id": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["recommendation"] == "send"
    assert body["errors"] == body["warnings"] == body["findings"] == []
    assert body["ruleset_version"] == RULESET_VERSION
    assert 50 < body["confidence"] <= 100
    # No key configured: the rules' verdict, and the answer says so.
    assert body["ai"] == {
        "status": "skipped",
        "reason": "not_configured",
        "detail": "the AI service is not configured (ANTHROPIC_API_KEY unset)",
    }
    assert "cache-status" not in response.headers


def _iva_off_by_one() -> dict[str, Any]:
    doc = factura_33()
    doc["Encabezado"]["Totales"]["IVA"] = 218847
    return doc


def _nc_without_reference() -> dict[str, Any]:
    doc = nota_credito_61()
    del doc["Referencia"]
    return doc


def _folio_outside_caf() -> dict[str, Any]:
    doc = factura_33()
    doc["Encabezado"]["IdDoc"]["Folio"] = 501
    doc["TED"]["DD"]["F"] = 501
    return doc


SEEDED = [
    pytest.param(_iva_off_by_one, "DTE_IVA_MISMATCH", "218848", id="iva-off-by-one-peso"),
    pytest.param(_nc_without_reference, "DTE_REF_MISSING", None, id="nc-without-reference"),
    pytest.param(
        lambda: flat_odoo() | {"rut_emisor": "76.354.771-9"},
        "DTE_RUT_CHECK_DIGIT",
        "K",
        id="wrong-check-digit",
    ),
    pytest.param(_folio_outside_caf, "DTE_FOLIO_OUTSIDE_CAF", "1..500", id="folio-outside-caf"),
    pytest.param(lambda: flat_odoo() | {"tipo_dte": 34}, "DTE_EXEMPT_WITH_IVA", "0", id="34-iva"),
]


@pytest.mark.parametrize(("build", "code", "expected"), SEEDED)
async def test_seeded_errors_are_reported_with_code_and_expected_value(
    app: Any, quipu_client: Any, build: Any, code: str, expected: str | None
) -> None:
    response = await post(app, quipu_client, {"dte_data": build(), "company_id": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["recommendation"] == "reject"
    found = [f for f in body["findings"] if f["code"] == code]
    assert found, body["findings"]
    assert all(f["severity"] == "error" and f["source"] == "rules" for f in found)
    assert found[0]["expected"] == expected
    assert any(e.startswith(f"{code}: ") for e in body["errors"])
    assert body["confidence"] >= 95
    # The rules are conclusive: auto mode does not spend an AI call on a rejected document.
    assert body["ai"]["status"] == "skipped"


async def test_iva_message_names_the_expected_amount(app: Any, quipu_client: Any) -> None:
    body = (await post(app, quipu_client, {"dte_data": _iva_off_by_one(), "company_id": 1})).json()
    assert body["errors"] == [
        "DTE_IVA_MISMATCH: IVA declarado 218.847, esperado 218.848 (19% de 1.151.829)."
    ]
    assert body["findings"][0] | {"message": "…"} == {
        "code": "DTE_IVA_MISMATCH",
        "severity": "error",
        "path": "Encabezado.Totales.IVA",
        "expected": "218848",
        "actual": "218847",
        "message": "…",
        "source": "rules",
    }


async def test_odoo_reception_payload_as_sent(app: Any, quipu_client: Any) -> None:
    """§7.1: flat dte_data, ``mode``, history items without error_code/message."""
    dte_data = flat_odoo()
    dte_data.pop("mode")
    body = {
        "dte_data": dte_data,
        "history": [
            {
                "tipo_dte": "33",
                "folio": str(1000 + i),
                "fecha_emision": f"2025-09-{10 + i:02d}",
                "monto_total": 119000.0,
                "monto_neto": 100000.0,
                "monto_iva": 19000.0,
                "monto_exento": 0.0,
            }
            for i in range(5)
        ],
        "company_id": 1,
        "mode": "reception",
    }
    response = await post(app, quipu_client, body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["recommendation"] == "send"
    assert set(answer) >= {"confidence", "warnings", "errors", "recommendation"}
    assert answer["document"] == "76.354.771-K/33/12345"


async def test_flat_form_with_extra_keys(app: Any, quipu_client: Any) -> None:
    response = await post(app, quipu_client, {"dte_data": flat_odoo(), "company_id": 1})
    body = response.json()
    assert response.status_code == 200
    assert body["recommendation"] == "send"
    # Nothing for the AI to add (no history, no lines): not even tried.
    assert body["ai"] == {"status": "skipped", "reason": "not_needed"}


async def test_a_duplicate_folio_in_the_history_is_rejected(app: Any, quipu_client: Any) -> None:
    body = {
        "dte_data": flat_odoo(),
        "history": [{"tipo_dte": "33", "folio": "12345", "fecha_emision": "2025-10-01"}],
        "company_id": 1,
    }
    answer = (await post(app, quipu_client, body)).json()
    assert answer["recommendation"] == "reject"
    assert [f["code"] for f in answer["findings"]] == ["DTE_DUPLICATE_FOLIO"]


@pytest.mark.parametrize("name", ["envio_boleta_39_iso8859.xml", "dte_52_sin_namespace.xml"])
async def test_sii_xml_fixtures(app: Any, quipu_client: Any, name: str) -> None:
    body = {"dte_data": {"dte_xml": xml_fixture(name)}, "company_id": 1}
    answer = (await post(app, quipu_client, body)).json()
    assert answer["recommendation"] == "send", answer
    assert "documents" not in answer


async def test_envio_with_two_documents_answers_each(app: Any, quipu_client: Any) -> None:
    body = {"dte_data": {"dte_xml": xml_fixture("envio_dte_33_61_iso8859.xml")}, "company_id": 1}
    answer = (await post(app, quipu_client, body)).json()
    assert answer["recommendation"] == "send"
    assert [d["document"] for d in answer["documents"]] == [f"{EMISOR}/33/170", f"{EMISOR}/61/45"]
    assert all(d["recommendation"] == "send" for d in answer["documents"])
    assert answer["document"] == "2 documentos"


async def test_envio_aggregate_prefixes_messages_with_the_document(
    app: Any, quipu_client: Any
) -> None:
    text = xml_fixture("envio_dte_33_61_iso8859.xml").replace(
        "<IVA>19000</IVA>", "<IVA>19001</IVA>"
    )
    answer = (
        await post(app, quipu_client, {"dte_data": {"dte_xml": text}, "company_id": 1})
    ).json()
    assert answer["recommendation"] == "reject"
    assert [d["recommendation"] for d in answer["documents"]] == ["send", "reject"]
    assert answer["errors"][0].startswith(f"{EMISOR}/61/45: DTE_IVA_MISMATCH")
    assert answer["findings"][0]["document"] == f"{EMISOR}/61/45"


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        (
            {"dte_data": flat_odoo() | {"monto_iva": "12a"}, "company_id": 1},
            "dte_data.monto_iva",
            "not a number",
        ),
        ({"dte_data": {"dte_xml": "<DTE><Documento>"}, "company_id": 1}, "dte_data.dte_xml", ""),
        ({"dte_data": {"folio": 7}, "company_id": 1}, "dte_data.tipo_dte", ""),
        (
            {"dte_data": flat_odoo(), "company_id": 1, "history": [{"monto_total": "mucho"}]},
            "history[0].monto_total",
            "",
        ),
        ({"dte_data": {}, "company_id": 1}, "dte_data", "empty"),
    ],
)
async def test_unreadable_documents_answer_422_naming_the_field(
    app: Any, quipu_client: Any, body: dict[str, Any], field: str, text: str
) -> None:
    response = await post(app, quipu_client, body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert field in answer["detail"]
    assert text in answer["detail"]
    assert any(e["field"] == field for e in answer["errors"])


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"dte_data": flat_odoo()}, "company_id"),
        ({"dte_data": "33", "company_id": 1}, "dte_data"),
        ({"dte_data": flat_odoo(), "company_id": 0}, "company_id"),
        ({"dte_data": flat_odoo(), "company_id": 1, "history": "ninguno"}, "history"),
        ([1, 2], ""),
    ],
)
async def test_bodies_of_the_wrong_shape_answer_422(
    app: Any, quipu_client: Any, body: Any, where: str
) -> None:
    response = await post(app, quipu_client, body)
    assert response.status_code == 422, response.text
    assert where in response.json()["detail"]


async def test_not_json_is_400(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        response = await client.post(
            URL, content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["detail"]


async def test_company_scope(app: Any, quipu_client: Any) -> None:
    body = {"dte_data": flat_odoo(), "company_id": 2}
    async with quipu_client(app, auth=False) as client:
        denied = await client.post(URL, json=body, headers=SCOPED_KEY)
        allowed = await client.post(URL, json=body | {"company_id": 1}, headers=SCOPED_KEY)
        anonymous = await client.post(URL, json=body)
    assert denied.status_code == 403
    assert "company 2" in denied.json()["detail"]
    assert allowed.status_code == 200
    assert anonymous.status_code == 401


async def test_rule_overrides_from_the_config(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    app = dte_app("[plugins.dte.rules]\namount_tolerance = 1\n")
    answer = (
        await post(app, quipu_client, {"dte_data": _iva_off_by_one(), "company_id": 1})
    ).json()
    assert answer["recommendation"] == "send"


async def test_openapi_documents_the_routes(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/ai/validate", "/api/ai/validate/batch", "/api/ai/reception/match_po"):
        assert "dte" in schema["paths"][path]["post"]["tags"]
