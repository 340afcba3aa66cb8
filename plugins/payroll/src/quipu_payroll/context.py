"""Notes on the indicators behind a check: missing (warning), overridden or
provisional (info)."""

from quipu_previred.indicators import Indicators, period_label

from quipu_payroll.breakdown import Breakdown
from quipu_payroll.findings import Finding, finding
from quipu_payroll.money import fmt_num
from quipu_payroll.schemas import StructuredSlip

__all__ = ["context_findings"]

# What each indicator is needed for, and how the caller can supply it.
_NEEDED_FOR = {
    "uf": ("los topes en pesos, AFP, salud, cesantía e impuesto", "indicadores.uf"),
    "utm": ("el impuesto único", "indicadores.utm"),
    "sueldo_minimo": ("el ingreso mínimo y el tope de gratificación", "indicadores.imm"),
    "sueldo_minimo_menores_mayores": ("el ingreso mínimo reducido", "indicadores.imm"),
    "afp_tope_uf": ("la cotización AFP", "indicadores.tope_afp_uf"),
    "salud_tope_uf": ("la cotización de salud", "indicadores.tope_salud_uf"),
    "afc_tope_uf": ("el seguro de cesantía", "indicadores.tope_afc_uf"),
    "asig_fam": ("la asignación familiar", ""),
}
_OVERRIDABLE = ("uf", "utm", "sueldo_minimo", "afp_tope_uf", "salud_tope_uf", "afc_tope_uf")


def context_findings(
    slip: StructuredSlip, published: Indicators, eff: Indicators, bd: Breakdown
) -> list[Finding]:
    """Missing indicators (warnings), overrides and provisional values used (info)."""
    label = period_label(bd.periodo)
    found: list[Finding] = []
    for key in bd.faltantes:
        what, how = _NEEDED_FOR.get(
            key, ("la cotización AFP" if key.startswith("afp_") else key, "")
        )
        if key.startswith("afp_"):
            how = "afp.tasa o indicadores.afp_tasas"
        hint = f" Envíe {how} o cargue el valor del mes." if how else " Cargue el valor del mes."
        message = (
            f"No hay valor publicado de {key} para {label}: no se pudo verificar {what}.{hint}"
        )
        found.append(finding("PAY_INDICATOR_MISSING", f"indicadores.{key}", message))
    if eff is not published:
        for key in _OVERRIDABLE:
            mine, theirs = getattr(eff, key), getattr(published, key)
            if mine is not None and mine != theirs:
                shown = fmt_num(theirs) if theirs is not None else "sin valor publicado"
                message = f"{key} = {fmt_num(mine)} impuesto por la solicitud (publicado: {shown})."
                found.append(finding("PAY_INDICATOR_OVERRIDE", f"indicadores.{key}", message))
    if bd.provisionales:
        message = (
            f"Se usaron valores sin confirmación específica para {label} (arrastrados del último "
            f"valor publicado): {', '.join(bd.provisionales)}."
        )
        found.append(finding("PAY_INDICATOR_PROVISIONAL", "indicadores", message))
    return found
