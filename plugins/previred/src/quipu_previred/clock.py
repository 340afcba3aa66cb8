"""Today's date in Chile, and the current remuneration month.

Which month is "current" decides the cache TTL (short for the current month, long for
closed ones) and how far ahead a Previred fetch is attempted. Chile's time zone is used
when the system has it, else UTC (a few hours off at a month boundary at most).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Final

from quipu_previred.periods import format_period

__all__ = ["CHILE_TZ", "current_period", "today_chile"]

CHILE_TZ: Final = "America/Santiago"


@functools.cache
def _zone() -> dt.tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(CHILE_TZ)
    except Exception:  # no tz database on this system (slim images without tzdata)
        return dt.UTC


def today_chile() -> dt.date:
    """Today's date in Chile."""
    return dt.datetime.now(_zone()).date()


def current_period() -> str:
    """The current remuneration month, ``YYYY-MM``, in Chile."""
    today = today_chile()
    return format_period(today.year, today.month)
