"""The four worked examples of domain-chile.md §3.12, reproduced to the peso."""

from decimal import Decimal

import msgspec
import pytest
from payroll_examples import EXAMPLE_A, EXAMPLE_B, EXAMPLE_C, EXAMPLE_D, EXAMPLES, published, run
from quipu_payroll.engine import compute
from quipu_payroll.schemas import parse_structured


def test_example_a_october_2025_habitat_fonasa() -> None:
    bd = compute(parse_structured(EXAMPLE_A), published("2025-10"))
    assert bd.gratificacion_legal == 209_396
    assert bd.imponible == 1_409_396
    assert bd.tope_afp == 3_476_675
    assert (bd.afp, bd.salud, bd.afc) == (158_839, 98_658, 8_456)
    assert bd.base_tributable == 1_143_443
    assert (bd.impuesto_tramo, bd.impuesto) == (2, 8_335)
    assert bd.descuentos_legales == 274_288
    assert bd.total_haberes == 1_509_396
    assert bd.liquido == 1_235_108
    # Employer: AFC 2.4 % and Ley 21.735 1 % (0.1 % CCI + 0.9 % SSP); SIS is not
    # shipped for October 2025, so it is unknown here.
    assert bd.empleador.afc == 33_826
    assert (bd.empleador.aporte_cci, bd.empleador.aporte_ssp) == (1_409, 12_685)
    assert bd.empleador.aporte_total == 14_094
    assert bd.empleador.sis is None


def test_example_a_employer_sis_with_an_override() -> None:
    data = {**EXAMPLE_A, "indicadores": {"sis_pct": "1.88"}}
    assert compute(parse_structured(data), published("2025-10")).empleador.sis == 26_497


def test_example_b_march_2026_capital_isapre_above_tope() -> None:
    bd = compute(parse_structured(EXAMPLE_B), published("2026-03"))
    assert bd.gratificacion_legal == 213_354
    assert bd.imponible == 3_713_354
    assert (bd.tope_afp, bd.base_afp) == (3_585_755, 3_585_755)
    assert (bd.tope_afc, bd.base_afc) == (5_386_601, 3_713_354)
    assert bd.afp == 410_210
    assert (bd.salud_legal, bd.salud_plan, bd.salud) == (251_003, 286_860, 286_860)
    assert bd.afc == 22_280
    assert bd.base_tributable == 3_029_861
    assert (bd.impuesto_tramo, bd.impuesto) == (3, 120_782)
    assert bd.descuentos_legales == 840_132
    assert bd.total_haberes == 3_763_354
    assert bd.liquido == 2_923_222
    assert (bd.empleador.afc, bd.empleador.aporte_total) == (89_120, 35_858)
    with_sis = {**EXAMPLE_B, "indicadores": {"sis_pct": "1.88"}}
    assert compute(parse_structured(with_sis), published("2026-03")).empleador.sis == 67_412


def test_example_c_july_2025_minimum_wage_plazo_fijo_two_cargas() -> None:
    bd = compute(parse_structured(EXAMPLE_C), published("2025-07"))
    assert bd.gratificacion_legal == 132_250
    assert bd.imponible == 661_250
    assert (bd.asignacion_familiar_tramo, bd.asignacion_familiar) == (2, 27_010)
    assert (bd.afp_tasa, bd.afp) == (Decimal("10.49"), 69_365)
    assert (bd.salud, bd.afc) == (46_288, 0)
    assert bd.base_tributable == 545_597
    assert bd.impuesto == 0
    assert bd.descuentos_legales == 115_653
    assert bd.total_haberes == 718_260
    assert bd.liquido == 602_607
    # Employer: SIS 1.88 % (shipped for July 2025) and AFC 3.0 %; no Ley 21.735 yet.
    assert (bd.empleador.sis, bd.empleador.afc) == (12_432, 19_838)
    assert bd.empleador.aporte_total is None


def test_example_d_november_2025_uno_after_the_commission_cut() -> None:
    bd = compute(parse_structured(EXAMPLE_D), published("2025-11"))
    assert bd.imponible == 3_009_396
    assert bd.tope_afp == 3_480_707
    assert (bd.afp_tasa, bd.afp) == (Decimal("10.46"), 314_783)
    assert (bd.salud, bd.afc) == (210_658, 18_056)
    assert bd.base_tributable == 2_465_899
    assert bd.impuesto == 76_269
    assert bd.descuentos_legales == 619_766
    assert bd.liquido == 2_389_630


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_validate_clean(name: str) -> None:
    report = run(EXAMPLES[name])
    assert [f for f in report.findings if f.severity != "info"] == []
    assert report.errors == []
    assert report.warnings == []
    assert report.recommendation == "approve"
    assert report.confidence == 100.0
    assert report.checks_run == report.checks_passed >= 7


def test_example_b_notes_the_carried_2026_commission() -> None:
    report = run(EXAMPLE_B)
    notes = [f for f in report.findings if f.code == "PAY_INDICATOR_PROVISIONAL"]
    assert len(notes) == 1
    assert "afp_capital_comision_pct" in notes[0].message
    assert notes[0].severity == "info"


def test_report_is_msgspec_encodable() -> None:
    report = run(EXAMPLE_B)
    decoded = msgspec.json.decode(msgspec.json.encode(report))
    assert decoded["recommendation"] == "approve"
    assert decoded["breakdown"]["liquido"] == 2_923_222
    assert decoded["breakdown"]["uf"] == "39841.72"
