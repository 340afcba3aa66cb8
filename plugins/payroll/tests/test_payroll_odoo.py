"""The Odoo payload (original-ai-service.md §1.3.9, §7.4) mapped and checked."""

import copy
import datetime as dt
from typing import Any

import msgspec
import pytest
from payroll_examples import published
from quipu_payroll.odoo import check_odoo, from_odoo
from quipu_payroll.odoo_codes import DEFAULT_CODE_MAP, build_code_map
from quipu_payroll.schemas import SlipInputError

# Exactly the payload documented in original-ai-service.md §7.4 (its other lines elided).
AS_SENT: dict[str, Any] = {
    "employee_id": 15,
    "employee_name": "Juan Pérez",
    "wage": 1500000.0,
    "lines": [
        {
            "code": "BASIC",
            "name": "Sueldo Base",
            "category": "BASIC",
            "amount": 1500000.0,
            "total": 1500000.0,
        }
    ],
    "period": "2025-10",
    "date_from": "2025-10-01",
    "date_to": "2025-10-31",
    "total_imponible": 1500000.0,
    "total_haberes": 1650000.0,
    "total_descuentos": 320000.0,
    "total_liquido": 1330000.0,
}


def line(code: str, amount: float, category: str = "", name: str = "") -> dict[str, Any]:
    return {
        "code": code,
        "name": name or code,
        "category": category,
        "amount": amount,
        "total": amount,
    }


# Example A (domain-chile.md §3.12) as pwills85's l10n_cl_hr_payroll sends it:
# unrounded floats, deductions negative.
EXAMPLE_A_ODOO: dict[str, Any] = {
    "employee_id": 15,
    "employee_name": "Juan Pérez",
    "wage": 1200000.0,
    "period": "2025-10",
    "date_from": "2025-10-01",
    "date_to": "2025-10-31",
    "lines": [
        line("BASIC", 1200000.0, "BASE_SOPA"),
        line("GRAT", 209396.0, "HABER_IMPONIBLE"),
        line("HABERES_IMPONIBLES", 1409396.0, "HABER_IMPONIBLE"),
        line("COL", 60000.0, "NOIMPO"),
        line("MOV", 40000.0, "NOIMPO"),
        line("TOTAL_IMPONIBLE", 1409396.0, "BASE"),
        line("TOPE_IMPONIBLE_UF", 3476675.43, "BASE"),
        line("BASE_TRIBUTABLE", 1409396.0, "BASE"),
        line("AFP", -158838.93, "AFP_SOPA"),
        line("SALUD", -98657.72, "SALUD_SOPA"),
        line("AFC", -8456.38, "DESC_LEGAL"),
        line("BASE_IMPUESTO_UNICO", 1143443.0, "BASE"),
        line("IMPUESTO_UNICO", -8335.0, "DESC_LEGAL"),
        line("TOTAL_HABERES", 1509396.0, "HABER"),
        line("TOTAL_DESCUENTOS", -274288.0, "DESC"),
        line("NET", 1235108.0, "NET"),
    ],
    "total_imponible": 1409396.0,
    "total_haberes": 1509396.0,
    "total_descuentos": 274288.0,
    "total_liquido": 1235108.0,
}

# Example B as the KonosCL l10n_cl_hr structure computes it: positive deductions,
# "AFP" is the worker+employer subtotal, employer lines present.
EXAMPLE_B_KONOS: dict[str, Any] = {
    "employee_id": 7,
    "wage": 3500000,
    "period": "2026-03",
    "lines": [
        line("SUELDO", 3500000, "IMPONIBLE"),
        line("GRAT", 213354, "IMPONIBLE"),
        line("TOTIM", 3713354, "SUBT"),
        line("COL", 50000, "NOIMPO"),
        line("TOTNOI", 50000, "SUBT"),
        line("PREV", 410210, "PREV"),
        line("SECE", 22280, "PREV"),
        line("SECEEMP", 89120, "COMP"),
        line("SIS", 67412, "COMP"),
        line("AFP", 566742, "SUBT"),
        line("SALUD", 251003, "SALUD"),
        line("ADISA", 35857, "SALUD"),
        line("COLMENA", 286860, "SUBT"),
        line("TRIBU", 3029861, "SUBT"),
        line("IMPUNI", 120782, "DED"),
        line("TODELE", 840132, "SUBT"),
        line("TOD", 0, "SUBT"),
        line("HAB", 3763354, "SUBT"),
        line("TDE", 840132, "SUBT"),
        line("LIQ", 2923222, "SUBT"),
    ],
}


