"""Indicator values a slip imposes over the period's published ones."""

import msgspec
from quipu_previred.indicators import AfpRate, Indicators, afp_key

from quipu_payroll.legal import TASA_AFP_OBLIGATORIA
from quipu_payroll.schemas import StructuredSlip

__all__ = ["effective_indicators"]


def effective_indicators(slip: StructuredSlip, ind: Indicators) -> Indicators:
    """Return ``ind`` with the slip's ``indicadores`` overrides applied."""
    over = slip.indicadores
    if over is None:
        return ind
    changes: dict[str, object] = {}
    for source, target in (
        ("uf", "uf"),
        ("utm", "utm"),
        ("imm", "sueldo_minimo"),
        ("tope_afp_uf", "afp_tope_uf"),
        ("tope_afc_uf", "afc_tope_uf"),
        ("sis_pct", "sis_pct"),
    ):
        value = getattr(over, source)
        if value is not None:
            changes[target] = value
    # One tope covers AFP and salud (domain-chile.md §3.1 item 3) unless told apart.
    salud_tope = over.tope_salud_uf if over.tope_salud_uf is not None else over.tope_afp_uf
    if salud_tope is not None:
        changes["salud_tope_uf"] = salud_tope
    overridden = set(changes)
    if over.afp_tasas:
        rates = {rate.nombre: rate for rate in ind.afp}
        for name, worker_rate in over.afp_tasas.items():
            key = afp_key(name)
            if key is not None:
                rates[key] = AfpRate(key, worker_rate - TASA_AFP_OBLIGATORIA)
                overridden.add(f"afp_{key}_comision_pct")
        changes["afp"] = tuple(rates.values())
    if not changes:
        return ind
    changes["provisional"] = tuple(k for k in ind.provisional if k not in overridden)
    changes["origin"] = "slip"
    return msgspec.structs.replace(ind, **changes)
