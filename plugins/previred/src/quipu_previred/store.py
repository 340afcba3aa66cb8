"""Indicator records kept in Redis: admin-loaded values and Previred fetch results.

Keys (no expiry: a month's indicators do not change once published):

- ``previred:indicators:{period}``: :class:`AdminRecord`, written by the admin ``PUT``;
- ``previred:fetched:{period}``: :class:`FetchedRecord`, written by the Previred fetch.

Both are platform-wide: indicators are the same for every company. Values are the flat
``{key: number}`` form (:func:`quipu_previred.flat.to_flat`), so reading them back goes
through the same validation as everything else. Reads fail soft (a Redis error is logged
and answered as "not known here", with the reason); writes raise :class:`StoreUnavailable`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Final, TypeVar

import msgspec

from quipu_previred.flat import from_flat
from quipu_previred.model import Indicators

__all__ = [
    "ADMIN_KEY",
    "FETCHED_KEY",
    "AdminRecord",
    "FetchedRecord",
    "Numbers",
    "StoreUnavailable",
    "delete_admin",
    "read_record",
    "write_record",
]

log = logging.getLogger("quipu.previred")

ADMIN_KEY: Final = "previred:indicators:{period}"
FETCHED_KEY: Final = "previred:fetched:{period}"

_R = TypeVar("_R", "AdminRecord", "FetchedRecord")


#: Indicator values by key: ints and floats alike, published as JSON numbers (Litestar
#: would say ``oneOf: [number, integer]``, which an integer matches twice).
Numbers = Annotated[
    dict[str, float | int],
    msgspec.Meta(extra_json_schema={"extra": {"additional_properties": {"type": "number"}}}),
]


class AdminRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Values an admin loaded for one month (``PUT /api/payroll/indicators/{period}``).

    ``keys`` are the flat keys the admin set (after validation, derived keys included);
    they override the shipped values of the month key by key.
    """

    period: str
    indicators: Numbers
    keys: list[str]
    loaded_at: str
    loaded_by: str
    source: str | None = None
    note: str | None = None

    def to_indicators(self) -> Indicators:
        """The record as :class:`Indicators` (``origin="admin"``)."""
        return from_flat(self.indicators, period=self.period, origin="admin", strict=False)


class FetchedRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What one Previred fetch extracted: the values and where they came from."""

    period: str
    indicators: dict[str, float | int]
    url: str
    size_bytes: int
    sha256: str
    obtained_at: str
    model: str

    def to_indicators(self) -> Indicators:
        """The record as :class:`Indicators` (``origin="llm"``)."""
        return from_flat(self.indicators, period=self.period, origin="llm", strict=False)


class StoreUnavailable(RuntimeError):
    """Redis is not configured or did not answer; nothing was written."""


def _key(record_type: type[Any], period: str) -> str:
    template = ADMIN_KEY if record_type is AdminRecord else FETCHED_KEY
    return template.format(period=period)


async def read_record(
    redis: Any, record_type: type[_R], period: str
) -> tuple[_R | None, str | None]:
    """Return ``(record, None)``, ``(None, None)`` when absent, ``(None, reason)`` on error."""
    if redis is None:
        return None, None
    key = _key(record_type, period)
    try:
        raw = await redis.get(key)
    except Exception as exc:  # redis, socket and timeout errors alike: degrade, never 500
        log.warning("reading %s from Redis failed: %s: %s", key, type(exc).__name__, exc)
        return None, f"Redis no respondió al leer {key} ({type(exc).__name__})"
    if raw is None:
        return None, None
    try:
        return msgspec.json.decode(raw, type=record_type), None
    except (msgspec.DecodeError, ValueError) as exc:
        log.error("ignoring the unreadable record %s: %s", key, exc)
        return None, f"registro ilegible en {key}"


async def write_record(redis: Any, record: AdminRecord | FetchedRecord) -> None:
    """Store ``record`` under its key; raise :class:`StoreUnavailable` when Redis fails."""
    if redis is None:
        raise StoreUnavailable("REDIS_URL no está configurado")
    key = _key(type(record), record.period)
    try:
        await redis.set(key, msgspec.json.encode(record))
    except Exception as exc:
        raise StoreUnavailable(f"Redis no respondió al escribir {key}: {exc}") from exc


async def delete_admin(redis: Any, period: str) -> bool:
    """Remove the admin record of ``period``; whether there was one."""
    if redis is None:
        raise StoreUnavailable("REDIS_URL no está configurado")
    key = ADMIN_KEY.format(period=period)
    try:
        return bool(await redis.delete(key))
    except Exception as exc:
        raise StoreUnavailable(f"Redis no respondió al borrar {key}: {exc}") from exc
