"""What the cache answers: :class:`CacheResult`, :class:`Invalidation`, and its one error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec

from quipu.cache.http import cache_status, json_response

if TYPE_CHECKING:
    from litestar import Response

__all__ = ["CacheResult", "Compute", "Invalidation", "Status", "UnknownCachePolicy"]

T = TypeVar("T")
#: What computes a missing value: ``async () -> value`` (anything msgspec encodes).
Compute = Callable[[], Awaitable[Any]]
Status = Literal["hit", "miss", "refresh", "bypass"]
Tier = Literal["l1", "redis"]

UNSET: Any = object()
_decode = msgspec.json.decode


class UnknownCachePolicy(LookupError):
    """No plugin declared the cache policy asked for (a programming error)."""


class CacheResult:
    """One answer of the cache.

    Attributes:
        raw: The value as msgspec JSON bytes: return it as the response body unchanged.
        status: ``hit`` (served from a tier), ``miss`` (computed), ``refresh`` (computed
            because the request said ``Cache-Control: no-cache``; stored again) or
            ``bypass`` (``no-store``: computed, neither read nor written).
        tier: ``l1`` or ``redis`` for hits, else None.
        key: The cache key, ``{plugin}:{policy}:v{version}:{company}:{digest}``.
        ttl: Seconds the entry has left (hit) or was stored for (miss, refresh).
        stored: Whether the value is (now) in the cache.
        collapsed: Whether this miss waited for an identical computation in flight.
        detail: Why a miss did not read Redis (``redis-unavailable``), else empty.
        elapsed: Seconds the lookup took (key digest excluded, computation included).
    """

    __slots__ = (
        "_headers",
        "_value",
        "collapsed",
        "detail",
        "elapsed",
        "key",
        "raw",
        "status",
        "stored",
        "tier",
        "ttl",
    )

    def __init__(
        self,
        raw: bytes,
        status: Status,
        tier: Tier | None,
        key: str,
        ttl: float,
        value: Any = UNSET,
        *,
        stored: bool = False,
        collapsed: bool = False,
        detail: str = "",
        elapsed: float = 0.0,
    ) -> None:
        self.raw = raw
        self.status = status
        self.tier = tier
        self.key = key
        self.ttl = ttl
        self._value = value
        self.stored = stored
        self.collapsed = collapsed
        self.detail = detail
        self.elapsed = elapsed
        self._headers: dict[str, str] | None = None

    @property
    def hit(self) -> bool:
        """Whether a tier answered (nothing was computed)."""
        return self.status == "hit"

    @property
    def headers(self) -> dict[str, str]:
        """``Cache-Status`` (RFC 9211) for the response, written on first use."""
        headers = self._headers
        if headers is None:
            headers = self._headers = {"Cache-Status": cache_status(self)}
        return headers

    @property
    def value(self) -> Any:
        """The value: what ``compute`` returned on a miss, else ``raw`` decoded (untyped)."""
        if self._value is UNSET:
            self._value = _decode(self.raw)
        return self._value

    def decode(self, type: type[T]) -> T:
        """``raw`` decoded and validated as ``type``."""
        return _decode(self.raw, type=type)

    def response(
        self, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response[bytes]:
        """A Litestar JSON response with ``raw`` as the body and the cache headers."""
        merged = {**self.headers, **headers} if headers else self.headers
        return json_response(self.raw, merged, status_code)

    def __repr__(self) -> str:
        return f"CacheResult({self.status}, tier={self.tier}, key={self.key!r})"


class Invalidation(msgspec.Struct, frozen=True, kw_only=True):
    """What ``DELETE /_platform/cache`` removed."""

    policies: list[str]
    company: str | None
    redis_removed: int
    l1_removed: int
    redis: Literal["ok", "disabled"]
