"""Impuesto Único de Segunda Categoría: the monthly table in UTM (LIR art. 43 N°1).

The table is law, expressed in UTM, so it is code here while the UTM is data
(the month's value from Previred). Verified in domain-chile.md §3.10: the
Previred July-2025 peso table equals these rows x UTM 68,923 to the cent, and
the formula is continuous at every limit (at 30 UTM both sides give 0.66 UTM).
"""

from decimal import Decimal
from typing import Final

import msgspec

from quipu_payroll.money import peso

__all__ = ["BRACKETS", "Bracket", "TaxResult", "impuesto_unico"]

_D = Decimal


class Bracket(msgspec.Struct, frozen=True):
    """Up to ``hasta_utm`` (inclusive; ``None`` = no limit): tax = base x factor - rebaja x UTM."""

    tramo: int
    hasta_utm: Decimal | None
    factor: Decimal
    rebaja_utm: Decimal


BRACKETS: Final = (
    Bracket(1, _D("13.5"), _D(0), _D(0)),
    Bracket(2, _D(30), _D("0.04"), _D("0.54")),
    Bracket(3, _D(50), _D("0.08"), _D("1.74")),
    Bracket(4, _D(70), _D("0.135"), _D("4.49")),
    Bracket(5, _D(90), _D("0.23"), _D("11.14")),
    Bracket(6, _D(120), _D("0.304"), _D("17.80")),
    Bracket(7, _D(310), _D("0.35"), _D("23.32")),
    Bracket(8, None, _D("0.40"), _D("38.82")),
)


class TaxResult(msgspec.Struct, frozen=True):
    """The bracket applied and the tax in whole pesos."""

    tramo: int
    factor: Decimal
    rebaja: Decimal
    impuesto: int


def impuesto_unico(base: int, utm: Decimal) -> TaxResult:
    """Return the monthly IUSC of ``base`` pesos with the month's ``utm``.

    ``round_half_up(base x factor - rebaja_utm x UTM)``, never negative
    (domain-chile.md §3.1 item 6; example A: 1,143,443 -> 8,335 with UTM 69,265).
    """
    bracket = BRACKETS[-1]
    for candidate in BRACKETS:
        if candidate.hasta_utm is None or base <= candidate.hasta_utm * utm:
            bracket = candidate
            break
    rebaja = bracket.rebaja_utm * utm
    amount = peso(base * bracket.factor - rebaja)
    return TaxResult(bracket.tramo, bracket.factor, rebaja, max(amount, 0))
