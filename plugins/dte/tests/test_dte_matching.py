"""Purchase-order matching: exact match, tolerance, ties, partner safety, Odoo payloads."""

from typing import Any

import pytest
from dte_builders import dte_xml, factura_33
from quipu_dte.errors import DteInputError
from quipu_dte.matching import MatchConfig, match_po_request, similarity


def odoo_payload(**invoice_overrides: Any) -> dict[str, Any]:
    """The payload Odoo's dte_inbox sends (original-ai-service.md §7.2)."""
    invoice = {
        "partner_id": 42,
        "partner_vat": "76123456-0",
        "partner_name": "Proveedor SpA",
        "total_amount": 119000.0,
        "date": "2025-10-23",
        "reference": "12345",
        "lines": [
            {
                "NmbItem": "Cemento Polpaico 25 kg",
                "QtyItem": 10,
                "PrcItem": 10000,
                "MontoItem": 100000,
            }
        ],
    } | invoice_overrides
    return {
        "dte_data": invoice,
        "pending_pos": [
            {
                "id": 7,
                "name": "P00007",
                "partner_id": [42, "Proveedor SpA"],
                "partner_vat": "76123456-0",
                "amount_total": 119000.0,
                "date_order": "2025-10-01T12:00:00",
                "currency": "CLP",
                "lines": [
                    {
                        "product_id": 3,
                        "product_name": "Cemento Polpaico 25kg",
                        "qty": 10.0,
                        "price_unit": 10000.0,
                        "subtotal": 100000.0,
                    }
                ],
            },
            {
                "id": 8,
                "name": "P00008",
                "partner_id": [42, "Proveedor SpA"],
                "partner_vat": "76123456-0",
                "amount_total": 595000.0,
                "date_order": "2025-10-05",
                "currency": "CLP",
                "lines": [
                    {
                        "product_id": 9,
                        "product_name": "Fierro estriado 12 mm",
                        "qty": 50,
                        "price_unit": 10000.0,
                    }
                ],
            },
        ],
        "company_id": 1,
    }


def test_exact_match() -> None:
    result = match_po_request(odoo_payload())
    assert result.matched_po_id == 7
    assert result.confidence >= 95
    assert not result.tie
    assert [c.po_id for c in result.candidates] == [7, 8]
    (line,) = result.line_matches
    assert (line.invoice_line, line.po_line, line.product_id) == (0, 0, 3)
    assert line.name_similarity > 0.9
    assert "RUT del proveedor coincide" in result.reasoning
    response = result.to_response()
    assert set(response) == {"matched_po_id", "confidence", "line_matches", "reasoning"}
    assert response["line_matches"][0]["product_id"] == 3


def test_invoice_data_alias() -> None:
    payload = odoo_payload()
    payload["invoice_data"] = payload.pop("dte_data")
    assert match_po_request(payload).matched_po_id == 7


def test_amount_within_tolerance_still_matches() -> None:
    result = match_po_request(odoo_payload(total_amount=120000.0))  # +0,8 %
    assert result.matched_po_id == 7
    assert "diferencia 0,8%" in result.reasoning


def test_amount_far_off_is_not_matched() -> None:
    result = match_po_request(odoo_payload(total_amount=300000.0, lines=[]))
    assert result.matched_po_id is None
    assert "umbral" in result.reasoning


def test_tie_between_identical_pos() -> None:
    payload = odoo_payload()
    twin = dict(payload["pending_pos"][0], id=9, name="P00009")
    payload["pending_pos"].append(twin)
    result = match_po_request(payload)
    assert result.tie
    assert result.matched_po_id is None
    assert {c.po_id for c in result.candidates[:2]} == {7, 9}
    assert "Empate" in result.reasoning


def test_other_supplier_never_matches() -> None:
    payload = odoo_payload()
    for po in payload["pending_pos"]:
        po["partner_vat"] = "96790240-3"
    result = match_po_request(payload)
    assert result.matched_po_id is None
    assert not result.candidates[0].eligible
    assert result.candidates[0].score < 30


def test_name_only_partner_and_dotted_rut() -> None:
    payload = odoo_payload(partner_vat="76.123.456-0")
    assert match_po_request(payload).matched_po_id == 7
    payload = odoo_payload(partner_vat=None, partner_id=None, partner_name="PROVEEDOR S.P.A.")
    for po in payload["pending_pos"]:
        po.pop("partner_vat")
        po.pop("partner_id")
        po["partner_name"] = "Proveedor SpA"
    result = match_po_request(payload)
    assert result.matched_po_id == 7
    assert result.candidates[0].partner_score == 1.0


def test_po_after_invoice_is_penalised() -> None:
    payload = odoo_payload()
    base = match_po_request(payload).candidates[0].score
    payload["pending_pos"][0]["date_order"] = "2025-11-30"
    late = match_po_request(payload)
    assert late.candidates[0].score == pytest.approx(base - 10, abs=0.01)
    assert "posterior" in " ".join(late.candidates[0].reasons)


def test_dte_data_as_xml_document() -> None:
    payload = {
        "dte_data": {"dte_xml": dte_xml(factura_33())},
        "pending_pos": [
            {
                "id": "oc-1",
                "name": "OC-4471",
                "partner_vat": "76354771-K",
                "amount_total": 1370677,
                "amount_untaxed": 1151829,
                "lines": [
                    {"product_name": "Licencia software ERP", "qty": 2, "price_unit": 450000},
                    {"product_name": "Soporte mensual", "qty": 1, "price_unit": 225000},
                    {"product_name": "Capacitación de usuarios", "qty": 3, "price_unit": 8942.86},
                ],
            },
        ],
    }
    result = match_po_request(payload)
    assert result.matched_po_id == "oc-1"
    assert len(result.line_matches) == 3


def test_config_threshold() -> None:
    strict = MatchConfig(threshold=99.9)
    assert match_po_request(odoo_payload(total_amount=120000.0), strict).matched_po_id is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"dte_data": {"total_amount": 1}, "pending_pos": []}, "pending_pos"),
        ({"pending_pos": [{"id": 1}]}, "invoice_data"),
        (
            {"dte_data": {"total_amount": "mucho"}, "pending_pos": [{"id": 1}]},
            "dte_data.total_amount",
        ),
        ({"dte_data": {"total_amount": 1}, "pending_pos": [{"name": "P1"}]}, "pending_pos[0].id"),
        ({"dte_data": {"total_amount": 1}, "pending_pos": [{"id": 1}] * 201}, "pending_pos"),
        ("nope", ""),
    ],
)
def test_malformed_requests(payload: Any, field: str) -> None:
    with pytest.raises(DteInputError) as info:
        match_po_request(payload)
    assert field in [p for p, _ in info.value.problems]


def test_similarity() -> None:
    assert similarity("Cemento Polpaico 25 kg", "CEMENTO POLPAICO 25KG") > 0.9
    assert similarity("Cemento", "Fierro estriado") < 0.5
    assert similarity("Ñandú", "nandu") == 1.0
    assert similarity("", "x") == 0.0
