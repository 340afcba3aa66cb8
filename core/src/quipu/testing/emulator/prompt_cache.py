"""Prompt-cache simulation (gateway-anchors A.7).

Model of the real behaviour, simplified but faithful in what a client can observe:

* a breakpoint is a segment carrying ``cache_control``; at most 4 per request;
* the cached unit is the prefix up to and including a breakpoint, identified by a SHA-256
  over the canonical bytes of all segments up to it, keyed by (API key, model);
* prefixes shorter than the model's minimum are neither read nor written;
* on lookup, for each breakpoint the emulator also looks back up to 20 segments for an
  earlier cached prefix (this is what lets a moving breakpoint hit the previous turn);
  the longest live hit is read and its TTL refreshed ("5 minutes from last use");
* every breakpoint after the hit is written; the tokens between the previous boundary and a
  breakpoint are billed as a write with that breakpoint's TTL (5m or 1h).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import msgspec

from quipu.testing.emulator.tokens import Segment

__all__ = ["MAX_BREAKPOINTS", "CacheOutcome", "PromptCache"]

MAX_BREAKPOINTS = 4
LOOKBACK_SEGMENTS = 20
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


class CacheOutcome(msgspec.Struct, frozen=True):
    """Cache effect of one request, in tokens."""

    read: int = 0
    write_5m: int = 0
    write_1h: int = 0

    @property
    def written(self) -> int:
        """Total cache-creation tokens."""
        return self.write_5m + self.write_1h


class _Entry(msgspec.Struct):
    expires_at: float
    ttl: str


def count_breakpoints(segments: Sequence[Segment]) -> int:
    """Number of segments that carry ``cache_control``."""
    return sum(1 for segment in segments if segment.cache is not None)


class PromptCache:
    """In-memory prompt cache keyed per API key and model."""

    def __init__(self, clock: Callable[[], float], max_entries: int = 100_000) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[tuple[str, str, bytes], _Entry] = {}

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def apply(
        self, api_key: str, model: str, segments: Sequence[Segment], min_tokens: int
    ) -> CacheOutcome:
        """Look up and store the prefixes of ``segments``; return what was read and written."""
        breakpoints = [i for i, segment in enumerate(segments) if segment.cache is not None]
        if not breakpoints:
            return CacheOutcome()
        # Digest and cumulative tokens of every prefix up to the last breakpoint.
        digests: list[bytes] = []
        totals: list[int] = []
        running = hashlib.sha256()
        tokens = 0
        for segment in segments[: breakpoints[-1] + 1]:
            running.update(len(segment.material).to_bytes(8, "big"))
            running.update(segment.material)
            tokens += segment.tokens
            digests.append(running.copy().digest())
            totals.append(tokens)

        now = self._clock()
        hit = self._longest_hit(api_key, model, breakpoints, digests, totals, min_tokens, now)
        read = 0
        if hit is not None:
            read = totals[hit]
            entry = self._entries[(api_key, model, digests[hit])]
            entry.expires_at = now + TTL_SECONDS[entry.ttl]

        write = {"5m": 0, "1h": 0}
        boundary = read
        for index in breakpoints:
            if (hit is not None and index <= hit) or totals[index] < min_tokens:
                continue
            cache = segments[index].cache
            assert cache is not None  # every index in breakpoints has one
            write[cache.ttl] += totals[index] - boundary
            boundary = totals[index]
            self._store(
                (api_key, model, digests[index]), _Entry(now + TTL_SECONDS[cache.ttl], cache.ttl)
            )
        return CacheOutcome(read=read, write_5m=write["5m"], write_1h=write["1h"])

    def _longest_hit(
        self,
        api_key: str,
        model: str,
        breakpoints: list[int],
        digests: list[bytes],
        totals: list[int],
        min_tokens: int,
        now: float,
    ) -> int | None:
        best: int | None = None
        for breakpoint in breakpoints:
            low = max(0, breakpoint - LOOKBACK_SEGMENTS + 1)
            for index in range(breakpoint, low - 1, -1):
                if best is not None and index <= best:
                    break
                if totals[index] < min_tokens:
                    break  # shorter prefixes are never cached
                entry = self._entries.get((api_key, model, digests[index]))
                if entry is not None and entry.expires_at > now:
                    best = index
                    break
        return best

    def _store(self, key: tuple[str, str, bytes], entry: _Entry) -> None:
        self._entries.pop(key, None)  # re-insert so dict order approximates recency
        self._entries[key] = entry
        if len(self._entries) > self._max_entries:
            now = self._clock()
            for stale in [k for k, e in self._entries.items() if e.expires_at <= now]:
                del self._entries[stale]
            while len(self._entries) > self._max_entries:
                del self._entries[next(iter(self._entries))]