def non_info(report: Any) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in report.findings if f.severity != "info"]


def test_payload_as_documented_is_accepted() -> None:
    report = check_odoo(AS_SENT)
    assert report.recommendation == "reject"  # no AFP, no salud, totals that do not add up
    codes = {code for code, _ in non_info(report)}
    assert {"PAY_LINE_MISSING", "PAY_TOTAL_MISMATCH"} <= codes
    assert msgspec.json.encode(report)


def test_pwills85_example_a_is_clean() -> None:
    report = check_odoo(EXAMPLE_A_ODOO)
    assert non_info(report) == []
    assert report.recommendation == "approve"
    assert report.breakdown.liquido == 1235108
    inferred = [f.message for f in report.findings if f.code == "PAY_INFERRED"]
    assert inferred == ["AFP inferida: Habitat (11,27 %), reproduce el monto."]


def test_konos_example_b_is_clean() -> None:
    report = check_odoo(EXAMPLE_B_KONOS)
    assert non_info(report) == []
    assert report.recommendation == "approve"
    assert report.breakdown.salud == 286860
    assert report.breakdown.afp == 410210


def test_numbers_as_strings_and_extra_keys() -> None:
    payload = copy.deepcopy(EXAMPLE_A_ODOO)
    payload["employee_id"] = "15"
    payload["wage"] = "1200000"
    payload["lines"][0]["amount"] = payload["lines"][0]["total"] = "1200000.0"
    payload["anything"] = {"else": 1}
    assert check_odoo(payload).recommendation == "approve"
    assert check_odoo(msgspec.json.encode(payload)).recommendation == "approve"


def test_unknown_code_is_a_warning_and_the_map_is_overridable() -> None:
    payload = copy.deepcopy(EXAMPLE_A_ODOO)
    payload["lines"].insert(3, line("BONO_TURNO", 0, "OTRA"))
    report = check_odoo(payload)
    assert non_info(report) == [("PAY_UNKNOWN_CODE", "lines[3].code")]
    assert report.recommendation == "review"
    report = check_odoo(payload, code_map={"bono_turno": "otros_imponibles"})
    assert non_info(report) == []


def test_unknown_code_classified_by_category() -> None:
    payload = copy.deepcopy(EXAMPLE_A_ODOO)
    payload["lines"][3] = line("COLACION_X", 60000.0, "NOIMPO")  # replaces COL
    report = check_odoo(payload)
    assert non_info(report) == [("PAY_UNKNOWN_CODE", "lines[3].code")]
    assert report.breakdown.no_imponibles == 100000


def test_bad_code_map_fails_early() -> None:
    with pytest.raises(ValueError, match="conceptos desconocidos: X='sueldo'"):
        build_code_map({"X": "sueldo"})
    assert build_code_map()["SEGCES"] == "afc"
    assert set(DEFAULT_CODE_MAP) >= {"BASIC", "GRAT", "AFP", "SALUD", "IMPUNI", "HAB", "TDE", "LIQ"}


