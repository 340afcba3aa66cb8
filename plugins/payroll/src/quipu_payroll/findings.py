"""Findings: one frozen record per difference between a slip and the law.

Codes are stable API: clients may switch on them. Each has a fixed default
severity; a few rules pick a softer one when the input cannot settle the
question (a part-time minimum wage without hours, a bracket judged on the
current month instead of the semester average).
"""

from typing import Final, Literal

import msgspec

__all__ = ["CATALOGUE", "RULESET_VERSION", "Finding", "Severity", "finding"]

Severity = Literal["error", "warning", "info"]

#: Bump whenever a rule, a default or a message changes, so cached verdicts keyed on it
#: are not served for slips the current rules would judge differently.
RULESET_VERSION: Final = "2026.12.1"


class Finding(msgspec.Struct, frozen=True):
    """A difference found in a slip.

    ``path`` points into the structured slip (``descuentos.afp``) or the Odoo
    payload (``lines[3].code``); ``expected``/``actual`` are whole pesos or
    short texts; ``message`` explains the rule in Spanish.
    """

    code: str
    severity: Severity
    path: str
    expected: int | str | None
    actual: int | str | None
    message: str


#: code -> (default severity, what it means). Documented in the payroll README.
CATALOGUE: Final[dict[str, tuple[Severity, str]]] = {
    "PAY_AFP_MISMATCH": ("error", "Cotización AFP distinta de base x (10 % + comisión)"),
    "PAY_AFP_RATE_STALE": ("error", "AFP calculada con una comisión que ya no rige"),
    "PAY_AFP_RATE_MISMATCH": ("error", "Tasa AFP declarada distinta de la oficial del período"),
    "PAY_TOPE_STALE": ("error", "Cotización calculada con un tope imponible de otro período"),
    "PAY_TOPE_NOT_APPLIED": ("error", "Cotización sobre el imponible completo, sin aplicar tope"),
    "PAY_UF_STALE": ("error", "Tope en pesos calculado con la UF de otro mes"),
    "PAY_HEALTH_MISMATCH": ("error", "Cotización de salud distinta de max(7 %, plan Isapre)"),
    "PAY_HEALTH_BELOW_LEGAL": ("error", "Salud descontada bajo el 7 % legal"),
    "PAY_AFC_MISMATCH": ("error", "Seguro de cesantía del trabajador distinto del legal"),
    "PAY_AFC_CONTRACT": ("error", "Seguro de cesantía que no corresponde al tipo de contrato"),
    "PAY_TAX_MISMATCH": ("error", "Impuesto único distinto del de la tabla del mes"),
    "PAY_HEALTH_TAX_BASE": ("error", "Base tributable rebajada con salud sobre el 7 % legal"),
    "PAY_UTM_STALE": ("error", "Impuesto único calculado con la UTM de otro mes"),
    "PAY_TAX_BASE_MISMATCH": ("error", "Base tributable declarada distinta de la legal"),
    "PAY_GRATIFICACION_MISMATCH": ("error", "Gratificación art. 50 bajo el 25 % con tope legal"),
    "PAY_GRATIFICACION_STALE_IMM": ("error", "Tope de gratificación con un IMM que ya no rige"),
    "PAY_GRATIFICACION_OVER_CAP": ("warning", "Gratificación art. 50 sobre el tope de 4,75 IMM"),
    "PAY_ASIGFAM_MISMATCH": ("error", "Asignación familiar distinta de la del tramo"),
    "PAY_LIQUIDO_MISMATCH": ("error", "Líquido distinto de haberes menos descuentos legales"),
    "PAY_LIQUIDO_NEGATIVE": ("error", "Líquido negativo"),
    "PAY_BELOW_MINIMUM": ("error", "Sueldo base bajo el ingreso mínimo (proporcional)"),
    "PAY_TOTAL_MISMATCH": ("error", "Subtotal declarado distinto de la suma de sus líneas"),
    "PAY_TOTALS_INCONSISTENT": ("error", "Totales declarados no cuadran entre sí"),
    "PAY_ROUNDING": ("info", "Diferencia aceptada por la tolerancia de [plugins.payroll]"),
    "PAY_LINE_MISSING": ("warning", "Falta una línea de descuento legal"),
    "PAY_UNKNOWN_CODE": ("warning", "Código de línea Odoo sin mapeo"),
    "PAY_INDICATOR_MISSING": ("warning", "Indicador no publicado para el período: regla omitida"),
    "PAY_INDICATORS_UNAVAILABLE": ("warning", "Sin indicadores publicados para el período"),
    "PAY_WAGE_MISSING": ("warning", "Sueldo contractual ausente o cero"),
    "PAY_PERIOD_FUTURE": ("warning", "Período más de 60 días en el futuro"),
    "PAY_PERIOD_OLD": ("info", "Período de más de 12 meses atrás"),
    "PAY_MANY_LINES": ("info", "Más de 100 líneas (el servicio original las rechazaba)"),
    "PAY_INFERRED": ("info", "Dato del contrato inferido de los montos"),
    "PAY_INDICATOR_OVERRIDE": (
        "info",
        "Indicador impuesto por la solicitud, distinto del publicado",
    ),
    "PAY_INDICATOR_PROVISIONAL": ("info", "Se usó un valor provisional (sin confirmación mensual)"),
    # Added by the plugin's optional AI review, never by the rules: a warning at most.
    "PAY_AI_OBSERVATION": (
        "warning",
        "Observación de la revisión IA (no verificada por las reglas)",
    ),
}


def finding(
    code: str,
    path: str,
    message: str,
    *,
    expected: int | str | None = None,
    actual: int | str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """Build a :class:`Finding` with the catalogue's severity unless ``severity`` is given."""
    default, _ = CATALOGUE[code]
    return Finding(code, severity or default, path, expected, actual, message)
