"""Issue 14: boletas, exempt invoices and type/content inconsistencies checked to the peso.

Every figure comes from a public source, cited where it is used; the short names are
those of /work/shared/reference/domain-chile.md:

- SII-FORMATO: SII "Formato Documentos Tributarios Electrónicos" v2.2 (2019-11-15).
- A13-A15: domain-chile.md §2.3, from SII-FORMATO, the EnvioBOLETA_v11.xsd annotations
  and LibreDTE ``Utils::calculateNetoIVA``.
- Real DTEs: the four SII-accepted documents of cl-sii's test data
  (``src/tests/test_data/sii-dte/*.xml``), whose totals domain-chile.md §2.3 tabulates.
"""

from __future__ import annotations

from typing import Any

import pytest
from dte_builders import (
    TODAY,
    boleta_39,
    clone,
    factura_33,
    factura_exenta_34,
    flat_odoo,
    guia_52,
    nota_credito_61,
)
from quipu_dte.batch_checks import duplicate_folio_findings, with_findings
from quipu_dte.config import DteConfig
from quipu_dte.parse import parse_dte_data
from quipu_dte.rules import RuleConfig, ValidationReport, validate

STRICT = DteConfig().rule_config()


def report(doc: dict[str, Any], config: RuleConfig = STRICT) -> ValidationReport:
    return validate(parse_dte_data(doc).single, today=TODAY, config=config)


def found(rep: ValidationReport, code: str) -> Any:
    matches = [f for f in rep.findings if f.code == code]
    assert len(matches) == 1, rep.codes()
    return matches[0]


def boleta(lines: list[tuple[int, bool]], totales: dict[str, int]) -> dict[str, Any]:
    """A boleta 39 with ``(MontoItem, exempt)`` lines (quantity 1) and ``totales``."""
    doc = boleta_39()
    doc["Detalle"] = [
        {"NroLinDet": i + 1, "NmbItem": f"Ítem {i + 1}", "QtyItem": 1, "PrcItem": amount}
        | {"MontoItem": amount}
        | ({"IndExe": 1} if exempt else {})
        for i, (amount, exempt) in enumerate(lines)
    ]
    doc["Encabezado"]["Totales"] = totales
    return doc


# --- 1. Boletas (A15) -------------------------------------------------------------------

# A15 (LibreDTE's edge case): gross 680 → neto round(680 / 1,19) = round(571,43) = 571,
# IVA = 680 − 571 = 109, although round(571 × 0,19) = round(108,49) = 108.
GROSS_680 = {"MntNeto": 571, "IVA": 109, "MntTotal": 680}


def test_a15_edge_case_boleta_is_clean() -> None:
    assert report(boleta([(680, False)], GROSS_680)).codes() == []


def test_a15_edge_case_iva_from_the_net_is_wrong() -> None:
    rep = report(boleta([(680, False)], GROSS_680 | {"IVA": 108}))
    assert rep.codes() == ["DTE_IVA_MISMATCH"]
    iva = found(rep, "DTE_IVA_MISMATCH")
    assert (iva.expected, iva.actual) == ("109", "108")
    assert "IVA declarado 108, esperado 109 (total afecto 680 menos neto 571)" in iva.message
    # neto + IVA added up (571 + 108 = 679): the total is what departs from the lines,
    # reported once with the neto and IVA it implies.
    rep = report(boleta([(680, False)], GROSS_680 | {"IVA": 108, "MntTotal": 679}))
    assert rep.codes() == ["DTE_TOTAL_MISMATCH"]
    total = found(rep, "DTE_TOTAL_MISMATCH")
    assert (total.expected, total.actual) == ("680", "679")
    assert "IVA esperado 680 − 571 = 109" in total.message


def test_boleta_with_iva_added_over_gross_prices_is_rejected() -> None:
    """The issue's case: the issuer took the gross 680 as net and added 19 % on top.

    Neto 680, IVA round(680 × 0,19) = 129, MntTotal 809: neto + IVA = total, but the
    customer paid 680 (A15: MntTotal = Σ gross affected lines + Σ exempt lines).
    """
    rep = report(boleta([(680, False)], {"MntNeto": 680, "IVA": 129, "MntTotal": 809}))
    assert rep.recommendation == "reject"
    total = found(rep, "DTE_TOTAL_MISMATCH")
    assert (total.severity, total.expected, total.actual) == ("error", "680", "809")
    assert total.message.startswith("Monto total declarado 809, esperado 680 (")
    assert "neto esperado 680 / 1,19 = 571" in total.message
    assert "IVA esperado 680 − 571 = 109" in total.message
    assert "suma el IVA sobre precios que ya lo incluyen" in total.message


