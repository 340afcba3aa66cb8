"""Plausibility checks for indicator values that did not come from the shipped data.

Admin-loaded values (``PUT``) and LLM-extracted values pass through
:func:`range_check` before anyone computes a payslip with them. The bounds are
deliberately wide (they catch a misplaced decimal point, a percent given as a
fraction, a UF typed as UTM), not narrow forecasts. Every bound is documented
in ``plugins/previred/README.md`` with the 2024-2026 values that motivate it.
"""

import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from quipu_previred.model import Indicators

__all__ = ["BOUNDS", "CORE_KEYS", "range_check"]

_D = Decimal

#: Inclusive (low, high) bounds per scalar field. UF 2024-2026 ≈ 38,000-41,000.
BOUNDS: Final[dict[str, tuple[Decimal, Decimal]]] = {
    "uf": (_D(30_000), _D(60_000)),
    "uf_mes_anterior": (_D(30_000), _D(60_000)),
    "utm": (_D(50_000), _D(110_000)),  # 67,294 (Dec-2024) .. 71,506 (Jun-2026)
    "uta": (_D(600_000), _D(1_320_000)),
    "sueldo_minimo": (_D(400_000), _D(900_000)),  # 500,000 (2024) .. 539,000 (2026)
    "sueldo_minimo_menores_mayores": (_D(250_000), _D(900_000)),
    "sueldo_minimo_no_remuneracional": (_D(200_000), _D(900_000)),
    "afp_tope_uf": (_D(70), _D(130)),  # 84.3 .. 90.0
    "salud_tope_uf": (_D(70), _D(130)),
    "afc_tope_uf": (_D(100), _D(200)),  # 126.6 .. 135.2
    "ips_tope_uf": (_D(50), _D(80)),  # 60
    "apv_tope_mensual_uf": (_D(30), _D(100)),  # 50
    "apv_tope_anual_uf": (_D(300), _D(1_200)),  # 600
    "deposito_convenido_tope_anual_uf": (_D(500), _D(1_800)),  # 900
    "sis_pct": (_D("0.5"), _D("3.5")),  # 1.49 .. 1.88
    "afc_trabajador_indefinido": (_D(0), _D(2)),  # 0.6
    "afc_empleador_indefinido": (_D("0.5"), _D(5)),  # 2.4
    "afc_trabajador_plazo_fijo": (_D(0), _D(2)),  # 0
    "afc_empleador_plazo_fijo": (_D("0.5"), _D(5)),  # 3.0
    "afc_empleador_11_anios": (_D(0), _D(3)),  # 0.8
    "fonasa_pct": (_D(7), _D(7)),  # fixed by law: anything else is an extraction error
    "aporte_empleador_pct": (_D(0), _D("8.5")),  # 1.0 from Aug-2025, 7.0 + SIS by 2033
    "aporte_empleador_cci_pct": (_D(0), _D("4.5")),
    "aporte_empleador_ssp_pct": (_D(0), _D(4)),
}

_COMMISSION: Final = (_D(0), _D(3))  # 0.46 .. 1.45 %
_ASIG_MONTO: Final = (_D(0), _D(100_000))  # 22,007 at most in 2025
_ASIG_LIMITE: Final = (_D(200_000), _D(5_000_000))  # 620,251 .. 1,412,957
_UTM_PER_UF: Final = (_D("1.5"), _D("2.1"))  # 1.72-1.77 over 2024-2026

#: Keys the original service required before answering (original-ai-service.md §5.3).
CORE_KEYS: Final = ("uf", "utm", "uta", "sueldo_minimo")


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def _outside(name: str, value: Decimal, bounds: tuple[Decimal, Decimal]) -> str | None:
    low, high = bounds
    if low <= value <= high:
        return None
    return f"{name}={_fmt(value)} fuera de rango [{_fmt(low)}, {_fmt(high)}]"


