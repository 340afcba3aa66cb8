"""The exact payslip computation (domain-chile.md §3.1-§3.12).

:func:`compute` derives every legal amount of a slip from its earnings and
the period's indicators, in Decimal with half-up rounding per line. When an
indicator is unknown the amounts that need it are ``None`` and the key is
listed in ``faltantes``; where the slip declares that amount, the declared
value stands in for later steps (listed in ``supuestos``) so that one missing
value does not hide every other check. ``check`` (in
:mod:`quipu_payroll.checker`, also exported by the package root) compares a
slip with this breakdown.
"""

from decimal import Decimal

from quipu_previred.indicators import Indicators, afp_key, month_end

from quipu_payroll.breakdown import Breakdown, EmployerCosts
from quipu_payroll.legal import (
    GRATIFICACION_PCT,
    GRATIFICACION_TOPE_IMM_ANUAL,
    TASA_AFP_OBLIGATORIA,
    jornada_maxima,
)
from quipu_payroll.money import pct, peso
from quipu_payroll.overrides import effective_indicators
from quipu_payroll.schemas import StructuredSlip
from quipu_payroll.tax import impuesto_unico

# Breakdown and effective_indicators live in their own modules; exported here too
# because they are the two halves of what compute() needs and returns.
__all__ = ["Breakdown", "EmployerCosts", "compute", "effective_indicators"]

_ZERO = Decimal(0)


class _Values:
    """Reads indicator values, remembering which were missing and which were used."""

    def __init__(self, ind: Indicators) -> None:
        self.ind = ind
        self.missing: list[str] = []
        self.used: set[str] = set()

    def get(self, key: str) -> Decimal | None:
        value: Decimal | None = getattr(self.ind, key)
        self._note(key, value)
        return value

    def commission(self, name: str) -> Decimal | None:
        key = afp_key(name)
        value = self.ind.commission(name) if key else None
        self._note(f"afp_{key or name}_comision_pct", value)
        return value

    def note_missing(self, key: str) -> None:
        if key not in self.missing:
            self.missing.append(key)

    def _note(self, key: str, value: object) -> None:
        if value is None:
            self.note_missing(key)
        else:
            self.used.add(key)

    def tope(self, key: str, imponible: int) -> tuple[int | None, int | None]:
        """Return (tope in pesos, capped base); the tope uses the month-end UF."""
        uf, tope_uf = self.get("uf"), self.get(key)
        if uf is None or tope_uf is None:
            return None, None
        tope = peso(tope_uf * uf)
        return tope, min(imponible, tope)


def _minimo(slip: StructuredSlip, values: _Values) -> tuple[Decimal | None, int | None]:
    key = "sueldo_minimo_menores_mayores" if slip.imm_reducido else "sueldo_minimo"
    imm = values.get(key)
    if imm is None:
        return None, None
    amount = imm * min(slip.dias_trabajados, 30) / 30
    horas = slip.jornada.horas_semanales
    if slip.jornada.tipo == "parcial" and horas is not None:
        amount = amount * horas / jornada_maxima(month_end(slip.periodo))
    return imm, peso(amount)


def _gratificacion(slip: StructuredSlip, values: _Values) -> tuple[int | None, int | None]:
    if slip.haberes.regimen_gratificacion != "art50_mensual":
        return None, None
    imm = values.get("sueldo_minimo")
    if imm is None:
        return None, None
    tope = peso(GRATIFICACION_TOPE_IMM_ANUAL * imm / 12)
    base = slip.haberes.sueldo_base + slip.haberes.otros_imponibles
    return tope, min(pct(base, GRATIFICACION_PCT), tope)


def _asignacion(
    slip: StructuredSlip, values: _Values, imponible: int
) -> tuple[int | None, int | None, int | None]:
    """Return (amount, tramo, cargas); amount ``None`` when it cannot be determined."""
    h = slip.haberes
    declared = peso(h.asignacion_familiar) if h.asignacion_familiar is not None else None
    if not declared and not h.cargas_familiares:
        return 0, None, h.cargas_familiares  # nothing paid, nobody to pay for
    tramos = sorted(values.ind.asig_fam, key=lambda t: t.tramo)
    if len(tramos) != 4 or any(t.hasta is None for t in tramos[:3]):
        values.note_missing("asig_fam")
        return None, None, h.cargas_familiares
    values.used.update(k for k in values.ind.provisional if k.startswith("asig_fam_"))
    income = h.ingreso_promedio_semestre if h.ingreso_promedio_semestre is not None else imponible
    tramo = next(t for t in tramos if t.hasta is None or income <= t.hasta)
    monto = peso(tramo.monto)
    cargas = h.cargas_familiares
    if cargas is None:
        if monto == 0:
            return 0, tramo.tramo, None
        if declared is None or declared % monto:
            return None, tramo.tramo, None
        cargas = declared // monto
    return monto * cargas, tramo.tramo, cargas


