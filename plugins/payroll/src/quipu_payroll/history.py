"""Earlier published values, used to recognise a slip computed with stale data.

A wrong amount that is reproduced exactly by last year's tope, last month's
UTM or a commission an AFP no longer charges is explained far better by
naming that value than by "expected X, got Y".
"""

import functools
from decimal import Decimal

from quipu_previred.indicators import ValueRun, period_label, shift_period, value_runs

__all__ = ["earlier_runs", "run_label", "since_label"]

_LOOKBACK_MONTHS = 24


@functools.cache
def earlier_runs(key: str, period: str, current: Decimal | None) -> tuple[ValueRun, ...]:
    """Return runs of ``key`` in the 24 months before ``period`` whose value differs
    from ``current``, most recent first (one run per distinct value)."""
    runs = value_runs(key, shift_period(period, -_LOOKBACK_MONTHS), shift_period(period, -1))
    seen: set[Decimal] = set() if current is None else {current}
    result: list[ValueRun] = []
    for run in reversed(runs):
        if run.value not in seen:
            seen.add(run.value)
            result.append(run)
    return tuple(result)


def run_label(run: ValueRun) -> str:
    """``"2025"`` for a whole calendar year, else ``"enero 2026"`` or a month range."""
    if run.first.endswith("-01") and run.last.endswith("-12") and run.first[:4] == run.last[:4]:
        return run.first[:4]
    if run.first == run.last:
        return period_label(run.first)
    return f"{period_label(run.first)} a {period_label(run.last)}"


def since_label(key: str, period: str, current: Decimal) -> str:
    """Return the month since which ``current`` applies, e.g. ``"febrero 2026"``.

    Falls back to the period itself when the value is not the published one
    (an override) or the run starts outside the shipped data.
    """
    runs = value_runs(key, shift_period(period, -_LOOKBACK_MONTHS), period)
    if runs and runs[-1].last == period and runs[-1].value == current:
        return period_label(runs[-1].first)
    return period_label(period)
