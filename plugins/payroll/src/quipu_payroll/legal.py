"""Statutory constants of the Chilean payslip that are law, not monthly data.

Monthly values (UF, UTM, IMM, topes, commissions) come from
:mod:`quipu_previred`; what stays here changes only by statute.
"""

import datetime as dt
from decimal import Decimal
from typing import Final

__all__ = [
    "GRATIFICACION_PCT",
    "GRATIFICACION_TOPE_IMM_ANUAL",
    "TASA_AFP_OBLIGATORIA",
    "jornada_maxima",
]

#: Mandatory pension contribution, DL 3.500 art. 17 (domain-chile.md §3.2).
TASA_AFP_OBLIGATORIA: Final = Decimal(10)

#: Código del Trabajo art. 50: 25 % of the year's remuneraciones, capped at
#: 4.75 IMM a year; paid monthly as min(25 % x month, round(4.75 x IMM / 12))
#: (domain-chile.md §3.8).
GRATIFICACION_PCT: Final = Decimal(25)
GRATIFICACION_TOPE_IMM_ANUAL: Final = Decimal("4.75")

# Ley 21.561 lowers the maximum ordinary week: 45 h, 44 h from 2024-04-26,
# 42 h from 2026-04-26, 40 h from 2028-04-26 (domain-chile.md §3.7 [S]). The
# part-time minimum wage is the IMM in proportion to that week.
_JORNADA: Final = (
    (dt.date(2028, 4, 26), Decimal(40)),
    (dt.date(2026, 4, 26), Decimal(42)),
    (dt.date(2024, 4, 26), Decimal(44)),
)
_JORNADA_ANTES: Final = Decimal(45)


def jornada_maxima(day: dt.date) -> Decimal:
    """Return the maximum ordinary weekly hours in force on ``day``."""
    for since, hours in _JORNADA:
        if day >= since:
            return hours
    return _JORNADA_ANTES
