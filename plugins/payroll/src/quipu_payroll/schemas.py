"""Input records: the structured payslip and the Odoo payload.

Amounts are :class:`~decimal.Decimal` pesos (JSON numbers or numeric strings);
rates are percent. A declared amount left ``None`` is simply not checked.
The Odoo payload's lenient parser is :func:`quipu_payroll.odoo_payload.parse_odoo`;
its records are defined here with the rest of the inputs.
"""

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Final, Literal

import msgspec
from quipu_previred.indicators import PeriodError, afp_key, parse_period

from quipu_payroll.errors import InputProblem, SlipInputError

__all__ = [
    "AfpSpec",
    "Descuentos",
    "Haberes",
    "IndicadoresOverride",
    "InputProblem",
    "Jornada",
    "OdooHints",
    "OdooLine",
    "OdooPayload",
    "Salud",
    "SlipInputError",
    "StructuredSlip",
    "Totales",
    "parse_structured",
]

_ZERO: Final = Decimal(0)

Contrato = Literal["indefinido", "plazo_fijo", "obra"]
RegimenGratificacion = Literal["art50_mensual", "art47", "convencional"]


class Jornada(msgspec.Struct, frozen=True):
    """Working time. ``desconocida`` (Odoo sends no jornada) softens the minimum-wage rule."""

    tipo: Literal["completa", "parcial", "desconocida"] = "completa"
    horas_semanales: Decimal | None = None


class AfpSpec(msgspec.Struct, frozen=True):
    """The worker's AFP and, optionally, the worker rate the slip applied (10 + commission).

    ``tasa`` may be a percentage (``10.49``) or a fraction (``0.1049``): no AFP rate is
    below 1 %, so a value under 1 is read as a fraction. When the period's official rate
    is known it is the one checked against, and a declared ``tasa`` that differs is a
    finding; otherwise ``tasa`` stands in for it.
    """

    nombre: str
    tasa: Decimal | None = None


class Salud(msgspec.Struct, frozen=True):
    """Health system: Fonasa, or an Isapre plan in UF (or already in pesos)."""

    tipo: Literal["fonasa", "isapre"] = "fonasa"
    plan_uf: Decimal | None = None
    plan_pesos: Decimal | None = None


class Haberes(msgspec.Struct, frozen=True):
    """Earnings. ``asignacion_familiar`` is the declared amount; cargas may be inferred."""

    sueldo_base: Decimal = _ZERO
    gratificacion: Decimal = _ZERO
    regimen_gratificacion: RegimenGratificacion = "art50_mensual"
    otros_imponibles: Decimal = _ZERO
    no_imponibles: Decimal = _ZERO
    asignacion_familiar: Decimal | None = None
    cargas_familiares: int | None = None
    ingreso_promedio_semestre: Decimal | None = None


class Descuentos(msgspec.Struct, frozen=True):
    """Declared deductions. ``apv`` is APV régimen B (lowers the tax base, up to 50 UF)."""

    afp: Decimal | None = None
    salud: Decimal | None = None
    afc: Decimal | None = None
    impuesto: Decimal | None = None
    apv: Decimal = _ZERO
    otros: Decimal = _ZERO


class Totales(msgspec.Struct, frozen=True):
    """Declared subtotals, when the slip shows them."""

    imponible: Decimal | None = None
    haberes: Decimal | None = None
    descuentos: Decimal | None = None
    base_tributable: Decimal | None = None


class IndicadoresOverride(msgspec.Struct, frozen=True):
    """Indicator values the caller imposes over the period's published ones.

    ``afp_tasas`` maps AFP name to the worker rate, in percent (``{"uno": 10.46}``) or
    as a fraction (``{"uno": 0.1046}``).
    """

    uf: Decimal | None = None
    utm: Decimal | None = None
    imm: Decimal | None = None
    tope_afp_uf: Decimal | None = None
    tope_salud_uf: Decimal | None = None
    tope_afc_uf: Decimal | None = None
    sis_pct: Decimal | None = None
    afp_tasas: dict[str, Decimal] | None = None


