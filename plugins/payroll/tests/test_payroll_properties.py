"""Properties: our own computation validates clean; one wrong amount is one finding."""

from typing import Any

import msgspec
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from payroll_examples import published
from quipu_payroll.checker import check
from quipu_payroll.engine import compute
from quipu_payroll.money import fmt_clp
from quipu_payroll.schemas import StructuredSlip, parse_structured
from quipu_previred.indicators import AFP_NAMES

# Months with every value a slip needs (UF, UTM, IMM, topes, commissions, brackets).
COMPLETE_MONTHS = ["2025-05", "2025-07", "2025-08", "2025-10", "2025-11", "2026-01", "2026-03"]


@st.composite
def slips(draw: st.DrawFn) -> dict[str, Any]:
    """A realistic structured slip with no declared amounts yet."""
    periodo = draw(st.sampled_from(COMPLETE_MONTHS))
    contrato = draw(st.sampled_from(["indefinido", "plazo_fijo", "obra"]))
    isapre = draw(st.booleans())
    salud: dict[str, Any] = {"tipo": "fonasa"}
    if isapre:
        salud = {"tipo": "isapre", "plan_uf": str(draw(st.decimals("1.5", "12", places=2)))}
    regimen = draw(st.sampled_from(["art50_mensual", "art47", "convencional"]))
    return {
        "periodo": periodo,
        "contrato": contrato,
        "indefinido_11_anios": contrato == "indefinido" and draw(st.booleans()),
        "afp": {"nombre": draw(st.sampled_from(AFP_NAMES))},
        "salud": salud,
        "haberes": {
            # Above every IMM of the period range, so the minimum-wage rule passes.
            "sueldo_base": draw(st.integers(540_000, 9_000_000)),
            "gratificacion": draw(st.integers(0, 400_000)),
            "regimen_gratificacion": regimen,
            "otros_imponibles": draw(st.integers(0, 1_500_000)),
            "no_imponibles": draw(st.integers(0, 300_000)),
            "cargas_familiares": draw(st.integers(0, 4)),
            "ingreso_promedio_semestre": draw(
                st.one_of(st.none(), st.integers(300_000, 3_000_000))
            ),
        },
        "descuentos": {
            "apv": draw(st.sampled_from([0, 50_000, 150_000])),
            "otros": draw(st.integers(0, 150_000)),
        },
    }


def declared_by_engine(raw: dict[str, Any]) -> StructuredSlip:
    """Fill every declared amount with what the engine computes."""
    data = dict(raw)
    first = compute(parse_structured(data), published(data["periodo"]))
    haberes = dict(data["haberes"])
    if haberes["regimen_gratificacion"] == "art50_mensual":
        haberes["gratificacion"] = first.gratificacion_legal
    data["haberes"] = haberes
    bd = compute(parse_structured(data), published(data["periodo"]))
    # A plan or APV larger than the pay makes a negative líquido, which is a
    # finding by design; real slips are not like that.
    assume(bd.liquido is not None and bd.liquido > 0)
    data["haberes"] = {**haberes, "asignacion_familiar": bd.asignacion_familiar}
    data["descuentos"] = {
        **data["descuentos"],
        "afp": bd.afp,
        "salud": bd.salud,
        "afc": bd.afc,
        "impuesto": bd.impuesto,
    }
    data["liquido"] = bd.liquido
    return parse_structured(data)


COMMON = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(slips())
def test_a_slip_computed_by_the_engine_validates_clean(raw: dict[str, Any]) -> None:
    slip = declared_by_engine(raw)
    report = check(slip, published(slip.periodo))
    assert [(f.code, f.path, f.message) for f in report.findings if f.severity != "info"] == []
    assert report.recommendation == "approve"
    assert report.confidence == 100.0


FIELDS = [
    "descuentos.afp",
    "descuentos.salud",
    "descuentos.afc",
    "descuentos.impuesto",
    "haberes.asignacion_familiar",
    "liquido",
]


@COMMON
@given(slips(), st.sampled_from(FIELDS), st.integers(1, 500_000), st.booleans())
def test_one_wrong_amount_yields_exactly_its_finding(
    raw: dict[str, Any], path: str, delta: int, up: bool
) -> None:
    slip = declared_by_engine(raw)
    data: dict[str, Any] = msgspec.to_builtins(slip)
    section, _, field = path.rpartition(".")
    target = data[section] if section else data
    current = int(target[field])
    if not up and current - delta < 0:
        up = True
    target[field] = current + delta if up else current - delta
    report = check(parse_structured(data), published(slip.periodo))
    wrong = [(f.path, f.severity) for f in report.findings if f.severity != "info"]
    assert [p for p, _ in wrong] == [path], report.findings
    assert report.recommendation in {"reject", "review"}


@COMMON
@given(slips(), st.sampled_from(FIELDS), st.sampled_from([1, -1]), st.integers(300_000, 3_000_000))
def test_one_peso_off_is_rejected_with_the_expected_amount(
    raw: dict[str, Any], path: str, delta: int, semester: int
) -> None:
    """Issue 14: strict by default. With the semester's average income given, every
    declared amount, the asignación familiar included, is judged for certain."""
    raw["haberes"]["ingreso_promedio_semestre"] = semester
    slip = declared_by_engine(raw)
    data: dict[str, Any] = msgspec.to_builtins(slip)
    section, _, field = path.rpartition(".")
    target = data[section] if section else data
    right = int(target[field])
    assume(right + delta >= 0)
    target[field] = right + delta
    report = check(parse_structured(data), published(slip.periodo))
    wrong = [f for f in report.findings if f.severity != "info"]
    assert [(f.path, f.severity) for f in wrong] == [(path, "error")], report.findings
    assert (wrong[0].expected, wrong[0].actual) == (right, right + delta)
    assert fmt_clp(right) in wrong[0].message
    assert fmt_clp(right + delta) in wrong[0].message
    assert report.recommendation == "reject"
