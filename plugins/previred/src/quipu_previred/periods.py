"""Remuneration periods (``YYYY-MM``): parsing, arithmetic and Spanish labels.

Every published indicator belongs to one remuneration month. The text form is
the one the original API and Odoo use (``/api/payroll/indicators/2025-07``).
"""

import calendar
import datetime as dt
import re
from typing import Final

__all__ = [
    "MESES",
    "PERIOD_PATTERN",
    "PeriodError",
    "format_period",
    "month_end",
    "parse_period",
    "period_label",
    "shift_period",
]

_PERIOD_RE: Final = re.compile(r"(\d{4})-(\d{2})", re.ASCII)

# The AFP system dates from 1981 and Previred from 2000: a year outside these
# bounds is a typo. They only reject garbage, never a real remuneration month.
_MIN_YEAR: Final = 1990
_MAX_YEAR: Final = 2100

MESES: Final = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


class PeriodError(ValueError):
    """A period that is not a real ``YYYY-MM`` month (``2025-13``, ``abc``, ``2025-7``)."""


#: What :func:`parse_period` accepts, as one regular expression (for the OpenAPI schema).
PERIOD_PATTERN: Final = r"^(199[0-9]|20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"


def parse_period(text: object) -> tuple[int, int]:
    """Return ``(year, month)`` for a ``YYYY-MM`` string, or raise :class:`PeriodError`.

    The format is strict (two-digit month, no day, no surrounding spaces) so that
    one month has exactly one spelling, which matters for cache keys.
    """
    if not isinstance(text, str):
        raise PeriodError(f"Período inválido: {text!r}. Esperado: texto YYYY-MM")
    match = _PERIOD_RE.fullmatch(text)
    if match is None:
        raise PeriodError(f"Formato de período inválido: {text!r}. Esperado: YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise PeriodError(f"Mes inválido en el período {text!r}: {month:02d} (debe ser 01-12)")
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise PeriodError(f"Año fuera de rango en el período {text!r} ({_MIN_YEAR}-{_MAX_YEAR})")
    return year, month


def format_period(year: int, month: int) -> str:
    """Return the canonical ``YYYY-MM`` text of a month."""
    return f"{year:04d}-{month:02d}"


def shift_period(period: str, months: int) -> str:
    """Return the period ``months`` months after ``period`` (negative goes back)."""
    year, month = parse_period(period)
    index = year * 12 + (month - 1) + months
    return format_period(index // 12, index % 12 + 1)


def month_end(period: str) -> dt.date:
    """Return the last calendar day of the period (the day whose UF sets the topes)."""
    year, month = parse_period(period)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_label(period: str) -> str:
    """Return a Spanish label such as ``"febrero 2026"`` for messages."""
    year, month = parse_period(period)
    return f"{MESES[month - 1]} {year}"
