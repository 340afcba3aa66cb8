"""Odoo payslip line codes -> our concepts.

Two families of Chilean Odoo payroll modules are in use. The one that calls
this service (pwills85 ``l10n_cl_hr_payroll``, original-ai-service.md §7.4)
emits ``BASIC``, ``AFP``, ``SALUD``, ``AFC``, ``IMPUESTO_UNICO``, ``NET``...
with deductions as negative amounts; the older community ``l10n_cl_hr``
(KonosCL) emits ``SUELDO``, ``PREV``, ``SECE``, ``IMPUNI``, ``HAB``, ``TDE``,
``LIQ``... with positive deductions. Deductions are read by absolute value, so
both work. The table is a default: ``[plugins.payroll] line_codes = {...}``
overrides or extends it through :func:`build_code_map`.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeGuard, get_args

__all__ = [
    "CATEGORY_FALLBACK",
    "CONCEPTS",
    "DEDUCTIONS",
    "DEFAULT_CODE_MAP",
    "Concept",
    "build_code_map",
]

Concept = Literal[
    "sueldo_base",
    "gratificacion",
    "otros_imponibles",
    "no_imponibles",
    "asignacion_familiar",
    "afp",
    "salud",
    "afc",
    "impuesto",
    "apv",
    "otros_descuentos",
    "total_imponible",
    "total_haberes",
    "total_descuentos",
    "base_tributable",
    "liquido",
    "ignorar",
]

CONCEPTS: Final[frozenset[str]] = frozenset(get_args(Concept))

#: Concepts read by absolute value (one family of modules stores them negative).
DEDUCTIONS: Final[frozenset[str]] = frozenset(
    {"afp", "salud", "afc", "impuesto", "apv", "otros_descuentos", "total_descuentos"}
)

_DEFAULTS: dict[str, Concept] = {
    # Earnings
    "BASIC": "sueldo_base",
    "SUELDO": "sueldo_base",
    "ALSB": "sueldo_base",  # ajuste ley sueldo base (tops the base up to the IMM)
    "GRAT": "gratificacion",
    "GRAT_LEGAL": "gratificacion",
    "GRATIFICACION": "gratificacion",
    "HEX": "otros_imponibles",
    "HEX50": "otros_imponibles",
    "HEXDE": "otros_imponibles",  # discounted hours: a negative imponible
    "BONO": "otros_imponibles",
    "PROD": "otros_imponibles",
    "COMI": "otros_imponibles",
    "AGUI": "otros_imponibles",
    "COL": "no_imponibles",
    "MOV": "no_imponibles",
    "VIASAN": "no_imponibles",
    "OTRONOIMP": "no_imponibles",
    "ASIGFAM": "asignacion_familiar",
    "ASIG_FAM": "asignacion_familiar",
    # Worker deductions
    "AFP": "afp",  # in KonosCL "AFP" is a worker+employer subtotal: see from_odoo
    "PREV": "afp",
    "SALUD": "salud",
    "ADISA": "salud",  # adicional Isapre, on top of the SALUD line
    "AFC": "afc",
    "SECE": "afc",
    "SEGCES": "afc",
    "IMPUESTO_UNICO": "impuesto",
    "IMPUNI": "impuesto",
    "APV": "apv",
    "ASUE": "otros_descuentos",
    "PRES": "otros_descuentos",
    "PCCAF": "otros_descuentos",
    # Subtotals we compare
    "TOTAL_IMPONIBLE": "total_imponible",
    "HABERES_IMPONIBLES": "total_imponible",
    "IMPONIBLE": "total_imponible",
    "TOTIM": "total_imponible",
    "TOTAL_HABERES": "total_haberes",
    "HAB": "total_haberes",
    "TOTAL_DESCUENTOS": "total_descuentos",
    "TDE": "total_descuentos",
    "BASE_IMPUESTO_UNICO": "base_tributable",
    "TRIBU": "base_tributable",
    "NET": "liquido",
    "LIQ": "liquido",
    # Lines that are neither the worker's earnings nor deductions
    "BASE_TRIBUTABLE": "ignorar",  # pwills85: min(imponible, tope), not the tax base
    "TOPE_IMPONIBLE_UF": "ignorar",
    "HABERES_NO_IMPONIBLES": "ignorar",
    "TOTNOI": "ignorar",
    "TODELE": "ignorar",
    "TOD": "ignorar",
    "GROSS": "ignorar",
    "SIS": "ignorar",
    "SECEEMP": "ignorar",
    "MUT": "ignorar",
    "ISL": "ignorar",
    "SECOMP": "ignorar",
    "APORTE": "ignorar",
    "HABALG": "ignorar",
    "COLMENA": "ignorar",
    "FONASA": "ignorar",  # KonosCL: the Fonasa share of SALUD, already counted
    "CAJACOMP": "ignorar",  # KonosCL: the CCAF share of SALUD, already counted
}

#: The default code table (read-only).
DEFAULT_CODE_MAP: Final[Mapping[str, Concept]] = MappingProxyType(_DEFAULTS)

#: For a code not in the table, its Odoo salary-rule category may still tell
#: what the line is (it is still reported as PAY_UNKNOWN_CODE).
CATEGORY_FALLBACK: Final[Mapping[str, Concept]] = MappingProxyType(
    {
        "IMPONIBLE": "otros_imponibles",
        "HABER_IMPONIBLE": "otros_imponibles",
        "HABERES_IMPONIBLES": "otros_imponibles",
        "ALW": "otros_imponibles",
        "NOIMPO": "no_imponibles",
        "NO_IMPONIBLE": "no_imponibles",
        "HABER_NO_IMPONIBLE": "no_imponibles",
        "ODESC": "otros_descuentos",
        "OTROS_DESCUENTOS": "otros_descuentos",
        "SUBT": "ignorar",
        "COMP": "ignorar",
        "NET": "ignorar",
        "GROSS": "ignorar",
        "BASE": "ignorar",
    }
)


def _is_concept(value: str) -> TypeGuard[Concept]:
    return value in CONCEPTS


def build_code_map(overrides: Mapping[str, str] | None = None) -> dict[str, Concept]:
    """Return the default table updated with ``overrides`` (code -> concept).

    Codes are case-insensitive. Raises ``ValueError`` naming every bad entry,
    so a wrong ``line_codes`` in platform.toml fails at start-up, not per slip.
    """
    table: dict[str, Concept] = dict(_DEFAULTS)
    bad: list[str] = []
    for code, concept in (overrides or {}).items():
        if _is_concept(concept):
            table[code.strip().upper()] = concept
        else:
            bad.append(f"{code}={concept!r}")
    if bad:
        raise ValueError(
            f"line_codes con conceptos desconocidos: {', '.join(bad)}; "
            f"válidos: {', '.join(sorted(CONCEPTS))}"
        )
    return table