def test_long_slips_old_periods_and_part_time_are_findings_not_exceptions() -> None:
    long_slip = copy.deepcopy(EXAMPLE_A_ODOO)
    long_slip["lines"] += [line("ASUE", 0, "ODESC") for _ in range(140)]
    report = check_odoo(long_slip, today=dt.date(2025, 11, 5))
    assert report.recommendation == "approve"
    assert "PAY_MANY_LINES" in {f.code for f in report.findings}

    old = copy.deepcopy(EXAMPLE_A_ODOO) | {"period": "2024-03"}
    report = check_odoo(old, today=dt.date(2026, 11, 1))
    codes = {f.code for f in report.findings}
    assert {"PAY_PERIOD_OLD", "PAY_INDICATOR_MISSING"} <= codes
    assert report.recommendation in {"review", "reject"}

    ancient = copy.deepcopy(EXAMPLE_A_ODOO) | {"period": "2023-05"}
    assert "PAY_INDICATORS_UNAVAILABLE" in {f.code for f in check_odoo(ancient).findings}

    part_time = {
        "wage": 300000,
        "period": "2025-10",
        "lines": [line("BASIC", 300000), line("AFP", -33810), line("SALUD", -21000)],
    }
    report = check_odoo(part_time)
    below = [f for f in report.findings if f.code == "PAY_BELOW_MINIMUM"]
    assert [f.severity for f in below] == ["warning"]
    assert not report.errors


def test_stale_commission_found_through_inference() -> None:
    payload = {
        "wage": 2800000,
        "period": "2025-11",
        "lines": [
            line("BASIC", 2800000),
            line("GRAT", 209396),
            line("AFP", -315686),  # 10.49 %: AFP Uno before its October 2025 cut
            line("SALUD", -210658),
            line("AFC", -18056),
            line("IMPUESTO_UNICO", -76269),
        ],
    }
    report = check_odoo(payload)
    assert non_info(report) == [("PAY_AFP_RATE_STALE", "descuentos.afp")]


def test_hints_state_the_contract() -> None:
    payload = {
        "wage": 529000,
        "period": "2025-07",
        "lines": [
            line("BASIC", 529000),
            line("GRAT", 132250),
            line("MOV", 30000),
            line("ASIGFAM", 27010),
            line("AFP", -69365),
            line("SALUD", -46288),
            line("NET", 602607),
        ],
        "quipu": {
            "contrato": "plazo_fijo",
            "afp": "Uno",
            "cargas_familiares": 2,
            "horas_semanales": 44,
        },
    }
    slip, found = from_odoo(payload, published("2025-07"))
    assert slip.contrato == "plazo_fijo"
    assert slip.jornada.tipo == "completa"
    assert slip.haberes.cargas_familiares == 2
    assert [f.code for f in found] == []
    assert check_odoo(payload).recommendation == "approve"


def test_inconsistent_odoo_totals() -> None:
    payload = copy.deepcopy(EXAMPLE_A_ODOO) | {"total_liquido": 1300000.0}
    codes = {code for code, _ in non_info(check_odoo(payload))}
    assert "PAY_TOTALS_INCONSISTENT" in codes


@pytest.mark.parametrize(
    ("payload", "paths"),
    [
        ([1, 2], {"$"}),
        (b"{oops", {"$"}),
        ({"period": "2025-10"}, {"lines"}),
        ({"period": "2025-10", "lines": []}, {"lines"}),
        (
            {
                "period": "2025-13",
                "wage": "mucho",
                "lines": [{"name": "x", "amount": 1}, {"code": "A", "amount": "abc"}, "x"],
            },
            {"period", "wage", "lines[0].code", "lines[1].amount", "lines[2]"},
        ),
        ({"lines": [{"code": "BASIC", "amount": 1}]}, {"period"}),
    ],
)
def test_uncheckable_input_raises_one_error_listing_every_problem(
    payload: object, paths: set[str]
) -> None:
    with pytest.raises(SlipInputError) as info:
        check_odoo(payload)
    assert {p.path for p in info.value.problems} == paths


def test_period_taken_from_date_from() -> None:
    payload = copy.deepcopy(EXAMPLE_A_ODOO)
    del payload["period"]
    assert check_odoo(payload).breakdown.periodo == "2025-10"
