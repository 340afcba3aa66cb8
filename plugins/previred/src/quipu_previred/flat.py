"""Conversion between :class:`Indicators` and the original API's flat number dict."""

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Final

from quipu_previred.keys import AFP_FONDOS, KEY_SPECS, SCALAR_KEYS
from quipu_previred.model import AFP_NAMES, AfpRate, AsigFamTramo, Indicators, Origin
from quipu_previred.periods import parse_period

__all__ = ["IndicatorsError", "from_flat", "to_decimal", "to_flat"]

_TEN: Final = Decimal(10)


class IndicatorsError(ValueError):
    """Flat values that do not form a valid :class:`Indicators` record."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("Indicadores inválidos: " + "; ".join(self.problems))


def to_decimal(value: object) -> Decimal:
    """Return ``value`` as an exact finite Decimal (floats go through their shortest repr)."""
    if isinstance(value, bool):  # bool is an int subclass; True is never a rate
        raise ValueError("booleano no es un número")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("número no finito")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} no es un número") from None
    else:
        raise ValueError(f"tipo {type(value).__name__} no es un número")
    if not result.is_finite():
        raise ValueError("número no finito")
    return result


def _number(value: Decimal, key: str) -> float | int:
    # Peso amounts stay integers in JSON; rates and UF values are floats.
    if KEY_SPECS[key].unit == "CLP" and value == value.to_integral_value():
        return int(value)
    return float(value)


def to_flat(ind: Indicators) -> dict[str, float | int]:
    """Return the flat ``{key: number}`` dict of the original API (unknown values omitted).

    Odoo skips keys whose value is missing (``None``), so omitting a key the
    month lacks is the compatible behaviour (original-ai-service.md §7.5).
    """
    flat: dict[str, float | int] = {}
    for key in SCALAR_KEYS:
        value = getattr(ind, key)
        if value is not None:
            flat[key] = _number(value, key)
    if ind.sis_pct is not None:
        flat["exvida_pct"] = float(ind.sis_pct)
    if ind.aporte_empleador_pct is not None:
        flat["aporteafpe_pct"] = float(ind.aporte_empleador_pct)
    for rate in ind.afp:
        worker = float(rate.tasa_trabajador_pct)
        flat[f"afp_{rate.nombre}_comision_pct"] = float(rate.comision_pct)
        flat[f"afp_{rate.nombre}_pct"] = worker
        for fondo in AFP_FONDOS:
            flat[f"afp_{rate.nombre}_fondo_{fondo}"] = worker
    for tramo in ind.asig_fam:
        flat[f"asig_fam_tramo_{tramo.tramo}"] = _number(tramo.monto, "asig_fam_tramo_1")
        if tramo.hasta is not None:
            flat[f"asig_fam_tramo_{tramo.tramo}_hasta"] = _number(tramo.hasta, "asig_fam_tramo_1")
    return flat


def _pick(values: dict[str, Decimal], keys: list[str], problems: list[str]) -> Decimal | None:
    """Return the single value the alias ``keys`` agree on, recording disagreements."""
    found = [(key, values[key]) for key in keys if key in values]
    if not found:
        return None
    first_key, first = found[0]
    for key, value in found[1:]:
        if value != first:
            problems.append(f"{key}={value} contradice {first_key}={first}")
    return first


def from_flat(
    flat: Mapping[str, object],
    *,
    period: str | None = None,
    origin: Origin = "admin",
    provisional: Iterable[str] = (),
    strict: bool = True,
) -> Indicators:
    """Build :class:`Indicators` from a flat dict (admin PUT, LLM output, shipped data).

    Accepts every key :func:`to_flat` emits (aliases must agree with each other)
    plus ``period``; ``None`` values mean "unknown". With ``strict`` an unknown
    key is an error, which catches typos in admin-loaded values. Raises
    :class:`IndicatorsError` listing every problem at once.
    """
    problems: list[str] = []
    raw_period = period if period is not None else flat.get("period")
    try:
        parse_period(raw_period)
    except ValueError as exc:
        problems.append(str(exc))
    values: dict[str, Decimal] = {}
    for key, raw in flat.items():
        if key == "period" or raw is None:
            continue
        if key not in KEY_SPECS:
            if strict:
                problems.append(f"clave desconocida: {key}")
            continue
        try:
            values[key] = to_decimal(raw)
        except ValueError as exc:
            problems.append(f"{key}: {exc}")

    scalars: dict[str, Decimal | None] = {key: values.get(key) for key in SCALAR_KEYS}
    scalars["sis_pct"] = _pick(values, ["sis_pct", "exvida_pct"], problems)
    scalars["aporte_empleador_pct"] = _pick(
        values, ["aporte_empleador_pct", "aporteafpe_pct"], problems
    )
    cci, ssp = scalars["aporte_empleador_cci_pct"], scalars["aporte_empleador_ssp_pct"]
    if cci is not None and ssp is not None:
        total = scalars["aporte_empleador_pct"]
        if total is None:
            scalars["aporte_empleador_pct"] = cci + ssp
        elif total != cci + ssp:
            problems.append(f"aporte_empleador_pct={total} no es la suma {cci} + {ssp}")

    afp: list[AfpRate] = []
    for name in AFP_NAMES:
        worker_keys = [f"afp_{name}_pct", *(f"afp_{name}_fondo_{f}" for f in AFP_FONDOS)]
        commission = _pick(values, [f"afp_{name}_comision_pct"], problems)
        worker = _pick(values, worker_keys, problems)
        if commission is None and worker is not None:
            commission = worker - _TEN
        elif commission is not None and worker is not None and worker != commission + _TEN:
            problems.append(f"afp_{name}_pct={worker} no es 10 + comisión {commission}")
        if commission is not None:
            afp.append(AfpRate(name, commission))

    asig: list[AsigFamTramo] = []
    for tramo in range(1, 5):
        monto = values.get(f"asig_fam_tramo_{tramo}")
        if monto is not None:
            asig.append(AsigFamTramo(tramo, values.get(f"asig_fam_tramo_{tramo}_hasta"), monto))

    if problems:
        raise IndicatorsError(problems)
    assert isinstance(raw_period, str)  # parse_period accepted it
    return Indicators(
        period=raw_period,
        afp=tuple(afp),
        asig_fam=tuple(asig),
        provisional=tuple(sorted(set(provisional))),
        origin=origin,
        **scalars,
    )
