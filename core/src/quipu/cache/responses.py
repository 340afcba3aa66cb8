"""Response-level cache: a repeated request answered from stored bytes before any work.

A route opts in with ``opt={"response_cache": ResponseCache(policy=..., vary=...)}``. The
platform layer (:mod:`quipu.edge`) then, for a POST to that route and after the API key,
rate limit and body checks:

1. reads the raw body and decodes only the company field (and the ``fields`` the route
   names) with a tiny msgspec Struct, so the caller's company is checked first;
2. asks the route's ``vary`` for what else determines the answer (rule-set and prompt
   versions, a digest of the plugin's rule configuration, today's date in its time zone,
   the version of the data it reads...);
3. looks up ``{plugin}:{policy}:v{n}:{company}:{blake2b(vary, body)}`` in the policy's
   tiers (L1, then Redis): a hit sends the stored status, headers and body as they were,
   with ``Cache-Status: quipu; hit; ttl=..; detail=l1|redis``, and nothing else runs;
4. on a miss the request goes through the app as usual (the body replayed), and a 200
   answer is stored unless the handler said otherwise with :func:`response_ttl`
   (a degraded answer, say, kept for a few seconds only). Identical misses in flight
   single-flight: one goes through, the others wait and are served its stored answer.

The key is the raw bytes: a body that differs only in whitespace or key order misses here
and reaches the handler, whose own content-addressed cache (``get_or_compute``) still
answers its expensive part. Entries live under an ordinary cache policy, so TTLs, L1
bounds, metrics, ``DELETE /_platform/cache`` and company scoping all apply unchanged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from quipu.cache.policy import Policy
    from quipu.cache.service import Cache

__all__ = [
    "RESPONSE_TTL",
    "ResponseCache",
    "ResponseCacheEngine",
    "StoredResponse",
    "VaryContext",
    "response_ttl",
]

#: ``scope["state"]`` key where a handler overrides the TTL of its answer (0: not stored).
RESPONSE_TTL = "quipu.response_ttl"
#: Stored entries: ``_FORMAT`` byte + msgpack ``[status, [[name, value], ...], body]``.
_FORMAT = b"\x01"
#: Headers never stored: the layer writes them fresh for every answer.
_VOLATILE = frozenset({b"cache-status", b"server-timing", b"x-request-id", b"date"})
_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder(tuple[int, list[tuple[bytes, bytes]], bytes]).decode
_clock = time.perf_counter


@dataclass(frozen=True)
class VaryContext:
    """What a route's ``vary`` may read to say what else its answer depends on."""

    fields: Mapping[str, Any]
    """The top-level body fields the route named (``company_id`` and ``fields``)."""
    plugin: Any
    """The route's plugin's :class:`quipu.api.PluginContext` (its config, Redis namespace
    and the services of other plugins, e.g. a version another plugin keeps)."""

    @property
    def config(self) -> Any:
        """The plugin's validated ``[plugins.<name>]`` config."""
        return self.plugin.config if self.plugin is not None else None


Vary = Callable[[VaryContext], "str | Awaitable[str | None] | None"]


@dataclass(frozen=True)
class ResponseCache:
    """A route's response-cache declaration (``opt={"response_cache": ResponseCache(...)}``).

    Attributes:
        policy: The plugin's own cache policy (local name) that holds the answers; it sets
            the TTL and the company scoping (declare it ``scope="company"``).
        company_field: The top-level body field naming the company (checked against the
            API key before any lookup; an int or a numeric string).
        company_optional: When the body has no ``company_field``, key the answer by the
            API key's own company scope (``quipu.Principal.company_scope``) instead of
            answering without the response cache.
        fields: Other top-level body fields ``vary`` needs (e.g. ``("period",)``).
        vary: ``(VaryContext) -> str | None`` (or awaitable): everything besides the body
            that determines the answer. None means "cannot tell now": the request is
            answered without the response cache.
    """

    policy: str
    company_field: str = "company_id"
    company_optional: bool = False
    fields: tuple[str, ...] = ()
    vary: Vary | None = None
    _decoder: Any = field(default=None, compare=False, repr=False)

    def decoder(self) -> msgspec.json.Decoder[Any]:
        """A JSON decoder that reads only the named fields (everything else is skipped)."""
        if self._decoder is None:
            names = (self.company_field, *self.fields)
            struct = msgspec.defstruct(
                "KeyFields", [(name, Any, None) for name in dict.fromkeys(names)]
            )
            object.__setattr__(self, "_decoder", msgspec.json.Decoder(struct))
        return self._decoder  # type: ignore[no-any-return]


def response_ttl(scope: Any, seconds: float) -> None:
    """Store this request's answer for ``seconds`` only (0: do not store it).

    For answers that are right now but should not be kept as final, e.g. a verdict given
    while the AI review was unavailable. ``scope`` is the ASGI scope (``request.scope``).
    """
    scope.setdefault("state", {})[RESPONSE_TTL] = seconds


