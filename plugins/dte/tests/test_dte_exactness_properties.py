"""Issue 14, property: consistent facturas, boletas and exempt invoices are accepted;
moving any one declared total by ±1 peso (or more) rejects the document with a finding
that states the declared value, the expected one and how it was computed.

Expected amounts are computed here with integer arithmetic, independently of the
library: facturas as in test_dte_properties (A4-A8), boletas by A15 (MntTotal = Σ gross
affected + Σ exempt; neto = round((MntTotal − MntExe) / 1,19); IVA = the rest), exempt
invoices by A13 (MntTotal = MntExe). domain-chile.md §2.3.
"""

from __future__ import annotations

from typing import Any

from dte_builders import EMISOR, TODAY
from hypothesis import given, settings
from hypothesis import strategies as st
from quipu_dte.money import fmt_amount
from quipu_dte.parse import parse_dte_data
from quipu_dte.rules import validate
from test_dte_properties import consistent_factura, half_up_div

CODES = {
    "MntNeto": "DTE_NETO_MISMATCH",
    "MntExe": "DTE_EXENTO_MISMATCH",
    "IVA": "DTE_IVA_MISMATCH",
    "MntTotal": "DTE_TOTAL_MISMATCH",
}


def _encabezado(tipo: int, folio: int, totales: dict[str, int]) -> dict[str, Any]:
    return {
        "IdDoc": {"TipoDTE": tipo, "Folio": folio, "FchEmis": "2025-10-20", "IndServicio": 3},
        "Emisor": {"RUTEmisor": EMISOR, "RznSocEmisor": "Almacén Sur", "GiroEmisor": "Almacén"},
        "Receptor": {"RUTRecep": "66666666-6"},
        "Totales": totales,
    }


@st.composite
def consistent_boleta(draw: st.DrawFn) -> dict[str, Any]:
    """A boleta 39: gross line prices (IVA included), some exempt lines, A15 totals."""
    n = draw(st.integers(1, 15))
    detalle = []
    for i in range(n):
        qty, price = draw(st.integers(1, 5)), draw(st.integers(100, 200_000))
        line = {"NroLinDet": i + 1, "NmbItem": "Producto", "QtyItem": qty, "PrcItem": price}
        line["MontoItem"] = qty * price
        if i > 0 and draw(st.integers(0, 3)) == 0:
            line["IndExe"] = 1
        detalle.append(line)
    exe = sum(ln["MontoItem"] for ln in detalle if ln.get("IndExe") == 1)
    total = sum(ln["MontoItem"] for ln in detalle)
    neto = half_up_div((total - exe) * 100, 119)
    totales = {"MntNeto": neto, "IVA": total - exe - neto, "MntTotal": total}
    if exe:
        totales["MntExe"] = exe
    folio = draw(st.integers(1, 10**9))
    return {"Encabezado": _encabezado(39, folio, totales), "Detalle": detalle}


@st.composite
def consistent_exenta(draw: st.DrawFn) -> dict[str, Any]:
    """A factura exenta 34: every line exempt without IndExe (SII-FORMATO note 10), A13."""
    doc = draw(consistent_factura())
    doc["Encabezado"]["IdDoc"]["TipoDTE"] = 34
    for line in doc["Detalle"]:
        line.pop("IndExe", None)
    exe = sum(ln["MontoItem"] for ln in doc["Detalle"])
    doc["Encabezado"]["Totales"] = {"MntExe": exe, "MntTotal": exe}
    return doc


documents = st.one_of(consistent_factura(), consistent_boleta(), consistent_exenta())
deltas = st.one_of(st.sampled_from([1, -1]), st.integers(2, 10**6), st.integers(-(10**6), -2))


def run(doc: dict[str, Any]) -> Any:
    return validate(parse_dte_data(doc).single, today=TODAY)


@settings(max_examples=200, deadline=None)
@given(documents)
def test_consistent_documents_are_accepted(doc: dict[str, Any]) -> None:
    rep = run(doc)
    assert rep.codes() == [], [f.message for f in rep.findings]
    assert rep.recommendation == "send"


@settings(max_examples=300, deadline=None)
@given(documents, st.data(), deltas)
def test_one_total_off_is_rejected_with_the_expected_value(
    doc: dict[str, Any], data: st.DataObject, delta: int
) -> None:
    totales = doc["Encabezado"]["Totales"]
    field = data.draw(st.sampled_from(sorted(f for f in totales if f in CODES)))
    right = totales[field]
    totales[field] = right + delta
    rep = run(doc)
    assert rep.recommendation == "reject"
    path = f"Encabezado.Totales.{field}"
    ours = [f for f in rep.findings if f.path == path and f.code == CODES[field]]
    assert len(ours) == 1, rep.codes()
    finding = ours[0]
    assert finding.severity == "error"
    assert (finding.expected, finding.actual) == (str(right), str(right + delta))
    # Declared, expected, and (in parentheses) how the expected value was computed.
    said = f"declarado {fmt_amount(right + delta)}, esperado {fmt_amount(right)} ("
    assert said in finding.message
    if abs(delta) == 1 and right + delta > 0:
        # One peso off is one finding, where the wrong number is (a total moved to 0 is
        # also warned about as DTE_TOTAL_ZERO).
        assert rep.codes() == [CODES[field]]