def test_boleta_builder_with_iva_added_on_top() -> None:
    # dte_builders.boleta_39: 2 × 1.990 + 4.500 = 8.480 gross; neto round(8.480 / 1,19) =
    # 7.126, IVA 1.354. Taken as net: IVA round(8.480 × 0,19) = 1.611, total 10.091.
    doc = boleta_39()
    doc["Encabezado"]["Totales"] = {"MntNeto": 8480, "IVA": 1611, "MntTotal": 10091}
    rep = report(doc)
    assert rep.codes() == ["DTE_TOTAL_MISMATCH"]
    msg = found(rep, "DTE_TOTAL_MISMATCH").message
    assert "esperado 8.480" in msg
    assert "= 7.126" in msg
    assert "= 1.354" in msg


def test_boleta_with_exempt_line_adds_it_once() -> None:
    # A15: MntTotal = Σ gross affected (680) + Σ exempt (1.000) = 1.680; neto and IVA
    # come from the affected part only: 571 and 109.
    ok = {"MntNeto": 571, "MntExe": 1000, "IVA": 109, "MntTotal": 1680}
    lines = [(680, False), (1000, True)]
    assert report(boleta(lines, ok)).codes() == []
    # IVA added over both parts: 680 + 129 + 1.000.
    rep = report(boleta(lines, ok | {"MntNeto": 680, "IVA": 129, "MntTotal": 1809}))
    assert found(rep, "DTE_TOTAL_MISMATCH").expected == "1680"


def test_boleta_with_ind_mnt_neto_2_has_net_lines() -> None:
    # IndMntNeto = 2: the lines are net, so 571 net → IVA round(571 × 0,19) = 108.
    doc = boleta([(571, False)], {"MntNeto": 571, "IVA": 108, "MntTotal": 679})
    doc["Encabezado"]["IdDoc"]["IndMntNeto"] = 2
    assert report(doc).codes() == []


def test_boleta_exenta_with_iva_names_the_boleta_to_use() -> None:
    doc = boleta([(5000, False)], {"MntExe": 5000, "IVA": 950, "MntTotal": 5950})
    doc["Encabezado"]["IdDoc"]["TipoDTE"] = 41
    rep = report(doc)
    exempt = found(rep, "DTE_EXEMPT_WITH_IVA")
    assert exempt.severity == "error"
    assert "se declaró 950 y se esperaba 0" in exempt.message
    assert "boleta electrónica (39)" in exempt.message


def test_boleta_whose_lines_are_all_exempt_is_a_41() -> None:
    rep = report(boleta([(1000, True)], {"MntExe": 1000, "MntTotal": 1000}))
    f = found(rep, "DTE_SHOULD_BE_EXEMPT")
    assert (f.severity, f.expected, f.actual) == ("error", "41", "39")
    assert rep.recommendation == "reject"


# --- 2. Exempt invoices and type/content inconsistencies --------------------------------


def test_factura_33_with_every_line_exempt_must_be_a_34() -> None:
    # SII-FORMATO p.31 (A14): a 33 whose lines all carry IndExe = 1 should be a 34.
    doc = factura_exenta_34()
    doc["Encabezado"]["IdDoc"]["TipoDTE"] = 33
    for line in doc["Detalle"]:
        line["IndExe"] = 1
    rep = report(doc)
    f = found(rep, "DTE_SHOULD_BE_EXEMPT")
    assert (f.severity, f.expected, f.actual) == ("error", "34", "33")
    assert "se esperaba factura exenta (tipo 34)" in f.message
    assert rep.recommendation == "reject"


def test_flat_factura_33_with_only_an_exempt_amount_must_be_a_34() -> None:
    flat = flat_odoo() | {"monto_neto": 0, "monto_iva": 0, "monto_exento": 50000}
    flat["monto_total"] = 50000
    f = found(report(flat), "DTE_SHOULD_BE_EXEMPT")
    assert f.severity == "error"
    assert f.expected == "34"
    assert "Monto exento 50.000 sin monto neto ni IVA" in f.message


def test_factura_exenta_34_with_iva_is_an_error_naming_the_33() -> None:
    # A13: a 34 carries no MntNeto, IVA or TasaIVA; MntTotal = MntExe.
    doc = factura_exenta_34()
    exe = doc["Encabezado"]["Totales"]["MntExe"]
    doc["Encabezado"]["Totales"] |= {"IVA": 19000, "MntTotal": exe + 19000}
    rep = report(doc)
    f = found(rep, "DTE_EXEMPT_WITH_IVA")
    assert (f.severity, f.expected, f.actual) == ("error", "0", "19000")
    assert "factura electrónica (33)" in f.message
    assert rep.recommendation == "reject"


