"""The computed breakdown of a slip (msgspec-encodable, whole pesos)."""

from decimal import Decimal

import msgspec

__all__ = ["Breakdown", "EmployerCosts"]


class EmployerCosts(msgspec.Struct, frozen=True):
    """Employer contributions (not on the worker's líquido); ``None`` when unknown."""

    sis: int | None = None
    afc: int | None = None
    aporte_cci: int | None = None
    aporte_ssp: int | None = None
    aporte_total: int | None = None


class Breakdown(msgspec.Struct, frozen=True, kw_only=True):
    """Every computed amount of one slip (whole pesos) and the values used."""

    periodo: str
    uf: Decimal | None
    utm: Decimal | None
    imm: Decimal | None
    sueldo_base: int
    gratificacion: int
    gratificacion_tope: int | None
    gratificacion_legal: int | None
    otros_imponibles: int
    imponible: int
    no_imponibles: int
    asignacion_familiar: int | None
    asignacion_familiar_tramo: int | None
    cargas_familiares: int | None
    total_haberes: int | None
    tope_afp: int | None
    tope_salud: int | None
    tope_afc: int | None
    base_afp: int | None
    base_salud: int | None
    base_afc: int | None
    afp_tasa: Decimal | None
    afp: int | None
    salud_legal: int | None
    salud_plan: int | None
    salud: int | None
    afc_tasa: Decimal | None
    afc: int | None
    apv_rebaja: int | None
    base_tributable: int | None
    impuesto_tramo: int | None
    impuesto: int | None
    descuentos_legales: int | None
    otros_descuentos: int
    total_descuentos: int | None
    liquido: int | None
    minimo_legal: int | None
    empleador: EmployerCosts
    faltantes: tuple[str, ...] = ()
    supuestos: tuple[str, ...] = ()
    provisionales: tuple[str, ...] = ()
