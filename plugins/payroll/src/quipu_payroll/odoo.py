"""From the Odoo payload to a checked slip.

Odoo sends lines and totals, not the contract: the AFP, the health system and
the contract type are inferred from the amounts (reported as ``PAY_INFERRED``)
unless the payload's optional ``quipu`` hints state them. A realistic slip is
never refused: unknown codes, part-time wages under the minimum, old periods
and long slips become findings. Only an input that cannot be read as a slip
at all raises :class:`~quipu_payroll.schemas.SlipInputError`.
"""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from quipu_previred.indicators import Indicators, load_published, parse_period

from quipu_payroll.checker import PayrollReport, check
from quipu_payroll.findings import Finding, Severity, finding
from quipu_payroll.money import fmt_clp, peso
from quipu_payroll.odoo_codes import CATEGORY_FALLBACK, DEDUCTIONS, Concept, build_code_map
from quipu_payroll.odoo_infer import infer_afp, infer_days, infer_jornada, infer_salud, tope_base
from quipu_payroll.odoo_payload import parse_odoo
from quipu_payroll.schemas import Descuentos, Haberes, OdooPayload, StructuredSlip, Totales

__all__ = ["check_odoo", "from_odoo"]

_SUBTOTALS = ("total_imponible", "total_haberes", "total_descuentos", "base_tributable", "liquido")


def _collect(
    payload: OdooPayload, code_map: Mapping[str, Concept], found: list[Finding]
) -> tuple[dict[str, Decimal], dict[str, Decimal], set[str]]:
    """Sum line values per concept; subtotals keep their first value."""
    sums: dict[str, Decimal] = {}
    subtotals: dict[str, Decimal] = {}
    seen: set[str] = set()
    codes = {line.code for line in payload.lines}
    for line in payload.lines:
        concept = code_map.get(line.code)
        if concept == "afp" and line.code == "AFP" and "PREV" in codes:
            # KonosCL: the worker's AFP is PREV; "AFP" is "AFP x pagar", a
            # subtotal that adds the employer's SIS and cesantía.
            concept = "ignorar"
        if concept is None:
            concept = CATEGORY_FALLBACK.get(line.category)
            how = (
                f"clasificada como {concept} por su categoría {line.category}"
                if concept
                else "no se consideró"
            )
            message = (
                f"Código {line.code!r} ({line.name or 'sin nombre'}) sin mapeo: {how}. Agréguelo a "
                f'[plugins.payroll] line_codes, p. ej. {{{line.code} = "otros_imponibles"}}.'
            )
            found.append(
                finding("PAY_UNKNOWN_CODE", f"lines[{line.index}].code", message, actual=line.code)
            )
            if concept is None:
                continue
        if concept == "ignorar":
            continue
        value = abs(line.value) if concept in DEDUCTIONS else line.value
        seen.add(concept)
        if concept in _SUBTOTALS:
            subtotals.setdefault(concept, value)
        else:
            sums[concept] = sums.get(concept, Decimal(0)) + value
    return sums, subtotals, seen


