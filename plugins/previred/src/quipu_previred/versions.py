"""A version number per month of indicators, bumped whenever what a month resolves to changes.

Answers computed from a month's indicators (a payroll slip check) can then be cached under
that version: an admin load, an admin delete or a new Previred fetch bumps it, and every
answer stored under the old one stops being found, in every process at once.

With Redis the number lives at ``previred:version:{period}`` (INCR, no expiry); it is
bumped *after* the change is written and the Previred cache invalidated, so a reader that
sees the new number can only read the new indicators. Without Redis each process counts
its own changes (there is nothing shared to be stale against).
"""

from __future__ import annotations

import logging
from typing import Any, Final

__all__ = ["VERSION_KEY", "bump_version", "indicators_version"]

log = logging.getLogger("quipu.previred")

VERSION_KEY: Final = "previred:version:{period}"
_local: dict[str, int] = {}


async def indicators_version(redis: Any, period: str) -> str | None:
    """The current version of ``period``'s indicators, or None when it cannot be read now."""
    if redis is None:
        return f"local{_local.get(period, 0)}"
    try:
        raw = await redis.get(VERSION_KEY.format(period=period))
    except Exception as exc:  # unreachable: say "unknown", never guess
        log.debug("reading the version of %s failed: %s", period, type(exc).__name__)
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw or 0)


async def bump_version(redis: Any, period: str) -> None:
    """Mark ``period``'s indicators as changed (call after the change is visible)."""
    _local[period] = _local.get(period, 0) + 1
    if redis is None:
        return
    try:
        await redis.incr(VERSION_KEY.format(period=period))
    except Exception as exc:
        # The change itself was written; answers cached under the old version live out
        # their TTL. Logged loudly: an operator may invalidate payroll's cache by hand.
        log.error(
            "could not bump the indicators version of %s (%s): cached payroll answers may "
            "use the old values until they expire; DELETE /_platform/cache?plugin=payroll",
            period,
            type(exc).__name__,
        )
