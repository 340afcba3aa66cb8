"""What Odoo does not send, inferred from the amounts (each inference is a
``PAY_INFERRED`` note) unless the payload's ``quipu`` hints state it."""

from decimal import Decimal

from quipu_previred.indicators import AFP_LABELS, Indicators, month_end

from quipu_payroll.findings import Finding, finding
from quipu_payroll.legal import jornada_maxima
from quipu_payroll.money import fmt_clp, fmt_pct, pct, peso
from quipu_payroll.schemas import AfpSpec, Jornada, OdooPayload, Salud

__all__ = ["infer_afp", "infer_days", "infer_jornada", "infer_salud", "tope_base"]


def infer_afp(
    payload: OdooPayload, ind: Indicators, base: int | None, declared: Decimal | None
) -> tuple[AfpSpec | None, str | None]:
    """Pick the AFP whose rate reproduces the declared amount (else the closest one)."""
    if payload.hints.afp:
        return AfpSpec(payload.hints.afp), None
    if base is None or declared is None or not ind.afp:
        return None, "AFP no identificada: sin tasas publicadas o sin línea AFP; no se verificó."
    actual = peso(declared)
    ranked = sorted(ind.afp, key=lambda r: abs(pct(base, r.tasa_trabajador_pct) - actual))
    best = ranked[0]
    same = [AFP_LABELS[r.nombre] for r in ind.afp if r.comision_pct == best.comision_pct]
    exact = pct(base, best.tasa_trabajador_pct) == actual
    how = "reproduce el monto" if exact else "la más cercana al monto; se verificará con ella"
    return AfpSpec(best.nombre), (
        f"AFP inferida: {' o '.join(same)} ({fmt_pct(best.tasa_trabajador_pct)}), {how}."
    )


def tope_base(ind: Indicators, tope_uf: Decimal | None, imponible: int) -> int | None:
    """The imponible capped at ``tope_uf`` x the month-end UF, or ``None`` if unknown."""
    if ind.uf is None or tope_uf is None:
        return None
    return min(imponible, peso(tope_uf * ind.uf))


def infer_salud(
    data: OdooPayload,
    ind: Indicators,
    imponible: int,
    declared: Decimal | None,
    found: list[Finding],
) -> Salud:
    """Fonasa when the salud line is the legal 7 % (±1 peso), else an Isapre with that plan."""
    h = data.hints
    if h.salud == "isapre" or h.isapre_plan_uf is not None:
        return Salud(
            "isapre", plan_uf=h.isapre_plan_uf, plan_pesos=None if h.isapre_plan_uf else declared
        )
    if h.salud == "fonasa" or declared is None:
        return Salud("fonasa")
    base, fonasa = tope_base(ind, ind.salud_tope_uf, imponible), ind.fonasa_pct
    if base is None or fonasa is None:
        return Salud("fonasa")
    legal = pct(base, fonasa)
    if peso(declared) <= legal + 1:
        return Salud("fonasa")
    message = (
        f"Salud {fmt_clp(declared)} sobre el 7 % legal ({fmt_clp(legal)}): se asume Isapre con "
        "ese plan (el plan en UF no viene en la liquidación y no se verificó)."
    )
    found.append(finding("PAY_INFERRED", "salud", message))
    return Salud("isapre", plan_pesos=declared)


def infer_days(wage: Decimal | None, sueldo: Decimal) -> int:
    """Days paid, from the base actually paid against the contract wage (30 = full month)."""
    if wage is None or wage <= 0 or sueldo >= wage or sueldo <= 0:
        return 30
    return max(1, min(30, peso(Decimal(30) * sueldo / wage)))


def infer_jornada(data: OdooPayload) -> Jornada:
    """Part time when hinted hours are under the legal week; unknown without a hint."""
    hours = data.hints.horas_semanales
    if hours is None:
        return Jornada("desconocida")
    full = jornada_maxima(month_end(data.period))
    return Jornada("completa" if hours >= full else "parcial", hours)
