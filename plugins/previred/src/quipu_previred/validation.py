"""Plausibility checks for indicator values that did not come from the shipped data.

Admin-loaded values (``PUT``) and LLM-extracted values pass through
:func:`range_check` before anyone computes a payslip with them. The bounds are
deliberately wide (they catch a misplaced decimal point, a percent given as a
fraction, a UF typed as UTM), not narrow forecasts. Every bound is documented
in ``plugins/previred/README.md`` with the 2024-2026 values that motivate it.
"""

import itertools
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final, Literal

import msgspec

from quipu_previred.flat import to_decimal
from quipu_previred.keys import AFP_FONDOS, KEY_SPECS
from quipu_previred.model import AFP_NAMES, Indicators

__all__ = [
    "BOUNDS",
    "CORE_KEYS",
    "KEY_BOUNDS",
    "Problem",
    "ProblemKind",
    "check",
    "outside",
    "range_check",
    "value_problems",
]

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

COMMISSION: Final = (_D(0), _D(3))  # 0.46 .. 1.45 %
ASIG_MONTO: Final = (_D(0), _D(100_000))  # 22,007 at most in 2025
ASIG_LIMITE: Final = (_D(200_000), _D(5_000_000))  # 620,251 .. 1,412,957
_UTM_PER_UF: Final = (_D("1.5"), _D("2.1"))  # 1.72-1.77 over 2024-2026


def _key_bounds() -> dict[str, tuple[Decimal, Decimal]]:
    bounds = dict(BOUNDS)
    bounds["exvida_pct"] = BOUNDS["sis_pct"]
    bounds["aporteafpe_pct"] = BOUNDS["aporte_empleador_pct"]
    worker = (_D(10) + COMMISSION[0], _D(10) + COMMISSION[1])  # 10 % + the commission
    for name in AFP_NAMES:
        bounds[f"afp_{name}_comision_pct"] = COMMISSION
        bounds[f"afp_{name}_pct"] = worker
        bounds.update({f"afp_{name}_fondo_{fondo}": worker for fondo in AFP_FONDOS})
    for tramo in range(1, 5):
        bounds[f"asig_fam_tramo_{tramo}"] = ASIG_MONTO
        if tramo < 4:
            bounds[f"asig_fam_tramo_{tramo}_hasta"] = ASIG_LIMITE
    assert set(bounds) == set(KEY_SPECS), "every flat key has its bounds"
    return bounds


#: Inclusive bounds of every flat key (:data:`~quipu_previred.keys.KEY_SPECS`), each value
#: on its own: what the admin ``PUT`` schema publishes (:mod:`quipu_previred.openapi`).
KEY_BOUNDS: Final = _key_bounds()

#: Keys the original service required before answering (original-ai-service.md §5.3).
CORE_KEYS: Final = ("uf", "utm", "uta", "sueldo_minimo")

#: ``schema``: a value wrong on its own (the published schema refuses it too);
#: ``relation``: values that disagree with each other; ``missing_for_period``: a key the
#: month must hold (a month without shipped values needs :data:`CORE_KEYS`).
ProblemKind = Literal["schema", "relation", "missing_for_period"]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One reason indicator values are implausible: the keys involved and why, in Spanish."""

    fields: tuple[str, ...]
    message: str
    kind: ProblemKind


def value_problems(values: Mapping[str, object]) -> list[Problem]:
    """What is wrong with each flat value on its own (kind ``schema``).

    A value must have a known key and be a JSON number within :data:`KEY_BOUNDS`, or null
    (unknown). Numeric texts are refused here, unlike in :func:`from_flat`: the admin
    ``PUT`` publishes numbers, and a text's range cannot be stated in its schema.
    """
    problems: list[Problem] = []
    for key, raw in values.items():
        message = None
        if key not in KEY_BOUNDS:
            message = f"clave desconocida: {key}"
        elif raw is None:
            continue
        elif isinstance(raw, bool) or not isinstance(raw, int | float):
            message = f"{key}: debe ser un número JSON (o null), llegó {type(raw).__name__}"
        else:
            try:
                message = outside(key, to_decimal(raw), KEY_BOUNDS[key])
            except ValueError as exc:  # inf or nan
                message = f"{key}: {exc}"
        if message:
            problems.append(Problem(fields=(key,), message=message, kind="schema"))
    return problems


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def outside(name: str, value: Decimal, bounds: tuple[Decimal, Decimal]) -> str | None:
    """``"name=v fuera de rango [low, high]"`` when ``value`` is outside ``bounds``."""
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
    return [problem.message for problem in check(ind, require=require)]


def check(ind: Indicators, *, require: Iterable[str] = ()) -> list[Problem]:
    """:func:`range_check` with each problem's keys and kind."""
    problems = [
        Problem(fields=(key,), message=f"falta {key}", kind="missing_for_period")
        for key in require
        if getattr(ind, key) is None
    ]
    values: list[tuple[str, Decimal | None, tuple[Decimal, Decimal]]] = [
        (name, getattr(ind, name), bounds) for name, bounds in BOUNDS.items()
    ]
    values += [(f"afp_{r.nombre}_comision_pct", r.comision_pct, COMMISSION) for r in ind.afp]
    for tramo in ind.asig_fam:
        values.append((f"asig_fam_tramo_{tramo.tramo}", tramo.monto, ASIG_MONTO))
        values.append((f"asig_fam_tramo_{tramo.tramo}_hasta", tramo.hasta, ASIG_LIMITE))
    for name, value, bounds in values:
        if value is not None and (message := outside(name, value, bounds)):
            problems.append(Problem(fields=(name,), message=message, kind="schema"))
    problems.extend(_relations(ind))
    problems.extend(_asig_fam(ind))
    return problems