def compute(slip: StructuredSlip, ind: Indicators) -> Breakdown:
    """Compute the legal breakdown of ``slip`` with ``ind`` (overrides applied)."""
    ind = effective_indicators(slip, ind)
    values = _Values(ind)
    h, d = slip.haberes, slip.descuentos
    supuestos: list[str] = []

    def declared_or_none(amount: int | None, path: str, value: Decimal | None) -> int | None:
        if amount is not None or value is None:
            return amount
        supuestos.append(path)
        return peso(value)

    sueldo, grat, otros = peso(h.sueldo_base), peso(h.gratificacion), peso(h.otros_imponibles)
    imponible = sueldo + grat + otros
    imm, minimo = _minimo(slip, values)
    grat_tope, grat_legal = _gratificacion(slip, values)
    asig, asig_tramo, cargas = _asignacion(slip, values, imponible)
    asig_eff = declared_or_none(asig, "haberes.asignacion_familiar", h.asignacion_familiar)

    tope_afp, base_afp = values.tope("afp_tope_uf", imponible)
    tope_salud, base_salud = values.tope("salud_tope_uf", imponible)
    afp_rate: Decimal | None = None
    if slip.afp is not None:
        if slip.afp.tasa is None:
            if (commission := values.commission(slip.afp.nombre)) is not None:
                afp_rate = TASA_AFP_OBLIGATORIA + commission
        else:
            # The period's official rate wins over a declared one (a declared rate that
            # differs is a finding, PAY_AFP_RATE_MISMATCH); the declared rate only stands
            # in when the AFP or its commission for the month is unknown.
            official = _official_afp_rate(ind, slip.afp.nombre)
            if official is not None:
                values.used.add(f"afp_{afp_key(slip.afp.nombre)}_comision_pct")
            afp_rate = official if official is not None else slip.afp.tasa
    afp = pct(base_afp, afp_rate) if base_afp is not None and afp_rate is not None else None
    afp_eff = declared_or_none(afp, "descuentos.afp", d.afp)

    fonasa = values.get("fonasa_pct")
    salud_legal = pct(base_salud, fonasa) if base_salud is not None and fonasa else None
    plan: int | None = None
    if slip.salud.tipo == "isapre":
        if slip.salud.plan_pesos is not None:
            plan = peso(slip.salud.plan_pesos)
        elif slip.salud.plan_uf is not None and (uf := values.get("uf")) is not None:
            plan = peso(slip.salud.plan_uf * uf)
        salud = max(salud_legal, plan) if salud_legal is not None and plan is not None else None
    else:
        salud = salud_legal
    salud_eff = declared_or_none(salud, "descuentos.salud", d.salud)

    afc_rate, tope_afc, base_afc, afc = _afc(slip, values, imponible)
    afc_eff = declared_or_none(afc, "descuentos.afc", d.afc)

    apv_rebaja: int | None = 0
    if d.apv:
        apv_tope = values.get("apv_tope_mensual_uf")
        uf = values.get("uf")
        apv_rebaja = min(peso(d.apv), peso(apv_tope * uf)) if apv_tope and uf else None

    base_trib: int | None = None
    tax = None
    utm = values.get("utm")
    if (
        afp_eff is not None
        and salud_eff is not None
        and afc_eff is not None
        and apv_rebaja is not None
    ):
        # Only the legal 7 % of health (on the capped base) lowers the tax base;
        # without it an Isapre plan cannot be split, a Fonasa amount is the 7 %.
        deductible: int | None = salud_eff
        if salud_legal is not None:
            deductible = min(salud_eff, salud_legal)
        elif slip.salud.tipo == "isapre":
            deductible = None
        if deductible is not None:
            base_trib = max(imponible - afp_eff - deductible - afc_eff - apv_rebaja, 0)
        if base_trib is not None and utm is not None:
            tax = impuesto_unico(base_trib, utm)
    impuesto = tax.impuesto if tax is not None else None
    impuesto_eff = declared_or_none(impuesto, "descuentos.impuesto", d.impuesto)

    otros_desc = peso(d.apv) + peso(d.otros)
    legales = _sum(afp_eff, salud_eff, afc_eff, impuesto_eff)
    total_desc = legales + otros_desc if legales is not None else None
    haberes = imponible + peso(h.no_imponibles) + asig_eff if asig_eff is not None else None
    liquido = haberes - total_desc if haberes is not None and total_desc is not None else None

    return Breakdown(
        periodo=slip.periodo,
        uf=ind.uf,
        utm=utm,
        imm=imm,
        sueldo_base=sueldo,
        gratificacion=grat,
        gratificacion_tope=grat_tope,
        gratificacion_legal=grat_legal,
        otros_imponibles=otros,
        imponible=imponible,
        no_imponibles=peso(h.no_imponibles),
        asignacion_familiar=asig,
        asignacion_familiar_tramo=asig_tramo,
        cargas_familiares=cargas,
        total_haberes=haberes,
        tope_afp=tope_afp,
        tope_salud=tope_salud,
        tope_afc=tope_afc,
        base_afp=base_afp,
        base_salud=base_salud,
        base_afc=base_afc,
        afp_tasa=afp_rate,
        afp=afp,
        salud_legal=salud_legal,
        salud_plan=plan,
        salud=salud,
        afc_tasa=afc_rate,
        afc=afc,
        apv_rebaja=apv_rebaja,
        base_tributable=base_trib,
        impuesto_tramo=tax.tramo if tax is not None else None,
        impuesto=impuesto,
        descuentos_legales=legales,
        otros_descuentos=otros_desc,
        total_descuentos=total_desc,
        liquido=liquido,
        minimo_legal=minimo,
        empleador=_employer(slip, ind, base_afp, base_afc),
        faltantes=tuple(values.missing),
        supuestos=tuple(supuestos),
        provisionales=tuple(sorted(values.used & set(ind.provisional))),
    )