class StoredResponse:
    """An answer as stored: status, headers (minus the per-request ones) and body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def pack(self) -> bytes:
        """The bytes kept in L1 and Redis."""
        kept = [(k, v) for k, v in self.headers if k.lower() not in _VOLATILE]
        return _FORMAT + _pack((self.status, kept, self.body))

    @classmethod
    def unpack(cls, raw: bytes) -> StoredResponse | None:
        """The answer in ``raw``, or None when it is not a stored response."""
        if not raw.startswith(_FORMAT):
            return None
        try:
            status, headers, body = _unpack(memoryview(raw)[1:])
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        return cls(status, headers, body)


def response_digest(vary: str, body: bytes) -> str:
    """The key digest of a body under ``vary``: 128-bit BLAKE2b, as every cache key."""
    hasher = blake2b(vary.encode(), digest_size=16)
    hasher.update(b"\x00")
    hasher.update(body)
    return hasher.hexdigest()


class ResponseCacheEngine:
    """Lookups and stores of whole answers in a :class:`~quipu.cache.Cache`'s tiers."""

    def __init__(self, cache: Cache, fingerprint: str = "") -> None:
        self.cache = cache
        #: What every answer of this app depends on (e.g. which model, if any, reviews):
        #: part of every key, so replicas configured differently never share answers.
        self.fingerprint = fingerprint
        self._inflight: dict[str, asyncio.Future[StoredResponse | None]] = {}
        self._unpacked: dict[int, tuple[bytes, StoredResponse]] = {}

    def policy(self, name: str) -> Policy:
        """The ready policy ``<plugin>.<name>`` (raises UnknownCachePolicy)."""
        return self.cache.policy(name)

    @staticmethod
    def key(pol: Policy, company: int | str, digest: str) -> str:
        """``{plugin}:{policy}:v{n}:{company}:{digest}``, as every cache key."""
        return f"{pol.prefix}{company}:{digest}"

    def peek_l1(self, pol: Policy, key: str) -> tuple[bytes, float] | None:
        """``(raw, seconds left)`` from L1, counted as a hit; None (uncounted) on a miss."""
        now = _clock()
        entry = self.cache.l1.get(key, now)
        if entry is None:
            return None
        pol.hit_l1.inc()
        pol.window.record(now, True)
        return entry[0], entry[1] - now

    async def peek_redis(self, pol: Policy, key: str) -> tuple[bytes, float] | None:
        """``(raw, seconds left)`` from Redis (refilling L1), else None; every result counted."""
        return await self.cache.peek_redis(pol, key)

    def store(self, pol: Policy, key: str, answer: StoredResponse, ttl_s: float) -> bool:
        """Keep ``answer`` for ``ttl_s`` (at most the policy's TTL) in L1 and Redis."""
        cache = self.cache
        ttl_s = min(ttl_s, pol.ttl_s)
        if ttl_s <= 0:
            return False
        raw = answer.pack()
        kept = cache.l1.put(key, raw, _clock() + min(ttl_s, pol.l1_ttl_s))
        return cache.write_redis(key, raw, max(1, int(ttl_s * 1000))) or kept

    def unpack(self, raw: bytes) -> StoredResponse | None:
        """:meth:`StoredResponse.unpack`, remembered for the bytes L1 hands out again.

        L1 returns the same bytes object on every hit, so the decoded answer is kept beside
        it (checked by identity; at most 1,024 answers of up to 64 KiB) instead of being
        decoded on every request.
        """
        known = self._unpacked.get(id(raw))
        if known is not None and known[0] is raw:
            return known[1]
        answer = StoredResponse.unpack(raw)
        if answer is not None and len(raw) <= 65536:  # small answers only: bounded memory
            if len(self._unpacked) >= 1024:
                self._unpacked.clear()
            self._unpacked[id(raw)] = (raw, answer)
        return answer

    def flight(self, key: str) -> asyncio.Future[StoredResponse | None] | None:
        """The answer being computed for ``key`` by another request, if any."""
        return self._inflight.get(key)

    def begin(self, key: str) -> asyncio.Future[StoredResponse | None]:
        """Mark ``key`` as being computed; settle the future with :meth:`end`."""
        future: asyncio.Future[StoredResponse | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        return future

    def end(self, key: str, future: asyncio.Future[StoredResponse | None], answer: Any) -> None:
        """Release ``key``; waiters get ``answer`` (None: go through the app themselves)."""
        if self._inflight.get(key) is future:
            del self._inflight[key]
        if not future.done():
            future.set_result(answer)

    @property
    def generation(self) -> int:
        """Bumped by every invalidation: an answer computed across one is not stored."""
        return self.cache.generation