def test_factura_exenta_34_total_is_its_exempt_amount() -> None:
    doc = factura_exenta_34()
    exe = doc["Encabezado"]["Totales"]["MntExe"]
    doc["Encabezado"]["Totales"]["MntTotal"] = exe + 1
    f = found(report(doc), "DTE_TOTAL_MISMATCH")
    assert (f.expected, f.actual) == (str(exe), str(exe + 1))


def note_with_refs(*refs: dict[str, Any]) -> dict[str, Any]:
    doc = nota_credito_61()
    doc["Referencia"] = [
        {"NroLinRef": i + 1, "FchRef": "2025-10-01", "CodRef": 3, "RazonRef": "Corrige montos"}
        | ref
        for i, ref in enumerate(refs)
    ]
    return doc


def test_credit_note_referencing_only_a_purchase_order_is_rejected() -> None:
    # SII-FORMATO p.41: the note's Referencia names the tax document it modifies; 801 is
    # an Orden de Compra (reference-only code).
    rep = report(note_with_refs({"TpoDocRef": "801", "FolioRef": "4500012"}))
    f = found(rep, "DTE_REF_TYPE_INVALID")
    assert f.severity == "error"
    assert f.actual == "801"
    assert "documento tributario que modifica" in f.message
    # Together with the invoice it corrects, the purchase order is fine.
    ok = note_with_refs(
        {"TpoDocRef": "33", "FolioRef": "170"}, {"TpoDocRef": "801", "FolioRef": "4500012"}
    )
    assert "DTE_REF_TYPE_INVALID" not in report(ok).codes()


def test_national_credit_note_on_an_export_invoice_should_be_a_112() -> None:
    # domain-chile.md §2.1: 112 (NC de exportación) is what modifies a 110.
    rep = report(note_with_refs({"TpoDocRef": "110", "FolioRef": "88"}))
    f = found(rep, "DTE_REF_TYPE_INVALID")
    assert (f.expected, f.actual, f.path) == ("112", "61", "Encabezado.IdDoc.TipoDTE")


def test_guia_without_ind_traslado_is_rejected_in_both_forms() -> None:
    # SII-FORMATO p.11: IndTraslado is obligatorio (1) for guías de despacho.
    xml_form = guia_52()
    del xml_form["Encabezado"]["IdDoc"]["IndTraslado"]
    flat = flat_odoo() | {"tipo_dte": "52"}
    for doc in (xml_form, flat):
        rep = report(doc)
        missing = [f for f in rep.findings if f.path == "Encabezado.IdDoc.IndTraslado"]
        assert [f.code for f in missing] == ["DTE_REQUIRED_FIELD"], rep.codes()
        assert "1 si la guía constituye venta" in missing[0].message
        assert rep.recommendation == "reject"
    assert report(flat | {"ind_traslado": 1}).codes() == []


# --- 3. Real SII-accepted facturas, to the peso ----------------------------------------

# domain-chile.md §2.3, cl-sii test data: (emisor/tipo/folio, MntNeto, IVA, MntTotal).
REAL = [
    ("76354771-K", 33, 170, 2517900, 478401, 2996301),
    ("60910000-1", 33, 2336600, 8943, 1699, 10642),
    ("76399752-9", 33, 25568, 194111, 36881, 230992),
]


def flat(rut: str, tipo: int, folio: int, neto: int, iva: int, total: int) -> dict[str, Any]:
    return {
        "tipo_dte": str(tipo),
        "folio": str(folio),
        "fecha_emision": "2025-10-20",
        "rut_emisor": rut,
        "monto_neto": neto,
        "monto_iva": iva,
        "monto_exento": 0,
        "monto_total": total,
    }


@pytest.mark.parametrize("row", REAL, ids=[f"{r[0]}/{r[1]}/{r[2]}" for r in REAL])
@pytest.mark.parametrize("field", ["monto_iva", "monto_total"])
@pytest.mark.parametrize("delta", [1, -1])
def test_real_dte_one_peso_off_is_an_error(row: tuple[Any, ...], field: str, delta: int) -> None:
    doc = flat(*row)
    assert report(doc).codes() == []
    right = doc[field]
    doc[field] = right + delta
    rep = report(doc)
    code = {"monto_iva": "DTE_IVA_MISMATCH", "monto_total": "DTE_TOTAL_MISMATCH"}[field]
    f = found(rep, code)
    assert (f.severity, f.expected, f.actual) == ("error", str(right), str(right + delta))
    assert rep.recommendation == "reject"


def test_a_tolerance_in_plugins_dte_accepts_a_peso() -> None:
    doc = flat(*REAL[0])
    doc["monto_iva"] += 1
    doc["monto_total"] += 1
    tolerant = DteConfig(tolerance=1).rule_config()
    assert tolerant.amount_tolerance == 1
    assert report(doc, tolerant).codes() == []
    doc["monto_iva"] += 1
    assert "DTE_IVA_MISMATCH" in report(doc, tolerant).codes()


