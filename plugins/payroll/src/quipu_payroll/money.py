"""Exact peso arithmetic and Spanish (Chilean) number formatting for messages.

Every contribution and the tax are whole pesos rounded half-up per line, as
Previred declares them (domain-chile.md §3.1 item 9). Python's ``round()``
rounds half to even and must never be used for pesos.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

__all__ = ["HUNDRED", "fmt_clp", "fmt_num", "fmt_pct", "pct", "peso"]

HUNDRED: Final = Decimal(100)
_ONE: Final = Decimal(1)


def peso(value: Decimal) -> int:
    """Round to whole pesos, half-up (``98657.5 -> 98658``)."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def pct(base: int | Decimal, rate_pct: Decimal) -> int:
    """Return ``round_half_up(base x rate_pct / 100)``."""
    return peso(Decimal(base) * rate_pct / HUNDRED)


def fmt_num(value: Decimal | int, decimals: int | None = None) -> str:
    """Format with ``.`` thousands and ``,`` decimals: ``39841.72 -> "39.841,72"``."""
    number = Decimal(value)
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    # Keep the exponent as written: a tope of Decimal("90.0") shows as "90,0".
    text = format(number, "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{frac}" if frac else f"{sign}{groups}"


def fmt_clp(value: int | Decimal) -> str:
    """Format pesos: ``3585755 -> "$3.585.755"``."""
    return "$" + fmt_num(Decimal(value).quantize(_ONE, rounding=ROUND_HALF_UP))


def fmt_pct(value: Decimal) -> str:
    """Format a percent: ``Decimal("11.44") -> "11,44 %"``."""
    return f"{fmt_num(value)} %"