def from_odoo(
    payload: object,
    ind: Indicators,
    *,
    code_map: Mapping[str, str] | None = None,
    today: dt.date | None = None,
    tolerance: int = 0,
) -> tuple[StructuredSlip, list[Finding]]:
    """Map an Odoo payload to a :class:`StructuredSlip` plus the findings of the mapping.

    ``payload`` is JSON bytes, the decoded object, or an already parsed
    :class:`~quipu_payroll.odoo_payload.OdooPayload`.
    ``code_map`` overrides the default line-code table (``[plugins.payroll]
    line_codes``); ``today`` enables the old/future period notes; ``tolerance``
    (``[plugins.payroll] tolerance``) is the slack of the payload's own totals.
    """
    data = payload if isinstance(payload, OdooPayload) else parse_odoo(payload)
    table = build_code_map(code_map)
    found: list[Finding] = []
    sums, subtotals, seen = _collect(data, table, found)
    zero = Decimal(0)
    h = data.hints
    sueldo, grat = sums.get("sueldo_base", zero), sums.get("gratificacion", zero)
    otros = sums.get("otros_imponibles", zero)
    imponible = peso(sueldo + grat + otros)

    # A pensioner may lawfully have no AFP line (warning); health is always due (error).
    required: tuple[tuple[str, str, Severity], ...] = (
        ("afp", "AFP", "warning"),
        ("salud", "salud", "error"),
    )
    for concept, label, severity in required:
        if concept not in seen and imponible > 0:
            message = f"La liquidación no tiene línea de {label} (cotización obligatoria)."
            path = f"descuentos.{concept}"
            found.append(finding("PAY_LINE_MISSING", path, message, severity=severity))

    afp, note = infer_afp(data, ind, tope_base(ind, ind.afp_tope_uf, imponible), sums.get("afp"))
    if note:
        found.append(finding("PAY_INFERRED", "afp", note))
    salud = infer_salud(data, ind, imponible, sums.get("salud"), found)
    contrato = h.contrato or ("indefinido" if sums.get("afc", zero) > 0 else "plazo_fijo")
    if h.contrato is None and contrato == "plazo_fijo":
        message = "Sin seguro de cesantía del trabajador: se asume contrato a plazo fijo u obra."
        found.append(finding("PAY_INFERRED", "contrato", message))

    slip = StructuredSlip(
        periodo=data.period,
        contrato=contrato,
        indefinido_11_anios=bool(h.indefinido_11_anios),
        dias_trabajados=infer_days(data.wage, sueldo),
        jornada=infer_jornada(data),
        afp=afp,
        salud=salud,
        haberes=Haberes(
            sueldo_base=sueldo,
            gratificacion=grat,
            regimen_gratificacion=h.regimen_gratificacion
            or ("art50_mensual" if "gratificacion" in seen else "art47"),
            otros_imponibles=otros,
            no_imponibles=sums.get("no_imponibles", zero),
            asignacion_familiar=sums.get("asignacion_familiar"),
            cargas_familiares=h.cargas_familiares,
            ingreso_promedio_semestre=h.ingreso_promedio_semestre,
        ),
        descuentos=Descuentos(
            afp=sums.get("afp"),
            salud=sums.get("salud"),
            # Odoo only creates these lines when they are due: absent means 0.
            afc=sums.get("afc", zero),
            impuesto=sums.get("impuesto", zero),
            apv=sums.get("apv", zero),
            otros=sums.get("otros_descuentos", zero),
        ),
        liquido=data.total_liquido if data.total_liquido is not None else subtotals.get("liquido"),
        totales=Totales(
            imponible=_first(data.total_imponible, subtotals.get("total_imponible")),
            haberes=_first(data.total_haberes, subtotals.get("total_haberes")),
            descuentos=_first(
                abs(data.total_descuentos) if data.total_descuentos is not None else None,
                subtotals.get("total_descuentos"),
            ),
            base_tributable=subtotals.get("base_tributable"),
        ),
    )
    found.extend(_payload_notes(data, today, tolerance))
    return slip, found


def _first(*values: Decimal | None) -> Decimal | None:
    return next((value for value in values if value is not None), None)


def _payload_notes(data: OdooPayload, today: dt.date | None, tolerance: int) -> list[Finding]:
    notes: list[Finding] = []
    if data.wage is None or data.wage <= 0:
        message = "Sin sueldo contractual (wage): no se pudo prorratear el mínimo por días."
        notes.append(finding("PAY_WAGE_MISSING", "wage", message))
    if len(data.lines) > 100:
        message = f"La liquidación tiene {len(data.lines)} líneas; se verificaron todas."
        notes.append(finding("PAY_MANY_LINES", "lines", message))
    totals = (data.total_haberes, data.total_descuentos, data.total_liquido)
    if all(value is not None for value in totals):
        haberes, descuentos, liquido = (peso(v) for v in totals if v is not None)
        expected = haberes - abs(descuentos)
        if abs(expected - liquido) > tolerance:
            message = (
                f"total_liquido declarado {fmt_clp(liquido)}; corresponde {fmt_clp(expected)} = "
                f"total_haberes {fmt_clp(haberes)} − total_descuentos {fmt_clp(abs(descuentos))}."
            )
            notes.append(
                finding(
                    "PAY_TOTALS_INCONSISTENT",
                    "total_liquido",
                    message,
                    expected=expected,
                    actual=liquido,
                )
            )
    if today is not None:
        first = dt.date(*parse_period(data.period), 1)
        if (first - today).days > 60:
            notes.append(finding("PAY_PERIOD_FUTURE", "period", f"Período {data.period} futuro."))
        elif (today - first).days > 365:
            message = (
                f"Período {data.period} de hace más de 12 meses; se verificó con sus indicadores."
            )
            notes.append(finding("PAY_PERIOD_OLD", "period", message))
    return notes


def check_odoo(
    payload: object,
    ind: Indicators | None = None,
    *,
    code_map: Mapping[str, str] | None = None,
    today: dt.date | None = None,
    tolerance: int = 0,
) -> PayrollReport:
    """Parse, map and check an Odoo payload in one call.

    ``ind`` defaults to the shipped published values of the payload's period;
    when none exist the slip is still checked as far as possible, with
    ``PAY_INDICATORS_UNAVAILABLE`` and per-rule ``PAY_INDICATOR_MISSING``.
    """
    data = parse_odoo(payload)
    extra: list[Finding] = []
    if ind is None:
        period = data.period
        ind = load_published(period)
        if ind is None:
            message = (
                f"No hay indicadores Previred publicados para {period}: solo se verificó lo que "
                "no depende de ellos."
            )
            extra.append(finding("PAY_INDICATORS_UNAVAILABLE", "period", message))
            ind = Indicators(period=period)
    slip, found = from_odoo(data, ind, code_map=code_map, today=today, tolerance=tolerance)
    return check(slip, ind, extra=[*extra, *found], tolerance=tolerance)