def _official_afp_rate(ind: Indicators, name: str) -> Decimal | None:
    """10 % + the AFP's commission in ``ind`` (published or imposed), if both are known."""
    if afp_key(name) is None:
        return None
    commission = ind.commission(name)
    return TASA_AFP_OBLIGATORIA + commission if commission is not None else None


def _sum(*amounts: int | None) -> int | None:
    total = 0
    for amount in amounts:
        if amount is None:
            return None
        total += amount
    return total


def _afc(
    slip: StructuredSlip, values: _Values, imponible: int
) -> tuple[Decimal | None, int | None, int | None, int | None]:
    """Return (worker rate, tope, base, worker amount) of the seguro de cesantía."""
    if slip.contrato == "indefinido" and slip.indefinido_11_anios:
        rate: Decimal | None = _ZERO  # Ley 19.728: no worker share after 11 years
    elif slip.contrato == "indefinido":
        rate = values.get("afc_trabajador_indefinido")
    else:
        rate = values.get("afc_trabajador_plazo_fijo")
    if rate == 0:
        # A zero rate needs no base: the amount is 0 whatever the tope.
        uf, tope_uf = values.ind.uf, values.ind.afc_tope_uf
        tope = peso(tope_uf * uf) if uf is not None and tope_uf is not None else None
        return rate, tope, min(imponible, tope) if tope is not None else None, 0
    tope, base = values.tope("afc_tope_uf", imponible)
    amount = pct(base, rate) if base is not None and rate is not None else None
    return rate, tope, base, amount


def _employer(
    slip: StructuredSlip, ind: Indicators, base_afp: int | None, base_afc: int | None
) -> EmployerCosts:
    """Employer costs (domain-chile.md §3.11); informational, never a finding."""
    if slip.contrato == "indefinido":
        afc_key = (
            "afc_empleador_11_anios" if slip.indefinido_11_anios else "afc_empleador_indefinido"
        )
    else:
        afc_key = "afc_empleador_plazo_fijo"
    afc_rate: Decimal | None = getattr(ind, afc_key)

    def on_afp(rate: Decimal | None) -> int | None:
        return pct(base_afp, rate) if base_afp is not None and rate is not None else None

    cci, ssp = on_afp(ind.aporte_empleador_cci_pct), on_afp(ind.aporte_empleador_ssp_pct)
    total = cci + ssp if cci is not None and ssp is not None else on_afp(ind.aporte_empleador_pct)
    return EmployerCosts(
        sis=on_afp(ind.sis_pct),
        afc=pct(base_afc, afc_rate) if base_afc is not None and afc_rate is not None else None,
        aporte_cci=cci,
        aporte_ssp=ssp,
        aporte_total=total,
    )
