"""Each rule with a passing and a failing slip (examples from domain-chile.md §3.12)."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from payroll_examples import (
    EXAMPLE_A,
    EXAMPLE_B,
    EXAMPLE_C,
    EXAMPLE_D,
    problems,
    published,
    run,
    slip,
    variant,
)
from quipu_payroll.engine import compute
from quipu_payroll.findings import CATALOGUE, Finding

D = Decimal


def peso(value: Decimal) -> int:
    return int(value.quantize(D(1), rounding=ROUND_HALF_UP))


def only(report_findings: tuple[Finding, ...], code: str) -> Finding:
    matches = [f for f in report_findings if f.code == code]
    assert len(matches) == 1, [(f.code, f.path) for f in report_findings]
    return matches[0]


# --- AFP ---------------------------------------------------------------------------


def test_afp_on_the_2025_tope_in_march_2026() -> None:
    report = run(variant(EXAMPLE_B, descuentos={"afp": 400183}))
    found = only(report.findings, "PAY_TOPE_STALE")
    assert (found.path, found.expected, found.actual) == ("descuentos.afp", 410210, 400183)
    assert "AFP calculada sobre tope 87,8 UF de 2025; desde febrero 2026 el tope es 90,0 UF" in (
        found.message
    )
    assert problems(report) == [("PAY_TOPE_STALE", "descuentos.afp")]
    assert report.recommendation == "reject"


def test_afp_on_the_preliminary_january_2026_tope() -> None:
    wrong = peso(peso(D("89.9") * D("39841.72")) * D("0.1144"))
    found = only(run(variant(EXAMPLE_B, descuentos={"afp": wrong})).findings, "PAY_TOPE_STALE")
    assert "89,9 UF de enero 2026" in found.message


def test_afp_without_tope() -> None:
    # domain-chile.md §3.12 B: "AFP on uncapped imponible (424,808)".
    report = run(variant(EXAMPLE_B, descuentos={"afp": 424808}))
    assert problems(report) == [("PAY_TOPE_NOT_APPLIED", "descuentos.afp")]


def test_afp_tope_with_the_previous_month_uf() -> None:
    wrong = peso(peso(D("90.0") * D("39790.63")) * D("0.1144"))  # February's UF
    report = run(variant(EXAMPLE_B, descuentos={"afp": wrong}))
    assert problems(report) == [("PAY_UF_STALE", "descuentos.afp")]


def test_afp_with_a_stale_commission() -> None:
    # domain-chile.md §3.12 D: "Stale 10.49% rate gives AFP 315,686".
    report = run(variant(EXAMPLE_D, descuentos={"afp": 315686}))
    found = only(report.findings, "PAY_AFP_RATE_STALE")
    assert "10,49 %" in found.message
    assert "10,46 %" in found.message
    assert problems(report) == [("PAY_AFP_RATE_STALE", "descuentos.afp")]


def test_afp_with_another_afps_rate_and_a_plain_mismatch() -> None:
    habitat_rate_on_capital = peso(D(3585755) * D("0.1127"))
    found = only(
        run(variant(EXAMPLE_B, descuentos={"afp": habitat_rate_on_capital})).findings,
        "PAY_AFP_MISMATCH",
    )
    assert "AFP Habitat" in found.message
    found = only(run(variant(EXAMPLE_A, descuentos={"afp": 150000})).findings, "PAY_AFP_MISMATCH")
    assert found.expected == 158839
    assert "11,27 %" in found.message


def test_afp_rate_override_and_unknown_afp() -> None:
    data = variant(EXAMPLE_A, afp={"nombre": "Habitat", "tasa": "11.27"})
    assert run(data).recommendation == "approve"
    report = run(variant(EXAMPLE_A, afp=None))
    assert report.recommendation == "approve"  # the AFP line is not checked...
    assert "descuentos.afp" in report.breakdown.supuestos  # ...and the declared one is used


# --- Salud ---------------------------------------------------------------------------


def test_fonasa_below_and_above_the_legal_seven_percent() -> None:
    assert problems(run(variant(EXAMPLE_A, descuentos={"salud": 95000}))) == [
        ("PAY_HEALTH_BELOW_LEGAL", "descuentos.salud")
    ]
    assert problems(run(variant(EXAMPLE_A, descuentos={"salud": 105000}))) == [
        ("PAY_HEALTH_MISMATCH", "descuentos.salud")
    ]


def test_fonasa_on_a_stale_tope() -> None:
    data = variant(EXAMPLE_B, salud={"tipo": "fonasa", "plan_uf": None})
    bd = compute(slip(data), published("2026-03"))
    assert bd.salud == 251003
    wrong = peso(peso(D("87.8") * D("39841.72")) * D("0.07"))
    data = variant(data, descuentos={"salud": wrong, "impuesto": bd.impuesto}, liquido=bd.liquido)
    assert problems(run(data)) == [("PAY_TOPE_STALE", "descuentos.salud")]


def test_isapre_plan_at_the_previous_month_uf_and_below_legal() -> None:
    stale = peso(D("7.2") * D("39790.63"))
    assert problems(run(variant(EXAMPLE_B, descuentos={"salud": stale}))) == [
        ("PAY_UF_STALE", "descuentos.salud")
    ]
    assert problems(run(variant(EXAMPLE_B, descuentos={"salud": 240000}))) == [
        ("PAY_HEALTH_BELOW_LEGAL", "descuentos.salud")
    ]


def test_isapre_plan_in_pesos_and_unknown_plan() -> None:
    data = variant(EXAMPLE_B, salud={"tipo": "isapre", "plan_uf": None, "plan_pesos": 286860})
    assert run(data).recommendation == "approve"
    report = run(variant(EXAMPLE_B, salud={"tipo": "isapre", "plan_uf": None}))
    assert report.recommendation == "approve"
    assert "descuentos.salud" in report.breakdown.supuestos


# --- Seguro de cesantía ---------------------------------------------------------------


def test_plazo_fijo_worker_pays_no_afc() -> None:
    report = run(variant(EXAMPLE_C, descuentos={"afc": 3968}))  # 0.6 % of 661,250
    found = only(report.findings, "PAY_AFC_CONTRACT")
    assert "plazo fijo" in found.message
    assert problems(report) == [("PAY_AFC_CONTRACT", "descuentos.afc")]


def test_indefinido_without_afc_and_eleven_years() -> None:
    assert problems(run(variant(EXAMPLE_A, descuentos={"afc": 0}))) == [
        ("PAY_AFC_CONTRACT", "descuentos.afc")
    ]
    bd = compute(slip(variant(EXAMPLE_A, indefinido_11_anios=True)), published("2025-10"))
    assert bd.afc == 0
    assert bd.empleador.afc == peso(D(1409396) * D("0.008"))


def test_afc_on_the_2025_tope_in_march_2026() -> None:
    data = variant(EXAMPLE_B, haberes={"sueldo_base": 6000000}, descuentos={}, liquido=None)
    data["descuentos"] = {}
    bd = compute(slip(data), published("2026-03"))
    assert bd.base_afc == 5386601
    wrong = peso(peso(D("131.9") * D("39841.72")) * D("0.006"))
    assert problems(run(variant(data, descuentos={"afc": wrong}))) == [
        ("PAY_TOPE_STALE", "descuentos.afc")
    ]
    assert problems(run(variant(data, descuentos={"afc": bd.afc}))) == []


# --- Impuesto único -------------------------------------------------------------------


def test_whole_isapre_plan_off_the_tax_base() -> None:
    # domain-chile.md §3.12 B: deducting the whole plan gives base 2,994,004 and tax 117,913.
    report = run(variant(EXAMPLE_B, descuentos={"impuesto": 117913}))
    found = only(report.findings, "PAY_HEALTH_TAX_BASE")
    assert found.path == "descuentos.impuesto"
    assert "$2.994.004" in found.message
    assert problems(report) == [("PAY_HEALTH_TAX_BASE", "descuentos.impuesto")]


def test_declared_tax_base_with_the_whole_plan() -> None:
    report = run(variant(EXAMPLE_B, totales={"base_tributable": 2994004}))
    assert problems(report) == [("PAY_HEALTH_TAX_BASE", "totales.base_tributable")]
    assert problems(run(variant(EXAMPLE_B, totales={"base_tributable": 3029861}))) == []
    assert problems(run(variant(EXAMPLE_B, totales={"base_tributable": 3000000}))) == [
        ("PAY_TAX_BASE_MISMATCH", "totales.base_tributable")
    ]


def test_tax_with_last_months_utm() -> None:
    # domain-chile.md §3.12 D: "using October's UTM 69,265 gives IUSC 76,751".
    report = run(variant(EXAMPLE_D, descuentos={"impuesto": 76751}))
    found = only(report.findings, "PAY_UTM_STALE")
    assert "$69.265" in found.message
    assert "$69.542" in found.message


def test_tax_plain_mismatch() -> None:
    found = only(
        run(variant(EXAMPLE_A, descuentos={"impuesto": 9500})).findings, "PAY_TAX_MISMATCH"
    )
    assert "tramo 2" in found.message


# --- Gratificación art. 50 -----------------------------------------------------------


def grat_only(period: str, sueldo: int, grat: int, regimen: str = "art50_mensual") -> Any:
    return {
        "periodo": period,
        "afp": {"nombre": "Habitat"},
        "haberes": {
            "sueldo_base": sueldo,
            "gratificacion": grat,
            "regimen_gratificacion": regimen,
        },
    }


def test_gratificacion_art50() -> None:
    assert problems(run(grat_only("2025-10", 1200000, 209396))) == []
    assert problems(run(grat_only("2025-07", 529000, 132250))) == []
    over = run(grat_only("2025-10", 1200000, 300000))
    assert problems(over) == [("PAY_GRATIFICACION_OVER_CAP", "haberes.gratificacion")]
    assert over.recommendation == "review"
    under = run(grat_only("2025-10", 1200000, 150000))
    assert problems(under) == [("PAY_GRATIFICACION_MISMATCH", "haberes.gratificacion")]
    assert under.recommendation == "reject"


def test_gratificacion_with_the_previous_imm_cap() -> None:
    # May 2025: the IMM rose to 529,000; the old cap 202,127 (IMM 510,636) is stale.
    report = run(grat_only("2025-05", 1200000, 202127))
    found = only(report.findings, "PAY_GRATIFICACION_STALE_IMM")
    assert "$202.127" in found.message
    assert found.expected == 209396


def test_other_gratificacion_regimes_are_not_checked() -> None:
    assert problems(run(grat_only("2025-10", 1200000, 0, "art47"))) == []
    assert problems(run(grat_only("2025-10", 1200000, 500000, "convencional"))) == []


# --- Ingreso mínimo ------------------------------------------------------------------


def minimum(period: str, sueldo: int, **extra: Any) -> dict[str, Any]:
    haberes = {"sueldo_base": sueldo, "regimen_gratificacion": "art47"}
    return {"periodo": period, "haberes": haberes, **extra}


def test_full_time_below_minimum_is_an_error() -> None:
    report = run(minimum("2025-10", 500000))
    found = only(report.findings, "PAY_BELOW_MINIMUM")
    assert (found.severity, found.expected) == ("error", 529000)
    assert problems(run(minimum("2025-10", 529000))) == []
    assert problems(run(minimum("2025-04", 510636))) == []


def test_part_time_minimum_is_proportional_and_only_a_warning() -> None:
    part_time = {"jornada": {"tipo": "parcial", "horas_semanales": 30}}
    assert problems(run(minimum("2025-07", 370000, **part_time))) == []
    found = only(run(minimum("2025-07", 300000, **part_time)).findings, "PAY_BELOW_MINIMUM")
    assert (found.severity, found.expected) == ("warning", peso(D(529000) * 30 / 44))
    unknown = run(minimum("2025-07", 300000, jornada={"tipo": "desconocida"}))
    assert only(unknown.findings, "PAY_BELOW_MINIMUM").severity == "warning"


def test_forty_two_hour_week_from_april_2026() -> None:
    part_time = {"jornada": {"tipo": "parcial", "horas_semanales": 21}}
    assert problems(run(minimum("2026-03", 260000, **part_time))) == []  # 539,000 x 21/44
    found = only(run(minimum("2026-04", 260000, **part_time)).findings, "PAY_BELOW_MINIMUM")
    assert found.expected == 269500  # 539,000 x 21/42


def test_incomplete_month_prorates_the_minimum() -> None:
    assert problems(run(minimum("2025-07", 264500, dias_trabajados=15))) == []
    assert problems(run(minimum("2025-07", 260000, dias_trabajados=15))) == [
        ("PAY_BELOW_MINIMUM", "haberes.sueldo_base")
    ]


# --- Asignación familiar ---------------------------------------------------------------


def test_asignacion_familiar_bracket() -> None:
    wrong_bracket = variant(EXAMPLE_C, haberes={"asignacion_familiar": 44014}, liquido=None)
    found = only(run(wrong_bracket).findings, "PAY_ASIGFAM_MISMATCH")
    assert found.severity == "warning"  # judged on the month's income, not the semester's
    assert "tramo B" in found.message
    semester = variant(wrong_bracket, haberes={"ingreso_promedio_semestre": 600000})
    assert problems(run(semester)) == []
    stated = variant(EXAMPLE_C, haberes={"ingreso_promedio_semestre": 600000}, liquido=None)
    assert only(run(stated).findings, "PAY_ASIGFAM_MISMATCH").severity == "error"


def test_asignacion_familiar_cargas_inferred_and_tramo_d() -> None:
    data = variant(EXAMPLE_C, haberes={"cargas_familiares": None})
    report = run(data)
    assert problems(report) == []
    assert report.breakdown.cargas_familiares == 2
    rich = {
        "periodo": "2025-07",
        "haberes": {
            "sueldo_base": 1500000,
            "asignacion_familiar": 4267,
            "regimen_gratificacion": "art47",
        },
    }
    found = only(run(rich).findings, "PAY_ASIGFAM_MISMATCH")
    assert found.expected == 0


def test_asignacion_familiar_without_brackets_for_the_period() -> None:
    data = variant(EXAMPLE_C, periodo="2025-03", liquido=None, descuentos={})
    data["descuentos"] = {}
    report = run(data)
    assert ("PAY_INDICATOR_MISSING", "indicadores.asig_fam") in problems(report)


# --- Líquido, totals, rounding ---------------------------------------------------------


def test_liquido() -> None:
    report = run(variant(EXAMPLE_A, liquido=1200000))
    assert problems(report) == [("PAY_LIQUIDO_MISMATCH", "liquido")]
    report = run(variant(EXAMPLE_A, liquido=-5000))
    assert problems(report) == [("PAY_LIQUIDO_NEGATIVE", "liquido")]


def test_one_peso_off_is_an_error_by_default() -> None:
    # Example A: AFP Habitat 11,27 % of 1.409.396 = 158.838,93 → 158.839 (half-up).
    report = run(variant(EXAMPLE_A, descuentos={"afp": 158838}))
    assert problems(report) == [("PAY_AFP_MISMATCH", "descuentos.afp")]
    found = report.findings[0]
    assert (found.severity, found.expected, found.actual) == ("error", 158839, 158838)
    assert report.recommendation == "reject"


def test_declared_totals() -> None:
    totals = {"imponible": 1409396, "haberes": 1509396, "descuentos": 274288}
    assert problems(run(variant(EXAMPLE_A, totales=totals))) == []
    wrong = run(variant(EXAMPLE_A, totales={**totals, "haberes": 1600000}))
    assert problems(wrong) == [("PAY_TOTAL_MISMATCH", "totales.haberes")]


# --- Indicators: missing, overridden, provisional ------------------------------------------


def test_missing_indicators_skip_rules_with_a_warning() -> None:
    data = variant(EXAMPLE_B, periodo="2026-06")  # no UF and no IMM shipped for June 2026
    report = run(data)
    missing = {f.path for f in report.findings if f.code == "PAY_INDICATOR_MISSING"}
    assert {"indicadores.uf", "indicadores.sueldo_minimo"} <= missing
    assert report.recommendation == "review"
    assert report.breakdown.afp is None


def test_overrides_fill_the_gaps_and_are_noted() -> None:
    data = variant(
        EXAMPLE_B, periodo="2026-06", indicadores={"uf": "39841.72", "imm": 539000, "utm": 69889}
    )
    report = run(data)
    assert problems(report) == []
    codes = {f.code for f in report.findings}
    assert "PAY_INDICATOR_OVERRIDE" in codes


def test_every_code_in_the_catalogue_has_a_severity() -> None:
    assert all(severity in {"error", "warning", "info"} for severity, _ in CATALOGUE.values())
    assert all(code.startswith("PAY_") for code in CATALOGUE)


@pytest.mark.parametrize(
    ("data", "recommendation", "cap"),
    [(EXAMPLE_A, "approve", 100.0), (variant(EXAMPLE_A, descuentos={"afp": 1}), "reject", 49.0)],
)
def test_recommendation_and_confidence(
    data: dict[str, Any], recommendation: str, cap: float
) -> None:
    report = run(data)
    assert report.recommendation == recommendation
    assert report.confidence <= cap
    assert (report.errors == []) == (recommendation == "approve")


def test_apv_regimen_b_lowers_the_tax_base_up_to_50_uf() -> None:
    base = {**EXAMPLE_D, "descuentos": {}, "liquido": None}
    plain = compute(slip(base), published("2025-11"))
    small = compute(slip(variant(base, descuentos={"apv": 100000})), published("2025-11"))
    assert small.apv_rebaja == 100000
    assert small.base_tributable == (plain.base_tributable or 0) - 100000
    huge = compute(slip(variant(base, descuentos={"apv": 3000000})), published("2025-11"))
    assert huge.apv_rebaja == peso(D(50) * D("39643.59"))  # 50 UF at the month-end UF
    assert huge.otros_descuentos == 3000000  # still deducted from the líquido in full


def test_tax_consistent_with_a_wrong_afp_line_is_explained() -> None:
    # The employer used Uno's old 10.49 % and then computed the tax on that base.
    own_base = 2465899 - (315686 - 314783)
    own_tax = peso(D(own_base) * D("0.08") - D("1.74") * 69542)
    report = run(variant(EXAMPLE_D, descuentos={"afp": 315686, "impuesto": own_tax}, liquido=None))
    assert problems(report) == [
        ("PAY_AFP_RATE_STALE", "descuentos.afp"),
        ("PAY_TAX_MISMATCH", "descuentos.impuesto"),
    ]
    assert (
        "coherente con los descuentos declarados"
        in only(report.findings, "PAY_TAX_MISMATCH").message
    )