def test_tolerance_settings_are_checked_at_start_up() -> None:
    assert DteConfig().rule_config().amount_tolerance == 0
    assert DteConfig(rules={"amount_tolerance": 2}).rule_config().amount_tolerance == 2
    assert DteConfig(tolerance=2, rules={"amount_tolerance": 2}).rule_config().amount_tolerance
    with pytest.raises(ValueError, match="disagree"):
        DteConfig(tolerance=1, rules={"amount_tolerance": 3})
    with pytest.raises(ValueError, match="tolerance = -1"):
        DteConfig(tolerance=-1)
    with pytest.raises(ValueError, match="cannot be negative"):
        DteConfig(rules={"line_tolerance": -1})


# --- 4. The same folio in two items of one batch ----------------------------------------


def docs(*items: dict[str, Any]) -> list[Any]:
    return [parse_dte_data(item).documents for item in items]


def test_duplicate_folio_findings_flags_only_later_items() -> None:
    first, other_folio = factura_33(), factura_33()
    other_folio["Encabezado"]["IdDoc"]["Folio"] = 171
    again = clone(first)
    again["Encabezado"]["Emisor"]["RUTEmisor"] = "76.354.771-K"  # same RUT, printed form
    out = duplicate_folio_findings([*docs(first, other_folio), None, *docs(again)])
    assert list(out) == [(3, 0)]
    f = out[3, 0]
    assert (f.code, f.severity, f.actual) == ("DTE_DUPLICATE_FOLIO", "error", "170")
    assert "documents[0]" in f.message
    assert "76354771-K" in f.message


def test_same_folio_of_another_type_or_issuer_is_not_a_duplicate() -> None:
    factura, nota = factura_33(), nota_credito_61()
    nota["Encabezado"]["IdDoc"]["Folio"] = 170
    other_issuer = factura_33()
    other_issuer["Encabezado"]["Emisor"]["RUTEmisor"] = "96790240-3"
    assert duplicate_folio_findings(docs(factura, nota, other_issuer)) == {}


def test_duplicate_folio_respects_disabled_codes_and_overrides() -> None:
    items = docs(factura_33(), factura_33())
    off = RuleConfig(disabled_codes=frozenset({"DTE_DUPLICATE_FOLIO"}))
    assert duplicate_folio_findings(items, off) == {}
    soft = RuleConfig(severity_overrides={"DTE_DUPLICATE_FOLIO": "warning"})
    assert duplicate_folio_findings(items, soft)[1, 0].severity == "warning"


def test_with_findings_recomputes_the_verdict() -> None:
    rep = report(factura_33())
    assert rep.recommendation == "send"
    dup = duplicate_folio_findings(docs(factura_33(), factura_33()))[1, 0]
    flagged = with_findings(rep, [dup])
    assert flagged.recommendation == "reject"
    assert flagged.errors[-1].startswith("DTE_DUPLICATE_FOLIO: ")
    assert flagged.confidence >= 95
    assert with_findings(rep, []) is rep


# --- 5. company_id as a numeric string ---------------------------------------------------


async def test_company_id_may_be_a_string_of_digits(dte_app: Any, quipu_client: Any) -> None:
    from dte_http import SCOPED_KEY

    async with quipu_client(dte_app()) as client:
        ok = await client.post(
            "/api/ai/validate", json={"dte_data": flat_odoo(), "company_id": "1"}
        )
        scoped_other = await client.post(
            "/api/ai/validate",
            json={"dte_data": flat_odoo(), "company_id": "2"},
            headers=SCOPED_KEY,
        )
        bad = [
            await client.post("/api/ai/validate", json={"dte_data": flat_odoo(), "company_id": c})
            for c in ("uno", "0", "-1", "1.5", "")
        ]
    assert ok.status_code == 200, ok.text
    assert ok.json()["recommendation"] == "send"
    assert scoped_other.status_code == 403
    for response in bad:
        assert response.status_code in (400, 422), response.text
        assert "company_id" in response.text


def test_duplicate_key_findings_work_on_stored_keys() -> None:
    """A caller that cached items' results keeps their keys and checks the batch later."""
    from quipu_dte.batch_checks import document_key, duplicate_key_findings

    doc = parse_dte_data(flat_odoo()).single
    key = document_key(doc)
    assert key == ("76354771-K", 33, 12345)  # canonical RUT, not "76.354.771-K"
    out = duplicate_key_findings([[key], None, [("76354771-K", 33, 1), key]])
    assert list(out) == [(2, 1)]
    assert "documents[0]" in out[2, 1].message
