"""Seeded errors reported with code and expected value; correct documents validate clean."""

from datetime import date
from pathlib import Path

import msgspec
import pytest
from dte_builders import TODAY, boleta_39, factura_33, flat_odoo, guia_52, nota_credito_61
from quipu_dte.parse import parse_dte_data
from quipu_dte.rules import (
    RULES,
    RULESET_VERSION,
    VendorHistory,
    confidence,
    parse_history,
    validate,
    validate_batch,
)

FIXTURES = Path(__file__).parent / "fixtures"


def check(data: dict[str, object], today: date = TODAY):  # type: ignore[no-untyped-def]
    return validate(parse_dte_data(data).single, today=today)


def only(report, code: str):  # type: ignore[no-untyped-def]
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, report.codes()
    return found[0]


def test_iva_off_by_one_peso() -> None:
    doc = factura_33()
    doc["Encabezado"]["Totales"]["IVA"] = 218847
    report = check(doc)
    assert report.codes() == ["DTE_IVA_MISMATCH"]
    finding = report.findings[0]
    assert (finding.path, finding.expected, finding.actual) == (
        "Encabezado.Totales.IVA",
        "218848",
        "218847",
    )
    assert finding.message == "IVA declarado 218.847, esperado 218.848 (19% de 1.151.829)."
    assert report.recommendation == "reject"
    assert report.errors == (f"DTE_IVA_MISMATCH: {finding.message}",)


def test_iva_off_by_one_on_the_flat_form() -> None:
    report = check(flat_odoo() | {"monto_neto": 770329, "monto_iva": 146362, "monto_total": 916691})
    finding = only(report, "DTE_IVA_MISMATCH")
    assert finding.message == "IVA declarado 146.362, esperado 146.363 (19% de 770.329)."


def test_expected_values_are_the_smallest_correction() -> None:
    """A wrong line does not leak into the IVA expectation when MntNeto follows the lines."""
    doc = nota_credito_61()
    doc["Detalle"][0]["QtyItem"] = 2  # 2 × 100.000 ≠ 100.000 declared
    doc["Encabezado"]["Totales"]["IVA"] = 19001
    report = check(doc)
    assert report.codes() == ["DTE_LINE_AMOUNT_MISMATCH", "DTE_IVA_MISMATCH"]
    iva = report.findings[1]
    assert iva.expected == "19000"
    assert iva.message == "IVA declarado 19.001, esperado 19.000 (19% de 100.000)."


def test_boleta_iva_is_total_minus_neto() -> None:
    doc = boleta_39()
    doc["Encabezado"]["Totales"]["IVA"] = 1355
    finding = only(check(doc), "DTE_IVA_MISMATCH")
    assert finding.expected == "1354"
    assert "total afecto 8.480 menos neto 7.126" in finding.message


def test_credit_note_without_reference() -> None:
    doc = nota_credito_61()
    del doc["Referencia"]
    finding = only(check(doc), "DTE_REF_MISSING")
    assert finding.path == "Referencia"
    assert finding.severity == "error"
    assert "Nota de Crédito" in finding.message


def test_wrong_check_digit() -> None:
    report = check(flat_odoo() | {"rut_emisor": "76.354.771-9"})
    finding = only(report, "DTE_RUT_CHECK_DIGIT")
    assert (finding.expected, finding.actual) == ("K", "9")
    assert "76.354.771-9" in finding.message
    assert "el correcto es K" in finding.message


def test_folio_outside_caf() -> None:
    doc = factura_33()
    doc["Encabezado"]["IdDoc"]["Folio"] = 501
    doc["TED"]["DD"]["F"] = 501
    report = check(doc)
    assert report.codes() == ["DTE_FOLIO_OUTSIDE_CAF"]
    assert report.findings[0].expected == "1..500"
    assert report.findings[0].actual == "501"


def test_exempt_invoice_with_iva() -> None:
    report = check(flat_odoo() | {"tipo_dte": 34})
    finding = [f for f in report.findings if f.code == "DTE_EXEMPT_WITH_IVA"]
    assert {f.path for f in finding} == {"Encabezado.Totales.MntNeto", "Encabezado.Totales.IVA"}
    assert all(f.expected == "0" for f in finding)


@pytest.mark.parametrize("build", [factura_33, nota_credito_61, boleta_39, guia_52])
def test_correct_documents_validate_clean(build) -> None:  # type: ignore[no-untyped-def]
    report = check(build())
    assert report.recommendation == "send"
    assert report.findings == ()
    assert report.ruleset_version == RULESET_VERSION
    assert report.to_response() == {
        "confidence": report.confidence,
        "warnings": [],
        "errors": [],
        "recommendation": "send",
    }


def test_envio_fixture_validates_clean_as_a_batch() -> None:
    text = (FIXTURES / "envio_dte_33_61_iso8859.xml").read_bytes().decode("iso-8859-1")
    reports = validate_batch(parse_dte_data({"dte_xml": text}).documents, today=TODAY)
    assert [r.recommendation for r in reports] == ["send", "send"]
    assert [r.document for r in reports] == ["76354771-K/33/170", "76354771-K/61/45"]


@pytest.mark.parametrize("name", ["envio_boleta_39_iso8859.xml", "dte_52_sin_namespace.xml"])
def test_other_fixtures_validate_clean(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    text = raw.decode("iso-8859-1" if b"ISO-8859-1" in raw[:60] else "utf-8")
    parsed = parse_dte_data({"dte_xml": text})
    assert validate(parsed.single, today=TODAY).findings == ()


def test_duplicate_inside_a_batch() -> None:
    doc = parse_dte_data(factura_33()).single
    reports = validate_batch([doc, doc], today=TODAY)
    assert reports[0].codes() == []
    assert reports[1].codes() == ["DTE_DUPLICATE_FOLIO"]


def test_duplicate_ignores_other_vendors() -> None:
    history = parse_history(
        {"rut_emisor": "96790240-3", "documents": [{"tipo_dte": 33, "folio": 170}]}
    )
    report = validate(parse_dte_data(factura_33()).single, today=TODAY, history=history)
    assert "DTE_DUPLICATE_FOLIO" not in report.codes()


def test_report_is_deterministic_and_serialisable() -> None:
    doc = factura_33()
    doc["Encabezado"]["Totales"]["MntTotal"] = 1
    a = check(doc)
    b = check(doc)
    assert msgspec.json.encode(a) == msgspec.json.encode(b)
    assert msgspec.json.decode(msgspec.json.encode(a))["findings"][0]["code"]


def test_confidence_formula() -> None:
    assert confidence("send", 1.0, 0) == 100.0
    assert confidence("send", 0.5, 0) == 75.0
    assert confidence("reject", 0.0, 0) == 95.0
    assert confidence("review", 1.0, 1) == 80.0
    assert confidence("review", 0.0, 10) == 40.0
    full = validate(parse_dte_data(factura_33()).single, today=TODAY, history=VendorHistory())
    flat = check(flat_odoo())
    assert full.confidence > flat.confidence > 50
    assert full.rules_evaluated + len(full.rules_skipped) == len(RULES)