class StructuredSlip(msgspec.Struct, frozen=True, kw_only=True):
    """A payslip in the form the engine checks (see the payroll README for every field).

    ``afp=None`` means the AFP is unknown (its line is then not checked).
    ``dias_trabajados`` prorates the minimum wage for an incomplete month.
    """

    periodo: str
    contrato: Contrato = "indefinido"
    indefinido_11_anios: bool = False
    imm_reducido: bool = False
    dias_trabajados: int = 30
    jornada: Jornada = Jornada()
    afp: AfpSpec | None = None
    salud: Salud = Salud()
    haberes: Haberes = Haberes()
    descuentos: Descuentos = Descuentos()
    liquido: Decimal | None = None
    totales: Totales | None = None
    indicadores: IndicadoresOverride | None = None


class OdooLine(msgspec.Struct, frozen=True):
    """One payslip line; ``value`` is ``total`` when sent, else ``amount``."""

    index: int
    code: str
    name: str
    category: str
    value: Decimal


class OdooHints(msgspec.Struct, frozen=True):
    """Optional facts a caller may add to the payload (quipu extension)."""

    contrato: Literal["indefinido", "plazo_fijo", "obra"] | None = None
    indefinido_11_anios: bool | None = None
    afp: str | None = None
    salud: Literal["fonasa", "isapre"] | None = None
    isapre_plan_uf: Decimal | None = None
    horas_semanales: Decimal | None = None
    cargas_familiares: int | None = None
    regimen_gratificacion: Literal["art50_mensual", "art47", "convencional"] | None = None
    ingreso_promedio_semestre: Decimal | None = None


class OdooPayload(msgspec.Struct, frozen=True):
    """The parsed payload."""

    period: str
    lines: tuple[OdooLine, ...]
    wage: Decimal | None = None
    employee_id: int | None = None
    total_imponible: Decimal | None = None
    total_haberes: Decimal | None = None
    total_descuentos: Decimal | None = None
    total_liquido: Decimal | None = None
    hints: OdooHints = OdooHints()


# Discounted hours are a negative imponible; a broken slip may show a negative
# líquido, which is a finding (PAY_LIQUIDO_NEGATIVE), not an input error.
_MAY_BE_NEGATIVE: Final = frozenset({"haberes.otros_imponibles", "liquido"})

_AT_PATH: Final = re.compile(r"^(?P<msg>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$")


def _walk(value: object, path: str) -> Iterator[tuple[str, object]]:
    if isinstance(value, msgspec.Struct):
        # __struct_fields__, not msgspec.structs.fields(): that one re-evaluates the
        # class annotations on every call (3/4 of a request's time in parse_structured).
        for name in value.__struct_fields__:
            child = f"{path}.{name}" if path else name
            yield from _walk(getattr(value, name), child)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    else:
        yield path, value


def _as_percent(rate: Decimal) -> Decimal:
    """A rate given as a fraction (``0.1049``) in percent (``10.49``).

    No AFP or health rate is below 1 % (AFP 10 % + commission, salud 7 %), so a value
    strictly between 0 and 1 can only be a fraction.
    """
    if not _ZERO < rate < 1:
        return rate
    percent = (rate * 100).normalize()  # 0.1049 → 10.49, not 10.4900
    exponent = percent.as_tuple().exponent
    return percent.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else percent


def _rates_in_percent(slip: StructuredSlip) -> StructuredSlip:
    """``afp.tasa`` and ``indicadores.afp_tasas`` normalised to percent."""
    afp, over = slip.afp, slip.indicadores
    if afp is not None and afp.tasa is not None and afp.tasa.is_finite():
        slip = msgspec.structs.replace(
            slip, afp=msgspec.structs.replace(afp, tasa=_as_percent(afp.tasa))
        )
    if over is not None and over.afp_tasas:
        tasas = {k: _as_percent(v) if v.is_finite() else v for k, v in over.afp_tasas.items()}
        slip = msgspec.structs.replace(
            slip, indicadores=msgspec.structs.replace(over, afp_tasas=tasas)
        )
    return slip


