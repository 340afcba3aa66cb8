"""Shipped, published indicator values (``data/YYYY.toml``) and their history.

Each year file holds month tables (values published for one month) and rules
(values that hold over a span for a stated, cited reason). Resolution for a
month: every rule whose span contains it, in file order, then the month table.
A key nobody gives stays unknown. Files are parsed once and cached; the
resolved :class:`Indicators` are immutable, so the cache is safe to share.
"""

import functools
import hashlib
from decimal import Decimal
from importlib import resources

import msgspec

from quipu_previred.flat import from_flat
from quipu_previred.keys import KEY_SPECS
from quipu_previred.model import Indicators
from quipu_previred.periods import parse_period, shift_period

__all__ = [
    "PublishedMonth",
    "ValueRun",
    "load_published",
    "published_fingerprint",
    "published_month",
    "published_periods",
    "value_runs",
]


class _Meta(msgspec.Struct, frozen=True):
    year: int
    first: str
    last: str
    notes: list[str] = []
    compiled: str | None = None


class _Rule(msgspec.Struct, frozen=True, rename={"from_": "from"}, forbid_unknown_fields=True):
    from_: str
    until: str
    why: str
    source: str
    values: dict[str, str]
    provisional: bool = False


class PublishedMonth(msgspec.Struct, frozen=True):
    """The resolved raw values of one month, with the citation and status of each key."""

    period: str
    values: dict[str, str]
    sources: dict[str, str]
    provisional: frozenset[str]
    notes: tuple[str, ...]
    compiled: str | None = None
    """When the year file was compiled from its sources (``YYYY-MM``)."""


class ValueRun(msgspec.Struct, frozen=True):
    """A span of consecutive months (``first``..``last``) sharing one value of a key."""

    first: str
    last: str
    value: Decimal


class _Year(msgspec.Struct, frozen=True):
    meta: _Meta
    month_sources: dict[str, str]
    rules: list[_Rule]
    months: dict[str, dict[str, str]]
    month_provisional: dict[str, list[str]]


def _check_key(key: str, where: str) -> None:
    if key not in KEY_SPECS:
        raise RuntimeError(f"shipped Previred data: unknown key {key!r} in {where}")


@functools.cache
def _year(year: int) -> _Year | None:
    resource = resources.files("quipu_previred") / "data" / f"{year}.toml"
    if not resource.is_file():
        return None
    raw = msgspec.toml.decode(resource.read_bytes())
    meta = msgspec.convert(raw.pop("meta"), _Meta)
    month_sources = msgspec.convert(raw.pop("month_sources", {}), dict[str, str])
    rules = msgspec.convert(raw.pop("rule", []), list[_Rule])
    months: dict[str, dict[str, str]] = {}
    month_provisional: dict[str, list[str]] = {}
    for period, table in raw.items():
        parse_period(period)
        if not meta.first <= period <= meta.last:
            raise RuntimeError(f"shipped Previred data: {period} outside {meta.first}..{meta.last}")
        month_provisional[period] = msgspec.convert(table.pop("provisional", []), list[str])
        months[period] = msgspec.convert(table, dict[str, str])
        for key in months[period]:
            _check_key(key, period)
            if key not in month_sources:
                raise RuntimeError(f"shipped Previred data: {key} in {period} has no source")
    for rule in rules:
        for key in rule.values:
            _check_key(key, f"rule {rule.from_}..{rule.until}")
    return _Year(meta, month_sources, rules, months, month_provisional)


@functools.cache
def published_fingerprint() -> str:
    """Return a short digest of every shipped data file.

    It changes whenever a new release changes a shipped value, so caches keyed
    with it never serve values from an older data file.
    """
    folder = resources.files("quipu_previred") / "data"
    digest = hashlib.blake2b(digest_size=8)
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(".toml"):
            digest.update(item.name.encode())
            digest.update(item.read_bytes())
    return digest.hexdigest()


def published_periods() -> list[str]:
    """Return every period the shipped data covers, oldest first."""
    years = sorted(
        int(item.name.removesuffix(".toml"))
        for item in (resources.files("quipu_previred") / "data").iterdir()
        if item.name.endswith(".toml")
    )
    periods: list[str] = []
    for year in years:
        data = _year(year)
        if data is None:  # pragma: no cover - listed files exist
            continue
        period = data.meta.first
        while period <= data.meta.last:
            periods.append(period)
            period = shift_period(period, 1)
    return periods


@functools.cache
def published_month(period: str) -> PublishedMonth | None:
    """Return the raw resolved values of ``period``, or ``None`` outside the shipped data.

    Raises :class:`~quipu_previred.periods.PeriodError` for a malformed period.
    """
    year, _ = parse_period(period)
    data = _year(year)
    if data is None or not data.meta.first <= period <= data.meta.last:
        return None
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    provisional: set[str] = set()
    for rule in data.rules:
        if rule.from_ <= period <= rule.until:
            for key, value in rule.values.items():
                values[key] = value
                sources[key] = rule.source
                provisional.discard(key)
                if rule.provisional:
                    provisional.add(key)
    for key, value in data.months.get(period, {}).items():
        values[key] = value
        sources[key] = data.month_sources[key]
        provisional.discard(key)
    provisional.update(data.month_provisional.get(period, []))
    previous = published_month(shift_period(period, -1))
    if previous is not None and "uf" in previous.values:
        # The previous month-end UF is stored too (the reference's §4.3 shows
        # Previred using it for the IPS tope); it is the previous table's value.
        values["uf_mes_anterior"] = previous.values["uf"]
        sources["uf_mes_anterior"] = previous.sources["uf"]
        if "uf" in previous.provisional:
            provisional.add("uf_mes_anterior")
    return PublishedMonth(
        period,
        values,
        sources,
        frozenset(provisional),
        tuple(data.meta.notes),
        data.meta.compiled,
    )


@functools.cache
def load_published(period: str) -> Indicators | None:
    """Return the shipped :class:`Indicators` of ``period`` (``YYYY-MM``), or ``None``.

    ``None`` means the period lies outside the shipped data. A covered month
    may still be partial: unknown values are ``None`` fields.
    """
    month = published_month(period)
    if month is None:
        return None
    return from_flat(month.values, period=period, origin="published", provisional=month.provisional)


def value_runs(key: str, first: str, last: str) -> list[ValueRun]:
    """Return the runs of equal published values of flat ``key`` from ``first`` to ``last``.

    Months without the key (or outside the data) break runs and are skipped.
    Used to explain stale values: "tope 87,8 UF de 2025; desde febrero 2026 90,0 UF".
    """
    runs: list[ValueRun] = []
    period = first
    open_run = False
    while period <= last:
        month = published_month(period)
        raw = month.values.get(key) if month is not None else None
        if raw is None:
            open_run = False
        else:
            value = Decimal(raw)
            if open_run and runs[-1].value == value:
                runs[-1] = ValueRun(runs[-1].first, period, value)
            else:
                runs.append(ValueRun(period, period, value))
                open_run = True
        period = shift_period(period, 1)
    return runs
