"""Range checks used for admin-loaded and LLM-extracted indicators."""

import msgspec
import pytest
from quipu_previred.indicators import (
    Indicators,
    from_flat,
    load_published,
    published_periods,
    to_flat,
)
from quipu_previred.validation import CORE_KEYS, range_check


def july() -> Indicators:
    ind = load_published("2025-07")
    assert ind is not None
    return ind


@pytest.mark.parametrize("period", published_periods())
def test_every_shipped_month_passes(period: str) -> None:
    ind = load_published(period)
    assert ind is not None
    assert range_check(ind) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"uf": 25_000}, "uf=25000 fuera de rango [30000, 60000]"),
        ({"uf": 60_001}, "uf=60001 fuera de rango"),
        ({"utm": 39179.01, "uf": 68923}, "utm=39179.01 fuera de rango"),
        ({"sueldo_minimo": 52_900}, "sueldo_minimo=52900 fuera de rango"),
        ({"afp_tope_uf": 0.878}, "afp_tope_uf=0.878 fuera de rango"),
        ({"sis_pct": 0.0188}, "sis_pct=0.0188 fuera de rango"),
        ({"fonasa_pct": 0.07}, "fonasa_pct=0.07 fuera de rango"),
        ({"salud_tope_uf": 0}, "salud_tope_uf=0 fuera de rango"),
        ({"uta": 68923}, "uta=68923 fuera de rango"),
        ({"afp_capital_comision_pct": 11.44}, "afp_capital_comision_pct=11.44 fuera de rango"),
        ({"asig_fam_tramo_2": 30_000}, "asig_fam_tramo_2 supera al tramo 1"),
    ],
)
def test_refusals(changes: dict[str, object], expected: str) -> None:
    # Start from July 2025 without the alias keys, so that one change is one change.
    flat: dict[str, object] = {
        key: value
        for key, value in to_flat(july()).items()
        if key not in {"exvida_pct", "aporteafpe_pct"}
        and not (key.startswith("afp_") and not key.endswith(("_comision_pct", "_tope_uf")))
    }
    flat.update(changes)
    problems = range_check(from_flat(flat, period="2025-07"))
    assert any(expected in problem for problem in problems), problems


def test_relations_between_values() -> None:
    ind = msgspec.structs.replace(july(), salud_tope_uf=july().afc_tope_uf)
    assert "salud_tope_uf debe ser igual a afp_tope_uf (mismo tope imponible)" in range_check(ind)
    ind = msgspec.structs.replace(july(), afc_tope_uf=july().afp_tope_uf, salud_tope_uf=None)
    assert "afc_tope_uf debe ser mayor que afp_tope_uf" in range_check(ind)


def test_required_core_keys() -> None:
    problems = range_check(Indicators(period="2025-07"), require=CORE_KEYS)
    assert problems == ["falta uf", "falta utm", "falta uta", "falta sueldo_minimo"]
