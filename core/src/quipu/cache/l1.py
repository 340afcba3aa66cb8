"""The in-process tier: a least-recently-used map bounded by entries and by bytes.

Keys are content addresses, so a copy held here can only be stale by outliving its Redis
entry; every entry carries an expiry no later than its Redis entry's (and no later than
``[cache] l1_max_ttl_s``), checked on every read. Values are the stored bytes themselves:
a hit hands them out without decoding or encoding anything.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

from quipu.cache.metrics import L1_EVICTIONS

__all__ = ["ENTRY_OVERHEAD", "L1"]

#: Bytes charged per entry beyond its key and value (dict slot, tuple, objects' headers).
ENTRY_OVERHEAD = 160

_capacity = L1_EVICTIONS.labels("capacity")
_expired = L1_EVICTIONS.labels("expired")
_invalidated = L1_EVICTIONS.labels("invalidated")


class L1:
    """``key -> (raw, expires_at)`` with LRU eviction; ``expires_at`` on the monotonic clock.

    Args:
        max_entries: At most this many entries; 0 disables the tier (nothing is kept).
        max_bytes: At most this many bytes of keys, values and overhead.

    A value larger than an eighth of ``max_bytes`` is not kept, so one huge answer cannot
    flush everything else.
    """

    __slots__ = ("_data", "bytes", "max_bytes", "max_entries", "max_item_bytes")

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max(0, max_entries)
        self.max_bytes = max(0, max_bytes)
        self.max_item_bytes = self.max_bytes // 8
        self.bytes = 0
        self._data: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        """The keys held now (a snapshot), least recently used first."""
        return iter(list(self._data))

    def get(self, key: str, now: float) -> tuple[bytes, float] | None:
        """The fresh entry under ``key`` (marked most recently used), or None."""
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._data[key]
            self.bytes -= len(entry[0]) + len(key) + ENTRY_OVERHEAD
            _expired.inc()
            return None
        self._data.move_to_end(key)
        return entry

    def put(self, key: str, raw: bytes, expires_at: float) -> bool:
        """Keep ``raw`` under ``key`` until ``expires_at``; False when it is not kept."""
        size = len(raw) + len(key) + ENTRY_OVERHEAD
        if self.max_entries == 0 or size > self.max_item_bytes:
            self.discard(key)
            return False
        data = self._data
        old = data.pop(key, None)
        if old is not None:
            self.bytes -= len(old[0]) + len(key) + ENTRY_OVERHEAD
        data[key] = (raw, expires_at)
        self.bytes += size
        while len(data) > self.max_entries or self.bytes > self.max_bytes:
            gone, (value, _) = data.popitem(last=False)
            self.bytes -= len(value) + len(gone) + ENTRY_OVERHEAD
            _capacity.inc()
        return True

    def discard(self, key: str) -> bool:
        """Drop ``key`` if present."""
        entry = self._data.pop(key, None)
        if entry is None:
            return False
        self.bytes -= len(entry[0]) + len(key) + ENTRY_OVERHEAD
        return True

    def remove_where(self, predicate: Callable[[str], bool]) -> int:
        """Drop every entry whose key satisfies ``predicate``; how many were dropped."""
        doomed = [key for key in self._data if predicate(key)]
        for key in doomed:
            self.discard(key)
        if doomed:
            _invalidated.inc(len(doomed))
        return len(doomed)

    def clear(self) -> None:
        """Drop everything."""
        self._data.clear()
        self.bytes = 0
