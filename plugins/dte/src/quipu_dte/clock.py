"""The validation date: "today" where the company is (America/Santiago by default).

One function, looked up at call time, so tests and replays can pin the date with
``monkeypatch.setattr(quipu_dte.clock, "today_in", ...)``.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["today_in"]


def today_in(zone: ZoneInfo) -> date:
    """Today's date in ``zone``."""
    return datetime.now(zone).date()
