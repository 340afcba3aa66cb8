"""Every finding code: one failing example, and the clean documents as passing examples."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from dte_builders import (
    EMISOR,
    TODAY,
    boleta_39,
    clone,
    exportacion_110,
    factura_33,
    factura_33_con_impuesto,
    factura_compra_46,
    factura_exenta_34,
    factura_lineas,
    flat_odoo,
    guia_52,
    nota_credito_61,
    nota_credito_exportacion_112,
)
from quipu_dte.parse import parse_dte_data
from quipu_dte.rules import CATALOGUE, RuleConfig, ValidationReport, parse_history, validate

Doc = dict[str, Any]

CLEAN_BUILDERS: dict[str, Callable[[], Doc]] = {
    "factura_33": factura_33,
    "factura_33_con_impuesto": factura_33_con_impuesto,
    "factura_exenta_34": factura_exenta_34,
    "boleta_39": boleta_39,
    "factura_compra_46": factura_compra_46,
    "guia_52": guia_52,
    "nota_credito_61": nota_credito_61,
    "exportacion_110": exportacion_110,
    "nota_credito_exportacion_112": nota_credito_exportacion_112,
    "factura_60_lineas": lambda: factura_lineas(60),
    "flat_odoo": flat_odoo,
}


def run(
    doc: Doc, *, today: date = TODAY, history: Any = None, config: RuleConfig | None = None
) -> ValidationReport:
    parsed = parse_dte_data(doc)
    kwargs: dict[str, Any] = {"today": today, "history": parse_history(history)}
    if config is not None:
        kwargs["config"] = config
    return validate(parsed.single, **kwargs)


def node(doc: Doc, path: str) -> Any:
    """Navigate ``Encabezado.IdDoc`` or ``Detalle[1]`` style paths."""
    current: Any = doc
    for part in filter(None, path.split(".")):
        name, _, index = part.partition("[")
        current = current[name]
        if index:
            current = current[int(index[:-1])]
    return current


def setv(path: str, value: Any) -> Callable[[Doc], None]:
    parent, _, key = path.rpartition(".")

    def mutate(doc: Doc) -> None:
        node(doc, parent)[key] = value

    return mutate


def delete(path: str) -> Callable[[Doc], None]:
    parent, _, key = path.rpartition(".")

    def mutate(doc: Doc) -> None:
        del node(doc, parent)[key]

    return mutate


def chain(*mutations: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        for m in mutations:
            m(doc)

    return mutate


IDD = "Encabezado.IdDoc"
TOT = "Encabezado.Totales"
CAF = "TED.DD.CAF.DA"


@dataclass
class Case:
    code: str
    build: Callable[[], Doc]
    mutate: Callable[[Doc], None] = lambda doc: None
    path: str | None = None
    expected: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("DTE_TYPE_UNKNOWN", factura_33, setv(f"{IDD}.TipoDTE", 99), f"{IDD}.TipoDTE"),
    Case("DTE_FOLIO_INVALID", flat_odoo, setv(".folio", 0), f"{IDD}.Folio"),
    Case(
        "DTE_RUT_FORMAT",
        factura_33,
        setv("Encabezado.Emisor.RUTEmisor", "1234567A-5"),
        "Encabezado.Emisor.RUTEmisor",
    ),
    Case(
        "DTE_RUT_CHECK_DIGIT",
        factura_33,
        setv("Encabezado.Emisor.RUTEmisor", "76354771-9"),
        "Encabezado.Emisor.RUTEmisor",
        "K",
    ),
    Case(
        "DTE_RUT_RANGE",
        factura_33,
        setv("Encabezado.Receptor.RUTRecep", "1-9"),
        "Encabezado.Receptor.RUTRecep",
    ),
    Case(
        "DTE_RUT_NOT_CANONICAL",
        factura_33,
        setv("Encabezado.Receptor.RUTRecep", "96.790.240-3"),
        "Encabezado.Receptor.RUTRecep",
        "96790240-3",
    ),
    Case(
        "DTE_RUT_SAME_PARTIES",
        factura_33,
        setv("Encabezado.Receptor.RUTRecep", EMISOR),
        "Encabezado.Receptor.RUTRecep",
    ),
    Case(
        "DTE_REQUIRED_FIELD",
        factura_33,
        delete("Encabezado.Emisor.GiroEmis"),
        "Encabezado.Emisor.GiroEmis",
    ),
    Case("DTE_RECOMMENDED_FIELD", factura_33, delete(f"{IDD}.FmaPago"), f"{IDD}.FmaPago"),
    Case("DTE_FIELD_NOT_ALLOWED", factura_33, setv(f"{IDD}.IndNoRebaja", 1), f"{IDD}.IndNoRebaja"),
    Case("DTE_ENUM_INVALID", factura_33, setv(f"{IDD}.FmaPago", 4), f"{IDD}.FmaPago"),
    Case("DTE_LIMIT_EXCEEDED", lambda: factura_lineas(61), path="Detalle", expected="60"),
    Case(
        "DTE_FIELD_LENGTH",
        factura_33,
        setv("Detalle[0].NmbItem", "x" * 81),
        "Detalle[0].NmbItem",
        "80",
    ),
    Case(
        "DTE_LINE_NUMBERING",
        factura_33,
        setv("Detalle[1].NroLinDet", 5),
        "Detalle[1].NroLinDet",
        "2",
    ),
    Case("DTE_AMOUNT_NOT_INTEGER", factura_33, setv(f"{TOT}.IVA", "218848.5"), f"{TOT}.IVA"),
    Case("DTE_AMOUNT_NEGATIVE", flat_odoo, setv(".monto_exento", -5), f"{TOT}.MntExe"),
    Case(
        "DTE_LINE_AMOUNT_MISMATCH",
        factura_33,
        setv("Detalle[0].MontoItem", 900001),
        "Detalle[0].MontoItem",
        "900000",
    ),
    Case(
        "DTE_LINE_DISCOUNT_MISMATCH",
        factura_33,
        setv("Detalle[1].DescuentoMonto", 25001),
        "Detalle[1].DescuentoMonto",
        "25000",
    ),
    Case(
        "DTE_LINE_SURCHARGE_MISMATCH",
        factura_33,
        chain(setv("Detalle[0].RecargoPct", 5), setv("Detalle[0].RecargoMonto", 44000)),
        "Detalle[0].RecargoMonto",
        "45000",
    ),
    Case(
        "DTE_LINE_ZERO_REQUIRED",
        nota_credito_61,
        setv("Referencia[0].CodRef", 2),
        "Detalle[0].MontoItem",
        "0",
    ),
    Case(
        "DTE_DSCRCG_INVALID",
        factura_33,
        setv(".DscRcgGlobal", {"NroLinDR": 1, "TpoMov": "D", "TpoValor": "%", "ValorDR": 150}),
        "DscRcgGlobal[0].ValorDR",
    ),
    Case(
        "DTE_NETO_MISMATCH",
        factura_33,
        setv(f"{TOT}.MntNeto", 1151830),
        f"{TOT}.MntNeto",
        "1151829",
    ),
    Case("DTE_EXENTO_MISMATCH", factura_33, setv(f"{TOT}.MntExe", 5), f"{TOT}.MntExe", "0"),
    Case("DTE_IVA_RATE", factura_33, setv(f"{TOT}.TasaIVA", 18), f"{TOT}.TasaIVA", "19"),
    Case("DTE_IVA_MISMATCH", factura_33, setv(f"{TOT}.IVA", 218847), f"{TOT}.IVA", "218848"),
    Case(
        "DTE_TAX_CODE_UNKNOWN",
        factura_33_con_impuesto,
        setv(f"{TOT}.ImptoReten.TipoImp", 999),
        f"{TOT}.ImptoReten[0].TipoImp",
    ),
    Case(
        "DTE_TAX_RATE",
        factura_33_con_impuesto,
        setv(f"{TOT}.ImptoReten.TasaImp", 12),
        f"{TOT}.ImptoReten[0].TasaImp",
        "10",
    ),
    Case(
        "DTE_TAX_AMOUNT_MISMATCH",
        factura_33_con_impuesto,
        setv(f"{TOT}.ImptoReten.MontoImp", 1001),
        f"{TOT}.ImptoReten[0].MontoImp",
        "1000",
    ),
    Case(
        "DTE_TOTAL_MISMATCH",
        factura_33,
        setv(f"{TOT}.MntTotal", 1370678),
        f"{TOT}.MntTotal",
        "1370677",
    ),
    Case(
        "DTE_IVA_NO_RET_MISMATCH",
        factura_compra_46,
        setv(f"{TOT}.IVANoRet", 5),
        f"{TOT}.IVANoRet",
        "0",
    ),
    Case(
        "DTE_CRED_EC_MISMATCH", factura_33, setv(f"{TOT}.CredEC", 200000), f"{TOT}.CredEC", "142251"
    ),
    Case("DTE_MONTO_NF_MISMATCH", factura_33, setv(f"{TOT}.MontoNF", 5), f"{TOT}.MontoNF", "0"),
    Case(
        "DTE_TOTAL_ZERO",
        flat_odoo,
        chain(setv(".monto_total", 0), setv(".monto_neto", 0), setv(".monto_iva", 0)),
        f"{TOT}.MntTotal",
    ),
    Case("DTE_EXEMPT_WITH_IVA", factura_exenta_34, setv(f"{TOT}.IVA", 95000), f"{TOT}.IVA", "0"),
    Case(
        "DTE_SHOULD_BE_EXEMPT",
        factura_exenta_34,
        chain(setv(f"{IDD}.TipoDTE", 33), setv("Detalle[0].IndExe", 1)),
        f"{IDD}.TipoDTE",
        "34",
    ),
    Case(
        "DTE_EXPORT_RECEPTOR",
        exportacion_110,
        setv("Encabezado.Receptor.RUTRecep", "96790240-3"),
        "Encabezado.Receptor.RUTRecep",
        "55555555-5",
    ),
    Case("DTE_REF_MISSING", nota_credito_61, delete(".Referencia"), "Referencia"),
    Case(
        "DTE_REF_TYPE_INVALID",
        nota_credito_exportacion_112,
        setv("Referencia[0].TpoDocRef", "33"),
        "Referencia",
        "110",
    ),
    Case(
        "DTE_REF_CODREF_MISSING",
        nota_credito_61,
        delete("Referencia[0].CodRef"),
        "Referencia[0].CodRef",
    ),
    Case(
        "DTE_REF_SINGLE_REQUIRED",
        nota_credito_61,
        lambda d: d["Referencia"].append(
            {
                "NroLinRef": 2,
                "TpoDocRef": "33",
                "FolioRef": "171",
                "FchRef": "2025-10-20",
                "CodRef": 1,
            }
        ),
        "Referencia",
        "1",
    ),
    Case(
        "DTE_REF_FOLIO_INVALID",
        nota_credito_61,
        setv("Referencia[0].FolioRef", "0"),
        "Referencia[0].FolioRef",
    ),
    Case(
        "DTE_REF_RUTOTR_NOT_ALLOWED",
        factura_33,
        setv("Referencia[0].RUTOtr", "96790240-3"),
        "Referencia[0].RUTOtr",
    ),
    Case(
        "DTE_REF_NUMBERING",
        nota_credito_61,
        setv("Referencia[0].NroLinRef", 2),
        "Referencia[0].NroLinRef",
        "1",
    ),
    Case(
        "DTE_REF_DATE_AFTER_EMISSION",
        nota_credito_61,
        setv("Referencia[0].FchRef", "2025-10-22"),
        "Referencia[0].FchRef",
    ),
    Case("DTE_DATE_FUTURE", flat_odoo, setv(".fecha_emision", "2025-10-24"), f"{IDD}.FchEmis"),
    Case("DTE_DATE_OLD", factura_33, kwargs={"today": date(2026, 3, 1)}, path=f"{IDD}.FchEmis"),
    Case("DTE_DATE_RANGE", factura_33, setv(f"{IDD}.FchVenc", "2051-01-01"), f"{IDD}.FchVenc"),
    Case(
        "DTE_DUE_BEFORE_EMISSION",
        factura_33,
        setv(f"{IDD}.FchVenc", "2025-10-01"),
        f"{IDD}.FchVenc",
    ),
    Case(
        "DTE_PERIOD_INVALID",
        factura_33,
        chain(setv(f"{IDD}.PeriodoDesde", "2025-10-31"), setv(f"{IDD}.PeriodoHasta", "2025-10-01")),
        f"{IDD}.PeriodoDesde",
    ),
    Case("DTE_FOLIO_OUTSIDE_CAF", factura_33, setv(f"{CAF}.RNG.H", 150), f"{IDD}.Folio", "1..150"),
    Case("DTE_CAF_MISMATCH", factura_33, setv(f"{CAF}.TD", 34), "CAF.DA.TD", "33"),
    Case(
        "DTE_CAF_EXPIRED", factura_33, setv(f"{CAF}.FA", "2025-04-01"), "CAF.DA.FA", "<= 2025-10-01"
    ),
    Case("DTE_CAF_AFTER_EMISSION", factura_33, setv(f"{CAF}.FA", "2025-10-21"), f"{IDD}.FchEmis"),
    Case("DTE_TED_MISMATCH", factura_33, setv("TED.DD.MNT", 1), "TED.DD.MNT", "1370677"),
    Case(
        "DTE_DUPLICATE_FOLIO",
        factura_33,
        path=f"{IDD}.Folio",
        kwargs={
            "history": [
                {
                    "tipo_dte": "33",
                    "folio": "170",
                    "fecha_emision": "2025-09-30",
                    "monto_total": 1370677.0,
                }
            ]
        },
    ),
    Case(
        "DTE_TOTAL_UNUSUAL",
        factura_33,
        path=f"{TOT}.MntTotal",
        kwargs={
            "history": [
                {"tipo_dte": 33, "folio": f, "monto_total": 100000} for f in (150, 160, 165)
            ]
        },
    ),
]


def test_every_code_has_a_failing_case() -> None:
    assert sorted(c.code for c in CASES) == sorted(CATALOGUE)


@pytest.mark.parametrize("case", CASES, ids=[c.code for c in CASES])
def test_failing_example(case: Case) -> None:
    doc = clone(case.build())
    case.mutate(doc)
    report = run(doc, **case.kwargs)
    matching = [f for f in report.findings if f.code == case.code]
    assert matching, f"{case.code} not reported; got {report.codes()}"
    finding = matching[0]
    assert finding.severity == CATALOGUE[case.code].severity
    assert finding.message
    if case.path is not None:
        assert finding.path == case.path
    if case.expected is not None:
        assert finding.expected == case.expected
    expected_rec = "reject" if report.errors else "review"
    assert report.recommendation == expected_rec


@pytest.mark.parametrize("name", sorted(CLEAN_BUILDERS))
def test_clean_documents_pass_every_rule(name: str) -> None:
    report = run(CLEAN_BUILDERS[name]())
    assert report.findings == (), report.errors + report.warnings
    assert report.recommendation == "send"
    assert report.errors == ()
    assert report.warnings == ()


PASSING_EDGES = [
    # (description, builder, mutation, code that must NOT appear)
    (
        "folio at the CAF upper bound",
        factura_33,
        chain(setv(f"{IDD}.Folio", 500), setv("TED.DD.F", 500)),
        "DTE_FOLIO_OUTSIDE_CAF",
    ),
    ("emission today", flat_odoo, setv(".fecha_emision", TODAY.isoformat()), "DTE_DATE_FUTURE"),
    (
        "CAF expiring on the emission day",
        factura_33,
        setv(f"{CAF}.FA", "2025-04-20"),
        "DTE_CAF_EXPIRED",
    ),
    (
        "old CAF regime (before 2018-07-01)",
        factura_33,
        setv(f"{CAF}.FA", "2018-06-30"),
        "DTE_CAF_EXPIRED",
    ),
    (
        "IVA rounding .5 up",
        flat_odoo,
        chain(setv(".monto_neto", 50), setv(".monto_iva", 10), setv(".monto_total", 60)),
        "DTE_IVA_MISMATCH",
    ),
    ("guía between branches of the same company", guia_52, lambda d: None, "DTE_RUT_SAME_PARTIES"),
    (
        "credit note may carry RUTOtr",
        nota_credito_61,
        setv("Referencia[0].RUTOtr", "96790240-3"),
        "DTE_REF_RUTOTR_NOT_ALLOWED",
    ),
    (
        "zero IVA fields on a flat exempt invoice",
        flat_odoo,
        chain(
            setv(".tipo_dte", 34),
            setv(".monto_neto", 0),
            setv(".monto_iva", 0),
            setv(".monto_exento", 119000),
        ),
        "DTE_EXEMPT_WITH_IVA",
    ),
    ("60 lines is the limit", lambda: factura_lineas(60), lambda d: None, "DTE_LIMIT_EXCEEDED"),
    ("RUT with dots on Odoo's flat form", flat_odoo, lambda d: None, "DTE_RUT_NOT_CANONICAL"),
]


@pytest.mark.parametrize(
    ("build", "mutate", "code"),
    [(b, m, c) for _, b, m, c in PASSING_EDGES],
    ids=[d for d, *_ in PASSING_EDGES],
)
def test_passing_edge(build: Callable[[], Doc], mutate: Callable[[Doc], None], code: str) -> None:
    doc = clone(build())
    mutate(doc)
    assert code not in run(doc).codes()


def test_severity_override_and_disabled_codes() -> None:
    doc = factura_33()
    del doc["TED"]  # the timbre would also disagree with the changed total
    doc["Encabezado"]["Totales"]["IVA"] = 218847
    doc["Encabezado"]["Totales"]["MntTotal"] = 1370676
    soft = run(doc, config=RuleConfig(severity_overrides={"DTE_IVA_MISMATCH": "warning"}))
    assert soft.recommendation == "review"
    assert soft.warnings[0].startswith("DTE_IVA_MISMATCH:")
    off = run(doc, config=RuleConfig(disabled_codes=frozenset({"DTE_IVA_MISMATCH"})))
    assert off.recommendation == "send"


def test_amount_tolerance() -> None:
    doc = flat_odoo()
    doc["monto_iva"] = 19002
    doc["monto_total"] = 119002
    assert "DTE_IVA_MISMATCH" in run(doc).codes()
    assert run(doc, config=RuleConfig(amount_tolerance=2)).codes() == []