def _relation(message: str, *fields: str) -> Problem:
    return Problem(fields=fields, message=message, kind="relation")


def _relations(ind: Indicators) -> list[Problem]:
    problems: list[Problem] = []
    if ind.uf is not None and ind.utm is not None and ind.uf > 0:
        ratio = ind.utm / ind.uf
        if not _UTM_PER_UF[0] <= ratio <= _UTM_PER_UF[1]:
            message = f"utm/uf={ratio:.3f} fuera de [1.5, 2.1]: ¿UF y UTM invertidas?"
            problems.append(_relation(message, "utm", "uf"))
    # Previred's UTA is exactly 12 x UTM; the SII's annual UTA uses December's
    # UTM, so allow a few percent of drift rather than demand equality.
    if (
        ind.uta is not None
        and ind.utm is not None
        and abs(ind.uta - 12 * ind.utm) > ind.utm * _D("0.6")
    ):
        message = f"uta={_fmt(ind.uta)} no es ~12 x utm ({_fmt(12 * ind.utm)})"
        problems.append(_relation(message, "uta", "utm"))
    afp_tope, salud_tope, afc_tope = ind.afp_tope_uf, ind.salud_tope_uf, ind.afc_tope_uf
    if afp_tope is not None and salud_tope is not None and salud_tope != afp_tope:
        message = "salud_tope_uf debe ser igual a afp_tope_uf (mismo tope imponible)"
        problems.append(_relation(message, "salud_tope_uf", "afp_tope_uf"))
    if afp_tope is not None and afc_tope is not None and afc_tope <= afp_tope:
        message = "afc_tope_uf debe ser mayor que afp_tope_uf"
        problems.append(_relation(message, "afc_tope_uf", "afp_tope_uf"))
    total, cci, ssp = (
        ind.aporte_empleador_pct,
        ind.aporte_empleador_cci_pct,
        ind.aporte_empleador_ssp_pct,
    )
    if total is not None and cci is not None and ssp is not None and cci + ssp != total:
        message = "aporte_empleador_cci_pct + aporte_empleador_ssp_pct != total"
        problems.append(
            _relation(
                message,
                "aporte_empleador_cci_pct",
                "aporte_empleador_ssp_pct",
                "aporte_empleador_pct",
            )
        )
    minimum, reduced = ind.sueldo_minimo, ind.sueldo_minimo_menores_mayores
    if minimum is not None and reduced is not None and reduced > minimum:
        message = "sueldo_minimo_menores_mayores no puede superar sueldo_minimo"
        problems.append(_relation(message, "sueldo_minimo_menores_mayores", "sueldo_minimo"))
    return problems


def _asig_fam(ind: Indicators) -> list[Problem]:
    problems: list[Problem] = []
    tramos = sorted(ind.asig_fam, key=lambda t: t.tramo)
    for lower, upper in itertools.pairwise(tramos):
        monto, below = f"asig_fam_tramo_{upper.tramo}", f"asig_fam_tramo_{lower.tramo}"
        if upper.monto > lower.monto:
            message = f"{monto} supera al tramo {lower.tramo}"
            problems.append(_relation(message, monto, below))
        if lower.hasta is not None and upper.hasta is not None and upper.hasta <= lower.hasta:
            message = f"{monto}_hasta no es creciente"
            problems.append(_relation(message, f"{monto}_hasta", f"{below}_hasta"))
    return problems
