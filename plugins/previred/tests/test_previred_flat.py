"""The flat API form: every key the ERP reads, round trips, and refusals."""

from decimal import Decimal

import pytest
from quipu_previred.indicators import (
    ERP_KEYS,
    KEY_SPECS,
    IndicatorsError,
    from_flat,
    load_published,
    to_flat,
)

D = Decimal


def test_to_flat_has_every_required_key_for_a_complete_month() -> None:
    ind = load_published("2025-07")
    assert ind is not None
    flat = to_flat(ind)
    missing = [key for key in ERP_KEYS if key not in flat]
    assert missing == []
    assert flat["uf"] == 39179.01
    assert flat["utm"] == 68923
    assert isinstance(flat["utm"], int)
    assert flat["sueldo_minimo"] == 529000
    assert flat["afp_tope_uf"] == 87.8
    assert flat["salud_tope_uf"] == 87.8
    assert flat["apv_tope_mensual_uf"] == 50.0
    assert flat["exvida_pct"] == flat["sis_pct"] == 1.88
    assert flat["afp_modelo_pct"] == 10.58
    assert flat["afp_uno_pct"] == 10.49
    assert flat["afp_capital_fondo_c"] == 11.44
    assert flat["asig_fam_tramo_1"] == 22007
    assert flat["asig_fam_tramo_4"] == 0
    assert all(isinstance(value, int | float) for value in flat.values())
    assert set(flat) <= set(KEY_SPECS)


def test_partial_month_omits_unknown_keys() -> None:
    ind = load_published("2024-03")
    assert ind is not None
    flat = to_flat(ind)
    assert "uf" not in flat
    assert "sueldo_minimo" not in flat
    assert flat["afp_tope_uf"] == 84.3


@pytest.mark.parametrize("period", ["2024-12", "2025-07", "2025-10", "2026-03", "2026-06"])
def test_round_trip(period: str) -> None:
    ind = load_published(period)
    assert ind is not None
    again = from_flat(to_flat(ind), period=period, origin="published", provisional=ind.provisional)
    assert again == ind


def test_from_flat_accepts_strings_numbers_and_aliases() -> None:
    ind = from_flat(
        {
            "period": "2025-07",
            "uf": "39179.01",
            "utm": 68923,
            "exvida_pct": 1.88,
            "afp_habitat_pct": 11.27,
            "aporteafpe_pct": "1.0",
            "sueldo_minimo": None,
        }
    )
    assert ind.uf == D("39179.01")
    assert ind.sis_pct == D("1.88")
    assert ind.commission("Habitat") == D("1.27")
    assert ind.aporte_empleador_pct == D("1.0")
    assert ind.sueldo_minimo is None
    assert ind.origin == "admin"


def test_from_flat_reports_every_problem_at_once() -> None:
    with pytest.raises(IndicatorsError) as info:
        from_flat(
            {
                "period": "2025-13",
                "uf": "n/a",
                "utm": True,
                "tope_afp": 87.8,
                "sis_pct": 1.88,
                "exvida_pct": 1.49,
                "afp_uno_comision_pct": 0.46,
                "afp_uno_pct": 10.49,
                "fonasa_pct": float("nan"),
            }
        )
    problems = "\n".join(info.value.problems)
    assert "2025-13" in problems
    assert "uf:" in problems
    assert "utm: booleano" in problems
    assert "clave desconocida: tope_afp" in problems
    assert "exvida_pct=1.49 contradice sis_pct=1.88" in problems
    assert "afp_uno_pct=10.49 no es 10 + comisión 0.46" in problems
    assert "fonasa_pct: número no finito" in problems


def test_from_flat_non_strict_ignores_unknown_keys() -> None:
    ind = from_flat({"uf": 39179.01, "whatever": 1}, period="2025-07", strict=False)
    assert ind.uf == D("39179.01")


def test_ley_21735_split_must_add_up() -> None:
    ind = from_flat(
        {"aporte_empleador_cci_pct": "0.1", "aporte_empleador_ssp_pct": "0.9"}, period="2025-08"
    )
    assert ind.aporte_empleador_pct == D("1.0")
    with pytest.raises(IndicatorsError, match="no es la suma"):
        from_flat(
            {
                "aporte_empleador_pct": 2,
                "aporte_empleador_cci_pct": "0.1",
                "aporte_empleador_ssp_pct": "0.9",
            },
            period="2025-08",
        )
