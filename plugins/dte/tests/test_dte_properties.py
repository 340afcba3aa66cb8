"""Property tests: generated consistent documents validate clean, and perturbing one
amount yields exactly the finding for that amount.

The expected amounts are computed here with integer arithmetic (cents and
explicit half-up rounding), independently of the library's Decimal code.
"""

from decimal import Decimal
from typing import Any

from dte_builders import EMISOR, RECEPTOR, TODAY
from hypothesis import given, settings
from hypothesis import strategies as st
from quipu_dte.parse import parse_dte_data
from quipu_dte.rules import validate


def half_up_div(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves away from zero, for non-negative ints."""
    return (2 * numerator + denominator) // (2 * denominator)


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    # At least half a peso per line, so no generated line rounds to 0 (a
    # document totalling 0 is rightly warned about).
    qty_thousandths = draw(st.integers(500, 500_000))  # 0,5 .. 500 units
    price_cents = draw(st.integers(100, 50_000_000))  # 1 .. 500.000 pesos
    base = half_up_div(qty_thousandths * price_cents, 100_000)
    line: dict[str, Any] = {
        "NmbItem": draw(st.sampled_from(["Cemento", "Fierro 12 mm", "Servicio", "Arena"])),
        "QtyItem": str(Decimal(qty_thousandths) / 1000),
        "PrcItem": str(Decimal(price_cents) / 100),
    }
    amount = base
    if draw(st.booleans()):
        pct = draw(st.integers(1, 49))  # < 50% keeps every line above 0
        discount = half_up_div(base * pct, 100)
        line |= {"DescuentoPct": pct, "DescuentoMonto": discount}
        amount -= discount
    if draw(st.integers(0, 4)) == 0:
        line["IndExe"] = 1
    line["MontoItem"] = amount
    return line


@st.composite
def consistent_factura(draw: st.DrawFn) -> dict[str, Any]:
    detalle = draw(st.lists(lines(), min_size=1, max_size=12))
    if all(ln.get("IndExe") == 1 for ln in detalle):
        detalle[0].pop("IndExe")  # keep at least one taxable line: a 33 needs one
    for i, ln in enumerate(detalle):
        ln["NroLinDet"] = i + 1
    neto = sum(ln["MontoItem"] for ln in detalle if "IndExe" not in ln)
    exento = sum(ln["MontoItem"] for ln in detalle if ln.get("IndExe") == 1)
    iva = half_up_div(neto * 19, 100)
    totales: dict[str, Any] = {"MntNeto": neto, "TasaIVA": 19, "IVA": iva}
    if exento:
        totales["MntExe"] = exento
    totales["MntTotal"] = neto + iva + exento
    return {
        "Encabezado": {
            "IdDoc": {
                "TipoDTE": 33,
                "Folio": draw(st.integers(1, 10**9)),
                "FchEmis": "2025-10-20",
                "FmaPago": 1,
            },
            "Emisor": {
                "RUTEmisor": EMISOR,
                "RznSoc": "Ferretería Sur SpA",
                "GiroEmis": "Venta de materiales",
                "Acteco": "475201",
            },
            "Receptor": {"RUTRecep": RECEPTOR, "RznSocRecep": "Constructora Andes Ltda."},
            "Totales": totales,
        },
        "Detalle": detalle,
    }


def codes(doc: dict[str, Any]) -> list[str]:
    return validate(parse_dte_data(doc).single, today=TODAY).codes()


@settings(max_examples=150, deadline=None)
@given(consistent_factura())
def test_consistent_document_validates_clean(doc: dict[str, Any]) -> None:
    assert codes(doc) == []


TOTAL_FIELDS = {
    "IVA": "DTE_IVA_MISMATCH",
    "MntTotal": "DTE_TOTAL_MISMATCH",
    "MntNeto": "DTE_NETO_MISMATCH",
    "MntExe": "DTE_EXENTO_MISMATCH",
}


@settings(max_examples=200, deadline=None)
@given(consistent_factura(), st.sampled_from(sorted(TOTAL_FIELDS)), st.integers(1, 10**6))
def test_perturbing_one_total_yields_exactly_its_code(
    doc: dict[str, Any], field: str, delta: int
) -> None:
    totales = doc["Encabezado"]["Totales"]
    totales[field] = totales.get(field, 0) + delta
    assert codes(doc) == [TOTAL_FIELDS[field]]


@settings(max_examples=200, deadline=None)
@given(consistent_factura(), st.data(), st.integers(1, 10**6))
def test_perturbing_one_line_yields_exactly_the_line_code(
    doc: dict[str, Any], data: st.DataObject, delta: int
) -> None:
    index = data.draw(st.integers(0, len(doc["Detalle"]) - 1))
    doc["Detalle"][index]["MontoItem"] += delta
    report = validate(parse_dte_data(doc).single, today=TODAY)
    assert report.codes() == ["DTE_LINE_AMOUNT_MISMATCH"]
    assert report.findings[0].path == f"Detalle[{index}].MontoItem"
    assert report.findings[0].expected == str(doc["Detalle"][index]["MontoItem"] - delta)


@settings(max_examples=100, deadline=None)
@given(consistent_factura(), st.integers(1, 10**6))
def test_propagated_iva_error_is_reported_once(doc: dict[str, Any], delta: int) -> None:
    """IVA wrong and a MntTotal that adds up with it: the root cause only."""
    totales = doc["Encabezado"]["Totales"]
    totales["IVA"] += delta
    totales["MntTotal"] += delta
    assert codes(doc) == ["DTE_IVA_MISMATCH"]


@settings(max_examples=100, deadline=None)
@given(consistent_factura(), st.integers(0, 10**6))
def test_flat_form_iva_property(doc: dict[str, Any], delta: int) -> None:
    t = doc["Encabezado"]["Totales"]
    flat = {
        "tipo_dte": "33",
        "folio": "1",
        "fecha_emision": "2025-10-20",
        "rut_emisor": EMISOR,
        "monto_neto": t["MntNeto"],
        "monto_iva": t["IVA"] + delta,
        "monto_exento": t.get("MntExe", 0),
        "monto_total": t["MntTotal"],
    }
    assert codes(flat) == (["DTE_IVA_MISMATCH"] if delta else [])
