"""The cache's HTTP vocabulary: request ``Cache-Control`` in, ``Cache-Status`` and bodies out.

Pure functions and constants, no cache state: the tiers (:mod:`quipu.cache.service`) speak
in directives and outcomes, and this module turns them into and out of HTTP.

- :func:`parse_cache_control` maps a request's ``Cache-Control`` to a directive:
  :data:`USE`, :data:`NO_CACHE` (recompute and store) or :data:`NO_STORE` (neither read
  nor write).
- :func:`cache_status` writes the RFC 9211 ``Cache-Status`` of an outcome, e.g.
  ``quipu; hit; ttl=712; detail=l1`` or ``quipu; fwd=miss; stored; ttl=900``.
- :func:`json_response` wraps stored JSON bytes in a Litestar response, unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from litestar import Response

__all__ = [
    "NO_CACHE",
    "NO_STORE",
    "USE",
    "Outcome",
    "cache_status",
    "json_response",
    "parse_cache_control",
]

#: Request ``Cache-Control`` directives, as :func:`parse_cache_control` returns them.
USE, NO_CACHE, NO_STORE = 0, 1, 2


def parse_cache_control(value: str | None) -> int:
    """``USE``, ``NO_CACHE`` (recompute and store) or ``NO_STORE`` (neither read nor write)."""
    if not value:
        return USE
    names = {part.split("=", 1)[0].strip().lower() for part in value.split(",")}
    if "no-store" in names:
        return NO_STORE
    if "no-cache" in names:
        return NO_CACHE
    return USE


class Outcome(Protocol):
    """What :func:`cache_status` reads of an answer (:class:`quipu.cache.CacheResult`)."""

    @property
    def status(self) -> str:
        """``hit``, ``miss``, ``refresh`` (``no-cache``) or ``bypass`` (``no-store``)."""

    @property
    def tier(self) -> str | None:
        """``l1`` or ``redis`` for a hit."""

    @property
    def ttl(self) -> float:
        """Seconds the entry has left (hit) or was stored for (miss, refresh)."""

    @property
    def stored(self) -> bool:
        """Whether the value is (now) in the cache."""

    @property
    def collapsed(self) -> bool:
        """Whether a miss waited for an identical computation in flight."""

    @property
    def detail(self) -> str:
        """Why a miss did not read Redis (``redis-unavailable``), if it did not."""


def cache_status(outcome: Outcome) -> str:
    """The ``Cache-Status`` (RFC 9211) of one answer of the cache."""
    status = outcome.status
    if status == "hit":
        return f"quipu; hit; ttl={int(outcome.ttl)}; detail={outcome.tier}"
    if status == "bypass":
        return "quipu; fwd=bypass"
    line = "quipu; fwd=request" if status == "refresh" else "quipu; fwd=miss"
    if outcome.stored:
        line += f"; stored; ttl={int(outcome.ttl)}"
    if outcome.collapsed:
        line += "; collapsed"
    if outcome.detail:
        line += f"; detail={outcome.detail}"
    return line


def json_response(
    raw: bytes, headers: Mapping[str, str], status_code: int = 200
) -> Response[bytes]:
    """A Litestar JSON response with ``raw`` as the body, sent as it is."""
    from litestar import Response  # the cache itself never needs Litestar

    return Response(
        content=raw, status_code=status_code, media_type="application/json", headers=headers
    )