def range_check(ind: Indicators, *, require: Iterable[str] = ()) -> list[str]:
    """Return the problems of ``ind`` (empty when plausible), in Spanish.

    ``require`` lists scalar fields that must be present (for LLM extraction
    pass :data:`CORE_KEYS`). Besides per-value bounds it checks the relations
    that hold every month: UTM/UF ratio, UTA = 12 x UTM within a month's drift,
    tope salud = tope AFP, tope AFC above tope AFP, Ley 21.735 split adding up,
    and asignación familiar brackets ordered.
    """
    problems = [f"falta {key}" for key in require if getattr(ind, key) is None]
    for name, bounds in BOUNDS.items():
        value = getattr(ind, name)
        if value is not None and (problem := _outside(name, value, bounds)):
            problems.append(problem)
    for rate in ind.afp:
        problem = _outside(f"afp_{rate.nombre}_comision_pct", rate.comision_pct, _COMMISSION)
        if problem:
            problems.append(problem)
    problems.extend(_relations(ind))
    problems.extend(_asig_fam(ind))
    return problems


def _relations(ind: Indicators) -> list[str]:
    problems: list[str] = []
    if ind.uf is not None and ind.utm is not None and ind.uf > 0:
        ratio = ind.utm / ind.uf
        if not _UTM_PER_UF[0] <= ratio <= _UTM_PER_UF[1]:
            problems.append(f"utm/uf={ratio:.3f} fuera de [1.5, 2.1]: ¿UF y UTM invertidas?")
    # Previred's UTA is exactly 12 x UTM; the SII's annual UTA uses December's
    # UTM, so allow a few percent of drift rather than demand equality.
    if (
        ind.uta is not None
        and ind.utm is not None
        and abs(ind.uta - 12 * ind.utm) > ind.utm * _D("0.6")
    ):
        problems.append(f"uta={_fmt(ind.uta)} no es ~12 x utm ({_fmt(12 * ind.utm)})")
    afp_tope, salud_tope, afc_tope = ind.afp_tope_uf, ind.salud_tope_uf, ind.afc_tope_uf
    if afp_tope is not None and salud_tope is not None and salud_tope != afp_tope:
        problems.append("salud_tope_uf debe ser igual a afp_tope_uf (mismo tope imponible)")
    if afp_tope is not None and afc_tope is not None and afc_tope <= afp_tope:
        problems.append("afc_tope_uf debe ser mayor que afp_tope_uf")
    total, cci, ssp = (
        ind.aporte_empleador_pct,
        ind.aporte_empleador_cci_pct,
        ind.aporte_empleador_ssp_pct,
    )
    if total is not None and cci is not None and ssp is not None and cci + ssp != total:
        problems.append("aporte_empleador_cci_pct + aporte_empleador_ssp_pct != total")
    minimum, reduced = ind.sueldo_minimo, ind.sueldo_minimo_menores_mayores
    if minimum is not None and reduced is not None and reduced > minimum:
        problems.append("sueldo_minimo_menores_mayores no puede superar sueldo_minimo")
    return problems


def _asig_fam(ind: Indicators) -> list[str]:
    problems: list[str] = []
    tramos = sorted(ind.asig_fam, key=lambda t: t.tramo)
    for tramo in tramos:
        if problem := _outside(f"asig_fam_tramo_{tramo.tramo}", tramo.monto, _ASIG_MONTO):
            problems.append(problem)
        if tramo.hasta is not None:
            name = f"asig_fam_tramo_{tramo.tramo}_hasta"
            if problem := _outside(name, tramo.hasta, _ASIG_LIMITE):
                problems.append(problem)
    for lower, upper in itertools.pairwise(tramos):
        if upper.monto > lower.monto:
            problems.append(f"asig_fam_tramo_{upper.tramo} supera al tramo {lower.tramo}")
        if lower.hasta is not None and upper.hasta is not None and upper.hasta <= lower.hasta:
            problems.append(f"asig_fam_tramo_{upper.tramo}_hasta no es creciente")
    return problems
