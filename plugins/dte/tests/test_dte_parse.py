"""Parsing the three input forms, and refusing malformed or unsafe input."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from dte_builders import (
    boleta_39,
    clone,
    dte_xml,
    factura_33,
    flat_odoo,
    nota_credito_61,
)
from quipu_dte.errors import DteInputError
from quipu_dte.parse import FLAT_FIELD_PATHS, parse_dte_data
from quipu_dte.parse.coerce import MAX_XML_CHARS, MAX_XML_ELEMENTS

FIXTURES = Path(__file__).parent / "fixtures"


def problems(data: object) -> list[tuple[str, str]]:
    with pytest.raises(DteInputError) as info:
        parse_dte_data(data)
    return info.value.problems


# -- flat form -----------------------------------------------------------------


def test_flat_form_strings_and_numbers() -> None:
    doc = parse_dte_data(flat_odoo()).single
    assert doc.source == "flat"
    assert doc.tipo_dte == 33
    assert doc.folio == 12345
    assert doc.id_doc.fecha_emision == date(2025, 10, 20)
    t = doc.totales
    assert (t.mnt_neto, t.iva, t.mnt_exe, t.mnt_total) == (
        Decimal(100000),
        Decimal(19000),
        Decimal(0),
        Decimal(119000),
    )
    assert all(isinstance(v, Decimal) for v in (t.mnt_neto, t.iva, t.mnt_exe, t.mnt_total))
    assert "Encabezado.Totales.IVA" in doc.present
    assert "Encabezado.Receptor.RUTRecep" not in doc.present


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-10-20", date(2025, 10, 20)),
        ("2025-10-20T12:00:00", date(2025, 10, 20)),
        ("2025-10-20T12:00:00-03:00", date(2025, 10, 20)),
        # 02:00 UTC is still the 19th in Santiago (UTC−3 in October).
        ("2025-10-20T02:00:00Z", date(2025, 10, 19)),
        (date(2025, 10, 20), date(2025, 10, 20)),
        (datetime(2025, 10, 20, 9, 30), date(2025, 10, 20)),
    ],
)
def test_flat_dates(value: object, expected: date) -> None:
    data = flat_odoo() | {"fecha_emision": value}
    assert parse_dte_data(data).single.id_doc.fecha_emision == expected


def test_flat_odoo_false_and_int_type() -> None:
    data = flat_odoo() | {"tipo_dte": 33, "razon_social_emisor": False, "monto_exento": False}
    doc = parse_dte_data(data).single
    assert doc.emisor.razon_social is None
    assert doc.totales.mnt_exe is None


def test_flat_references_and_caf() -> None:
    data = flat_odoo() | {
        "tipo_dte": "61",
        "referencias": [
            {"tipo_doc_ref": "33", "folio_ref": "170", "fecha_ref": "2025-10-01", "cod_ref": 3}
        ],
        "caf": {"folio_desde": 1, "folio_hasta": 20000, "fecha_autorizacion": "2025-06-01"},
    }
    doc = parse_dte_data(data).single
    assert doc.referencias[0].cod_ref == "3"
    assert doc.referencias[0].folio_ref == "170"
    assert doc.caf is not None
    assert doc.caf.folio_hasta == 20000


def test_flat_field_paths_cover_odoo_keys() -> None:
    for key in ("tipo_dte", "folio", "fecha_emision", "rut_emisor", "monto_iva", "monto_total"):
        assert FLAT_FIELD_PATHS[key].startswith("Encabezado.")


def test_flat_malformed_reports_every_field() -> None:
    found = dict(
        problems(
            {
                "tipo_dte": "factura",
                "folio": "12a",
                "fecha_emision": "31-12-2025",
                "monto_iva": "12a",
                "monto_total": "119.000",
                "monto_neto": "100,5",
                "monto_exento": True,
            }
        )
    )
    assert found["dte_data.monto_iva"] == (
        '"12a" is not a number; send an integer amount in pesos, e.g. 119000'
    )
    assert "thousands separators" in found["dte_data.monto_total"]
    assert "119000" in found["dte_data.monto_total"]
    assert "decimal separator" in found["dte_data.monto_neto"]
    assert "YYYY-MM-DD" in found["dte_data.fecha_emision"]
    assert "document type code" in found["dte_data.tipo_dte"]
    assert "folio" in found["dte_data.folio"]
    assert "not a number" in found["dte_data.monto_exento"]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"folio": 1}, "dte_data.tipo_dte"),
        ([], "dte_data"),
        ("33", "dte_data"),
        ({}, "dte_data"),
        (flat_odoo() | {"monto_total": float("nan")}, "dte_data.monto_total"),
        (flat_odoo() | {"monto_total": 10**30}, "dte_data.monto_total"),
        (flat_odoo() | {"monto_total": "1" * 60}, "dte_data.monto_total"),
        (flat_odoo() | {"monto_total": {"a": 1}}, "dte_data.monto_total"),
        (flat_odoo() | {"rut_emisor": ["x"]}, "dte_data.rut_emisor"),
        (flat_odoo() | {"referencias": "33"}, "dte_data.referencias[0]"),
    ],
)
def test_flat_errors_have_paths(data: object, path: str) -> None:
    assert path in [p for p, _ in problems(data)]


# -- SII-named JSON ----------------------------------------------------------------


def test_json_detalle_object_or_list_and_wrappers() -> None:
    doc = factura_33()
    single = clone(doc)
    single["Detalle"] = single["Detalle"][0]
    assert len(parse_dte_data(single).single.detalle) == 1
    for wrapped in ({"Documento": doc}, {"DTE": {"Documento": doc}}):
        assert parse_dte_data(wrapped).single.folio == 170
    envio = {
        "EnvioDTE": {
            "SetDTE": {
                "Caratula": {"RutEmisor": "76354771-K"},
                "DTE": [{"Documento": doc}, {"Documento": nota_credito_61()}],
            }
        }
    }
    parsed = parse_dte_data(envio)
    assert [d.tipo_dte for d in parsed.documents] == [33, 61]
    assert parsed.envelope is not None
    assert parsed.envelope.rut_emisor == "76354771-K"
    assert parsed.documents[1].location == "dte_data.EnvioDTE.SetDTE.DTE[1].Documento"


def test_json_caf_shapes() -> None:
    doc = factura_33()
    caf = doc["TED"]["DD"]["CAF"]
    assert parse_dte_data(doc).single.caf.folio_hasta == 500  # type: ignore[union-attr]
    top = clone(doc)
    del top["TED"]
    top["CAF"] = caf
    assert parse_dte_data(top).single.caf.folio_desde == 1  # type: ignore[union-attr]
    bare = clone(top)
    bare["CAF"] = caf["DA"]
    assert parse_dte_data(bare).single.caf.tipo_dte == 33  # type: ignore[union-attr]


def test_json_boleta_names_map_to_emisor() -> None:
    doc = parse_dte_data(boleta_39()).single
    assert doc.emisor.razon_social
    assert doc.emisor.giro == "Cafetería"
    assert "Encabezado.Emisor.RznSoc" in doc.present


def test_json_errors_have_sii_paths() -> None:
    doc = factura_33()
    doc["Encabezado"]["Totales"]["IVA"] = "12a"
    doc["Detalle"][1]["QtyItem"] = "dos"
    doc["Referencia"][0]["FchRef"] = "ayer"
    found = dict(problems(doc))
    assert set(found) == {
        "dte_data.Encabezado.Totales.IVA",
        "dte_data.Detalle[1].QtyItem",
        "dte_data.Referencia[0].FchRef",
    }


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.pop("Encabezado"), "dte_data.Encabezado"),
        (lambda d: d["Encabezado"].update(IdDoc="x"), "dte_data.Encabezado.IdDoc"),
        (lambda d: d["Encabezado"]["IdDoc"].pop("TipoDTE"), "dte_data.Encabezado.IdDoc.TipoDTE"),
        (lambda d: d.update(Detalle=[1, 2]), "dte_data.Detalle[0]"),
        (lambda d: d.update(Detalle=[{"MontoItem": 1}] * 1001), "dte_data.Detalle"),
        (
            lambda d: d["Encabezado"]["Totales"].update(IVA=[1, 2]),
            "dte_data.Encabezado.Totales.IVA",
        ),
    ],
)
def test_json_structure_errors(mutate: object, path: str) -> None:
    doc = factura_33()
    mutate(doc)  # type: ignore[operator]
    assert path in [p for p, _ in problems(doc)]


# -- XML ---------------------------------------------------------------------------


def test_envio_dte_iso8859_two_documents() -> None:
    text = (FIXTURES / "envio_dte_33_61_iso8859.xml").read_bytes().decode("iso-8859-1")
    assert text.startswith('<?xml version="1.0" encoding="ISO-8859-1"?>')
    parsed = parse_dte_data({"dte_xml": text})
    assert parsed.source == "xml"
    factura, nota = parsed.documents
    assert (factura.tipo_dte, factura.folio, nota.tipo_dte, nota.folio) == (33, 170, 61, 45)
    assert factura.emisor.razon_social == "Servicios Informáticos y Compañía Ltda."
    assert factura.emisor.comuna == "Peñalolén"
    assert factura.detalle[2].precio == Decimal("8942.86")
    assert nota.referencias[0].cod_ref == "3"
    assert factura.caf is not None
    assert (factura.caf.folio_desde, factura.caf.folio_hasta) == (
        1,
        500,
    )
    assert parsed.envelope is not None
    assert parsed.envelope.declared_counts == ((33, 1), (61, 1))
    assert nota.location == "dte_xml.EnvioDTE.SetDTE.DTE[1].Documento"


def test_xml_bytes_with_declared_encoding() -> None:
    raw = (FIXTURES / "envio_dte_33_61_iso8859.xml").read_bytes()
    parsed = parse_dte_data({"dte_xml": raw})
    assert parsed.documents[0].emisor.comuna == "Peñalolén"


def test_xml_without_namespace() -> None:
    text = (FIXTURES / "dte_52_sin_namespace.xml").read_text(encoding="utf-8")
    assert "xmlns" not in text
    doc = parse_dte_data({"dte_xml": text}).single
    assert doc.tipo_dte == 52
    assert doc.id_doc.ind_traslado == 5


def test_envio_boleta() -> None:
    text = (FIXTURES / "envio_boleta_39_iso8859.xml").read_bytes().decode("iso-8859-1")
    doc = parse_dte_data({"dte_xml": text}).single
    assert doc.tipo_dte == 39
    assert doc.id_doc.ind_servicio == 3
    assert doc.emisor.razon_social is not None


def test_xml_and_json_give_the_same_canonical_document() -> None:
    for build in (factura_33, nota_credito_61, boleta_39):
        from_json = parse_dte_data(build()).single.canonical()
        for ns in (True, False):
            from_xml = parse_dte_data(
                {"dte_xml": dte_xml(build(), namespace=ns)}
            ).single.canonical()
            assert from_xml | {"source": "-"} == from_json | {"source": "-"}


def test_canonical_json_is_deterministic_and_normalised() -> None:
    a = parse_dte_data(flat_odoo()).single.canonical_json()
    b = parse_dte_data(flat_odoo() | {"monto_total": "119000", "monto_neto": 100000}).single
    assert a == b.canonical_json()
    assert b'"119000"' in a
    assert b"119000.0" not in a


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        ("", "empty"),
        ("<DTE><Documento>", "not well-formed"),
        ("<Factura/>", "not a DTE"),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            "<DTE>&lol2;</DTE>",
            "DOCTYPE",
        ),
        ('<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><DTE>&xxe;</DTE>', "DOCTYPE"),
        ("<DTE>" + "x" * (MAX_XML_CHARS + 1) + "</DTE>", "too large"),
        ("<DTE>" + "<a/>" * (MAX_XML_ELEMENTS + 1) + "</DTE>", "too many XML elements"),
    ],
)
def test_xml_refused(xml: str, needle: str) -> None:
    found = problems({"dte_xml": xml})
    assert found[0][0] == "dte_xml"
    assert needle in found[0][1]


def test_xml_wrong_type() -> None:
    assert problems({"dte_xml": 42})[0][0] == "dte_xml"


def test_xml_value_error_points_into_the_envelope() -> None:
    text = (FIXTURES / "envio_dte_33_61_iso8859.xml").read_bytes().decode("iso-8859-1")
    bad = text.replace("<IVA>19000</IVA>", "<IVA>19.000,00</IVA>")
    found = dict(problems({"dte_xml": bad}))
    assert list(found) == ["dte_xml.EnvioDTE.SetDTE.DTE[1].Documento.Encabezado.Totales.IVA"]


def test_xml_line_limit() -> None:
    lines = "".join(
        f"<Detalle><NroLinDet>{i}</NroLinDet><NmbItem>x</NmbItem><MontoItem>1</MontoItem></Detalle>"
        for i in range(1, 1002)
    )
    xml = (
        "<DTE><Documento><Encabezado><IdDoc><TipoDTE>33</TipoDTE></IdDoc></Encabezado>"
        f"{lines}</Documento></DTE>"
    )
    found = problems({"dte_xml": xml})
    assert found[0][0] == "dte_xml.DTE.Documento.Detalle"
    assert "at most 1000" in found[0][1]


def test_error_object_serialises() -> None:
    with pytest.raises(DteInputError) as info:
        parse_dte_data({"tipo_dte": "x"})
    assert info.value.to_list() == [
        {
            "field": "dte_data.tipo_dte",
            "problem": '"x" is not a whole number; send the SII document type code, e.g. 33',
        },
    ]
    assert isinstance(info.value, ValueError)


def test_a_signalling_nan_document_type_is_an_input_error() -> None:
    """Found by the parser fuzzer: comparing Decimal('sNaN') with == raises InvalidOperation."""
    from decimal import Decimal

    from quipu_dte.errors import DteInputError
    from quipu_dte.parse import parse_dte_data

    with pytest.raises(DteInputError, match="TipoDTE"):
        parse_dte_data({"Encabezado": {"IdDoc": {"TipoDTE": Decimal("sNaN")}}})