def _rate_problems(slip: StructuredSlip) -> list[InputProblem]:
    rates: list[tuple[str, Decimal]] = []
    if slip.afp is not None and slip.afp.tasa is not None:
        rates.append(("afp.tasa", slip.afp.tasa))
    if slip.indicadores is not None and slip.indicadores.afp_tasas:
        rates += [(f"indicadores.afp_tasas.{k}", v) for k, v in slip.indicadores.afp_tasas.items()]
    return [
        InputProblem(
            path,
            f"tasa AFP {rate} fuera de rango",
            "envíe la tasa del trabajador (10 % + comisión) como porcentaje (10.49) o "
            "fracción (0.1049)",
        )
        for path, rate in rates
        if rate.is_finite() and not Decimal(1) <= rate <= 100
    ]


def _semantic_problems(slip: StructuredSlip) -> list[InputProblem]:
    problems: list[InputProblem] = []
    for path, value in _walk(slip, ""):
        if isinstance(value, Decimal) and not value.is_finite():
            problems.append(InputProblem(path, "número no finito", "envíe un monto numérico"))
        elif isinstance(value, Decimal) and value < 0 and path not in _MAY_BE_NEGATIVE:
            problems.append(InputProblem(path, "monto negativo", "los descuentos van en positivo"))
    try:
        parse_period(slip.periodo)
    except PeriodError as exc:
        problems.append(InputProblem("periodo", str(exc), "use YYYY-MM, p. ej. 2025-07"))
    if not 1 <= slip.dias_trabajados <= 31:
        problems.append(InputProblem("dias_trabajados", "debe estar entre 1 y 31"))
    horas = slip.jornada.horas_semanales
    if horas is not None and not _ZERO < horas <= 45:
        problems.append(InputProblem("jornada.horas_semanales", "debe estar entre 0 y 45"))
    if slip.afp is not None and slip.afp.tasa is None and afp_key(slip.afp.nombre) is None:
        problems.append(
            InputProblem(
                "afp.nombre",
                f"AFP desconocida: {slip.afp.nombre!r}",
                "use Capital, Cuprum, Habitat, Modelo, PlanVital, ProVida o Uno, o afp.tasa",
            )
        )
    cargas = slip.haberes.cargas_familiares
    if cargas is not None and cargas < 0:
        problems.append(InputProblem("haberes.cargas_familiares", "no puede ser negativo"))
    return problems


def parse_structured(data: object) -> StructuredSlip:
    """Decode a structured slip from JSON bytes or a decoded object; raise :class:`SlipInputError`.

    Lenient on types (``"1200000"`` and ``1200000.0`` are both pesos, unknown
    keys are ignored), strict on meaning (a real period, finite non-negative
    amounts, a known AFP or an explicit rate).
    """
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            slip = msgspec.json.decode(data, type=StructuredSlip, strict=False)
        else:
            slip = msgspec.convert(data, StructuredSlip, strict=False)
    except msgspec.ValidationError as exc:
        match = _AT_PATH.match(str(exc))
        path = (match.group("path") if match else None) or "$"
        message = match.group("msg") if match else str(exc)
        raise SlipInputError([InputProblem(path, message, "revise el tipo del campo")]) from exc
    except msgspec.DecodeError as exc:
        raise SlipInputError([InputProblem("$", f"JSON inválido: {exc}")]) from exc
    slip = _rates_in_percent(slip)
    problems = _semantic_problems(slip)
    problems += [p for p in _rate_problems(slip) if p.path not in {q.path for q in problems}]
    if problems:
        raise SlipInputError(problems)
    return slip
