"""Fuzzing: arbitrary input raises only DteInputError; whatever parses also validates."""

import contextlib
from pathlib import Path
from typing import Any

from dte_builders import TODAY, dte_xml, factura_33, flat_odoo, nota_credito_61
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quipu_dte.errors import DteInputError
from quipu_dte.matching import match_po_request
from quipu_dte.parse import parse_dte_data
from quipu_dte.rules import parse_history, validate

FIXTURE = (Path(__file__).parent / "fixtures" / "envio_dte_33_61_iso8859.xml").read_bytes()

KEYS = [
    # flat form
    "tipo_dte",
    "folio",
    "fecha_emision",
    "rut_emisor",
    "rut_receptor",
    "monto_neto",
    "monto_iva",
    "monto_exento",
    "monto_total",
    "tasa_iva",
    "referencias",
    "caf",
    "folio_desde",
    # SII names
    "Encabezado",
    "IdDoc",
    "TipoDTE",
    "Folio",
    "FchEmis",
    "Emisor",
    "RUTEmisor",
    "Receptor",
    "Totales",
    "MntNeto",
    "IVA",
    "MntTotal",
    "MntExe",
    "TasaIVA",
    "ImptoReten",
    "TipoImp",
    "MontoImp",
    "Detalle",
    "NmbItem",
    "QtyItem",
    "PrcItem",
    "MontoItem",
    "IndExe",
    "DescuentoPct",
    "DscRcgGlobal",
    "TpoMov",
    "TpoValor",
    "ValorDR",
    "Referencia",
    "CodRef",
    "TpoDocRef",
    "FolioRef",
    "FchRef",
    "CAF",
    "DA",
    "RNG",
    "D",
    "H",
    "FA",
    "TED",
    "DD",
    "Documento",
    "DTE",
    "SetDTE",
    "EnvioDTE",
    "dte_xml",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "33",
            "61",
            "2025-10-20",
            "76354771-K",
            "1e9999",
            "１２",
            "-0",
            "0.5",
            "1.000",
            "NaN",
            "9" * 25,
        ]
    ),
    st.decimals(allow_nan=True),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    ),
    max_leaves=30,
)


def parse_and_validate(data: Any) -> None:
    try:
        parsed = parse_dte_data(data)
    except DteInputError as exc:
        problems = exc.problems
    else:
        for doc in parsed.documents:
            report = validate(doc, today=TODAY)
            assert report.recommendation in {"send", "review", "reject"}
            doc.canonical_json()
        return
    assert problems
    assert all(isinstance(p, str) and isinstance(m, str) for p, m in problems)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_values_raise_only_dte_input_error(data: Any) -> None:
    parse_and_validate(data)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8))
def test_random_dicts(data: dict[str, Any]) -> None:
    parse_and_validate(data)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([factura_33, nota_credito_61, flat_odoo]),
    st.lists(st.tuples(st.sampled_from(KEYS), scalars), max_size=4),
)
def test_mutated_valid_documents(build: Any, edits: list[tuple[str, Any]]) -> None:
    """Overwrite fields at every nesting level of a valid document with random scalars."""
    doc = build()

    def walk(node: Any) -> list[dict[str, Any]]:
        found = [node] if isinstance(node, dict) else []
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
        )
        for child in children:
            found += walk(child)
        return found

    targets = walk(doc)
    for i, (key, value) in enumerate(edits):
        targets[i % len(targets)][key] = value
    parse_and_validate(doc)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_random_xml_text(text: str) -> None:
    parse_and_validate({"dte_xml": text})


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(FIXTURE) - 1), st.integers(0, 40)), max_size=5),
    st.binary(max_size=5),
)
def test_corrupted_xml(cuts: list[tuple[int, int]], junk: bytes) -> None:
    data = bytearray(FIXTURE)
    for start, length in cuts:
        del data[start : start + length]
        data[start:start] = junk
    parse_and_validate({"dte_xml": bytes(data)})
    parse_and_validate({"dte_xml": bytes(data).decode("iso-8859-1")})


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20), st.sampled_from(["<MontoItem>", "<IVA>", "<Folio>", "<FchEmis>"]))
def test_xml_field_values(value: str, tag: str) -> None:
    text = dte_xml(factura_33())
    close = tag.replace("<", "</")
    start = text.index(tag) + len(tag)
    end = text.index(close, start)
    safe = value.replace("&", "").replace("<", "")
    parse_and_validate({"dte_xml": text[:start] + safe + text[end:]})


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_history_and_matching_raise_only_dte_input_error(data: Any) -> None:
    for call in (parse_history, match_po_request):
        with contextlib.suppress(DteInputError):
            call(data)
    with contextlib.suppress(DteInputError):
        match_po_request({"dte_data": data, "pending_pos": [data, {"id": 1}]})
