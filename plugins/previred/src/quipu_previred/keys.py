"""The flat indicator keys: names, units and meaning (one source of truth).

The original service answered ``GET /api/payroll/indicators/{period}`` with a
flat ``{key: number}`` dict and Odoo's cron reads some of those keys by name
(original-ai-service.md §5.3, §7.5). This table fixes every key we emit, feeds
the LLM tool schema in :mod:`quipu_previred.extract` and is mirrored in the
plugin README.
"""

from typing import Final, Literal

import msgspec

from quipu_previred.model import AFP_LABELS, AFP_NAMES

__all__ = [
    "AFP_FONDOS",
    "ERP_KEYS",
    "KEY_SPECS",
    "SCALAR_KEYS",
    "KeySpec",
    "Unit",
]

Unit = Literal["CLP", "UF", "%"]


class KeySpec(msgspec.Struct, frozen=True):
    """Unit and Spanish description of one flat key."""

    unit: Unit
    description: str


#: Keys that map one-to-one onto an :class:`~quipu_previred.model.Indicators` field.
SCALAR_KEYS: Final[dict[str, KeySpec]] = {
    "uf": KeySpec("CLP", "Valor UF del último día del mes"),
    "uf_mes_anterior": KeySpec("CLP", "Valor UF del último día del mes anterior"),
    "utm": KeySpec("CLP", "UTM del mes"),
    "uta": KeySpec("CLP", "UTA (Previred: UTM del mes × 12)"),
    "sueldo_minimo": KeySpec("CLP", "Ingreso mínimo mensual, trabajadores de 18 a 65 años"),
    "sueldo_minimo_menores_mayores": KeySpec(
        "CLP", "Ingreso mínimo, menores de 18 y mayores de 65 años"
    ),
    "sueldo_minimo_no_remuneracional": KeySpec(
        "CLP", "Ingreso mínimo para fines no remuneracionales"
    ),
    "afp_tope_uf": KeySpec("UF", "Tope imponible AFP (y accidentes del trabajo)"),
    "salud_tope_uf": KeySpec("UF", "Tope imponible salud (el mismo que AFP)"),
    "afc_tope_uf": KeySpec("UF", "Tope imponible seguro de cesantía"),
    "ips_tope_uf": KeySpec("UF", "Tope imponible IPS (ex INP)"),
    "apv_tope_mensual_uf": KeySpec("UF", "Tope mensual APV régimen B (rebaja tributaria)"),
    "apv_tope_anual_uf": KeySpec("UF", "Tope anual APV régimen B"),
    "deposito_convenido_tope_anual_uf": KeySpec("UF", "Tope anual depósito convenido"),
    "sis_pct": KeySpec("%", "Seguro de invalidez y sobrevivencia (SIS), cargo empleador"),
    "afc_trabajador_indefinido": KeySpec("%", "Seguro de cesantía, trabajador, plazo indefinido"),
    "afc_empleador_indefinido": KeySpec("%", "Seguro de cesantía, empleador, plazo indefinido"),
    "afc_trabajador_plazo_fijo": KeySpec(
        "%", "Seguro de cesantía, trabajador, plazo fijo u obra/faena"
    ),
    "afc_empleador_plazo_fijo": KeySpec(
        "%", "Seguro de cesantía, empleador, plazo fijo u obra/faena"
    ),
    "afc_empleador_11_anios": KeySpec(
        "%", "Seguro de cesantía, empleador, indefinido con 11 o más años (trabajador 0 %)"
    ),
    "fonasa_pct": KeySpec("%", "Cotización legal de salud (7 %)"),
    "aporte_empleador_pct": KeySpec("%", "Cotización empleador Ley 21.735, total"),
    "aporte_empleador_cci_pct": KeySpec(
        "%", "Ley 21.735: parte a la cuenta de capitalización individual"
    ),
    "aporte_empleador_ssp_pct": KeySpec("%", "Ley 21.735: parte al Seguro Social Previsional"),
}

#: Fund letters the original API repeated each AFP rate for (one rate for all funds).
AFP_FONDOS: Final = ("a", "b", "c", "d", "e")


def _derived_specs() -> dict[str, KeySpec]:
    specs: dict[str, KeySpec] = {
        "exvida_pct": KeySpec(
            "%", "Alias de sis_pct: Odoo guarda esta clave en su campo sis_pct (§7.5)"
        ),
        "aporteafpe_pct": KeySpec(
            "%", "Alias de aporte_empleador_pct (nombre del servicio original)"
        ),
    }
    for name in AFP_NAMES:
        label = AFP_LABELS[name]
        specs[f"afp_{name}_comision_pct"] = KeySpec("%", f"Comisión AFP {label}")
        specs[f"afp_{name}_pct"] = KeySpec(
            "%", f"Tasa trabajador dependiente AFP {label} (10 % + comisión)"
        )
        for fondo in AFP_FONDOS:
            specs[f"afp_{name}_fondo_{fondo}"] = KeySpec(
                "%", f"Igual a afp_{name}_pct (forma por fondo del servicio original)"
            )
    for tramo, letter in enumerate("ABCD", start=1):
        specs[f"asig_fam_tramo_{tramo}"] = KeySpec(
            "CLP", f"Asignación familiar tramo {letter}, por carga"
        )
        if tramo < 4:
            specs[f"asig_fam_tramo_{tramo}_hasta"] = KeySpec(
                "CLP", f"Ingreso mensual máximo del tramo {letter}"
            )
    return specs


#: Every key :func:`~quipu_previred.flat.to_flat` may emit and :func:`from_flat` accepts.
KEY_SPECS: Final[dict[str, KeySpec]] = {**SCALAR_KEYS, **_derived_specs()}

#: Keys Odoo's Previred cron reads (original-ai-service.md §7.5) plus the ones the brief requires.
ERP_KEYS: Final = (
    "uf",
    "utm",
    "uta",
    "sueldo_minimo",
    "afp_tope_uf",
    "salud_tope_uf",
    "afc_tope_uf",
    "apv_tope_mensual_uf",
    "apv_tope_anual_uf",
    "asig_fam_tramo_1",
    "asig_fam_tramo_2",
    "asig_fam_tramo_3",
    "asig_fam_tramo_4",
    "exvida_pct",
    "sis_pct",
    "afc_trabajador_indefinido",
    "afc_empleador_indefinido",
    "afc_trabajador_plazo_fijo",
    "afc_empleador_plazo_fijo",
    "fonasa_pct",
    *(f"afp_{name}_pct" for name in AFP_NAMES),
)
