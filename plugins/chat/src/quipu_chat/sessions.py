"""Chat sessions in Redis, shared by every instance and surviving restarts.

Layout: each session lives under its owner (``1``, ``1,2`` or ``*``, see
:func:`~quipu_chat.session_base.owner_for`), so the same id in two companies names two
sessions. The ``{...}`` braces are a Redis Cluster hash tag: both keys share one slot::

    chat:session:{<owner>|<id>}:meta   hash  owner, created_at, total, summary,
                                             summary_covers, c:<context key> = JSON value
    chat:session:{<owner>|<id>}:turns  list  JSON turns, oldest first, trimmed to max_stored

Every write is one Lua script that first checks the session still exists, so it is
atomic: concurrent appends lose nothing, a context merge never loses a key, and a session
deleted meanwhile is never written to. Reads are one MULTI round trip; a chat message
costs two in all: one script opens, merges and reads the session with its history, one
appends the exchange (it checks the session itself, so no read goes before it). Records, errors and
the ownership rule live in :mod:`quipu_chat.session_base`, re-exported here;
:func:`make_session_store` picks this store or the in-memory one.

Sessions are data in Redis, nothing more: a ``FLUSHALL``, an eviction or a Redis restart
without persistence loses them (docs/operations.md says what to run to keep them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from quipu_chat.config import ChatConfig
from quipu_chat.memory_sessions import MemorySessionStore
from quipu_chat.session_base import (
    ANY_COMPANY,
    BaseSessionStore,
    CompanyScope,
    History,
    SessionError,
    SessionForbidden,
    SessionInfo,
    SessionNotFound,
    Turn,
    check_context,
    may_access,
    new_session_id,
    owner_for,
    utc_timestamp,
    validate_owner,
    validate_session_id,
)

if TYPE_CHECKING:
    from quipu.api import PluginRedis

__all__ = [
    "ANY_COMPANY",
    "BaseSessionStore",
    "CompanyScope",
    "History",
    "MemorySessionStore",
    "SessionError",
    "SessionForbidden",
    "SessionInfo",
    "SessionNotFound",
    "SessionStore",
    "Turn",
    "make_session_store",
    "may_access",
    "new_session_id",
    "owner_for",
    "validate_owner",
    "validate_session_id",
]

log = logging.getLogger("quipu.chat.sessions")

_CTX = "c:"
_turn_encoder = msgspec.json.Encoder()
_turn_decoder = msgspec.json.Decoder(Turn)

# KEYS[1] meta, KEYS[2] turns; ARGV owner, created_at, ttl, turns to read, merge (1|0),
# then the field/value pairs of the context. Creates the session if it does not exist
# (with the context), else merges the context into it when asked; then reads it: one round
# trip for the whole start of a chat message instead of four (open, merge, read, history).
_OPEN_READ = """
local created = 0
if not redis.call('HGET', KEYS[1], 'owner') then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'created_at', ARGV[2], 'total', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  created = 1
end
if created == 1 or ARGV[5] == '1' then
  for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
local turns = {}
local count = tonumber(ARGV[4])
if count > 0 then turns = redis.call('LRANGE', KEYS[2], -count, -1) end
return {created, redis.call('HGETALL', KEYS[1]), redis.call('TTL', KEYS[1]), turns}
"""
# KEYS[1] meta, KEYS[2] turns; ARGV owner, ttl, max_stored, then the encoded turns.
_APPEND = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return -1 end
for i = 4, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
local total = redis.call('HINCRBY', KEYS[1], 'total', #ARGV - 3)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return total
"""
# KEYS[1] meta; ARGV owner, 'merge'|'replace', then field/value pairs.
_SET_FIELDS = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return -1 end
if ARGV[2] == 'replace' then
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(f, 1, 2) == 'c:' then redis.call('HDEL', KEYS[1], f) end
  end
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""
# KEYS[1] meta, KEYS[2] turns; ARGV owner.
_DELETE = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1], KEYS[2])
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _context_fields(context: Mapping[str, Any] | None) -> list[str | bytes]:
    pairs: list[str | bytes] = []
    for key, value in (check_context(context) or {}).items():
        pairs += [_CTX + str(key), msgspec.json.encode(value)]
    return pairs


class SessionStore(BaseSessionStore):
    """Sessions in Redis (``redis.asyncio.Redis``, bytes or decoded responses).

    Args:
        redis: The plugin's Redis namespace (``platform.redis``: keys ``chat:...``).
        ttl_s, window, max_stored: See :class:`BaseSessionStore`.
    """

    def __init__(
        self, redis: PluginRedis, *, ttl_s: int = 3600, window: int = 20, max_stored: int = 200
    ) -> None:
        super().__init__(ttl_s=ttl_s, window=window, max_stored=max_stored)
        self.redis = redis
        self._open_read = redis.register_script(_OPEN_READ)
        self._append = redis.register_script(_APPEND)
        self._set_fields = redis.register_script(_SET_FIELDS)
        self._delete = redis.register_script(_DELETE)

    @staticmethod
    def _keys(session_id: str, owner: str) -> tuple[str, str]:
        base = f"chat:session:{{{validate_owner(owner)}|{validate_session_id(session_id)}}}"
        return f"{base}:meta", f"{base}:turns"

    async def create(
        self,
        *,
        owner: str,
        context: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> SessionInfo:
        sid = session_id or new_session_id()
        info, _ = await self._open_and_read(sid, owner, context, 0, merge=False)
        log.debug("chat session %s created", sid)
        return info

    async def open(
        self,
        session_id: str,
        *,
        caller: CompanyScope,
        owner: str,
        context: Mapping[str, Any] | None = None,
    ) -> SessionInfo:
        self._admit(session_id, owner, caller)  # never create what the caller could not open
        info, _ = await self._open_and_read(session_id, owner, context, 0, merge=True)
        return info

    async def open_history(
        self,
        session_id: str,
        *,
        caller: CompanyScope,
        owner: str,
        context: Mapping[str, Any] | None = None,
        window: int | None = None,
    ) -> History:
        self._admit(session_id, owner, caller)  # never create what the caller could not open
        size = self.window if window is None else window
        info, stored = await self._open_and_read(session_id, owner, context, size, merge=True)
        return self._window_of(info, stored, size)

    async def get(self, session_id: str, *, owner: str, caller: CompanyScope) -> SessionInfo:
        self._admit(session_id, owner, caller)
        return await self._read_info(session_id, owner)

    async def append(
        self, session_id: str, turns: Sequence[Turn], *, owner: str, caller: CompanyScope
    ) -> int:
        if not turns:
            return (await self.get(session_id, owner=owner, caller=caller)).message_count
        self._admit(session_id, owner, caller)
        meta, lst = self._keys(session_id, owner)
        encoded = [_turn_encoder.encode(t) for t in turns]
        args: list[Any] = [owner, self.ttl_s, self.max_stored, *encoded]
        # One round trip: the script itself refuses a session that is gone.
        total = int(await self._append(keys=[meta, lst], args=args))
        if total < 0:
            raise SessionNotFound(session_id)
        return total

    async def history(
        self, session_id: str, *, owner: str, caller: CompanyScope, window: int | None = None
    ) -> History:
        self._admit(session_id, owner, caller)
        size = self.window if window is None else window
        info, stored = await self._read(session_id, owner, size)
        return self._window_of(info, stored, size)

    async def delete(self, session_id: str, *, owner: str, caller: CompanyScope) -> bool:
        self._admit(session_id, owner, caller)
        meta, lst = self._keys(session_id, owner)
        deleted = int(await self._delete(keys=[meta, lst], args=[owner]))
        log.debug("chat session %s deleted", session_id)
        return deleted > 0

    async def update_context(
        self,
        session_id: str,
        context: Mapping[str, Any],
        *,
        owner: str,
        caller: CompanyScope,
        replace: bool = False,
    ) -> None:
        self._admit(session_id, owner, caller)
        mode = "replace" if replace else "merge"
        await self._write_fields(session_id, owner, mode, _context_fields(context))

    async def set_summary(
        self, session_id: str, summary: str, *, covers: int, owner: str, caller: CompanyScope
    ) -> None:
        self._admit(session_id, owner, caller)
        fields: list[str | bytes] = ["summary", summary, "summary_covers", str(int(covers))]
        await self._write_fields(session_id, owner, "merge", fields)

    # --- internals ---------------------------------------------------------------------

    async def _write_fields(
        self, session_id: str, owner: str, mode: str, fields: list[str | bytes]
    ) -> None:
        meta, _ = self._keys(session_id, owner)
        if int(await self._set_fields(keys=[meta], args=[owner, mode, *fields])) < 0:
            raise SessionNotFound(session_id)

    async def _read_info(self, session_id: str, owner: str) -> SessionInfo:
        info, _ = await self._read(session_id, owner, 0)
        return info

    async def _read(
        self, session_id: str, owner: str, count: int
    ) -> tuple[SessionInfo, list[Turn]]:
        meta, lst = self._keys(session_id, owner)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(meta)
            pipe.ttl(meta)
            if count > 0:
                pipe.lrange(lst, -count, -1)
            replies = await pipe.execute()
        raw: dict[str, bytes | str] = {_text(k): v for k, v in replies[0].items()}
        info = _info_of(session_id, raw, int(replies[1]))
        turns = [_turn_decoder.decode(item) for item in replies[2]] if count > 0 else []
        return info, turns

    async def _open_and_read(
        self,
        session_id: str,
        owner: str,
        context: Mapping[str, Any] | None,
        count: int,
        *,
        merge: bool,
    ) -> tuple[SessionInfo, list[Turn]]:
        """Create the session if missing (with ``context``), else merge ``context`` into it
        when ``merge``; then its metadata and last ``count`` turns, in one round trip."""
        meta, lst = self._keys(session_id, owner)
        fields = _context_fields(context)
        args: list[Any] = [owner, utc_timestamp(), self.ttl_s, count, int(merge), *fields]
        _created, flat, ttl, stored = await self._open_read(keys=[meta, lst], args=args)
        pairs = iter(flat)
        raw = {_text(key): value for key, value in zip(pairs, pairs, strict=True)}
        info = _info_of(session_id, raw, int(ttl))
        return info, [_turn_decoder.decode(item) for item in stored]


def _info_of(session_id: str, raw: dict[str, bytes | str], ttl: int) -> SessionInfo:
    """A session's metadata from its ``meta`` hash (SessionNotFound when it has none)."""
    if "owner" not in raw:
        raise SessionNotFound(session_id)
    context = {
        key[len(_CTX) :]: msgspec.json.decode(value)
        for key, value in raw.items()
        if key.startswith(_CTX)
    }
    summary = raw.get("summary")
    return SessionInfo(
        session_id=session_id,
        owner=_text(raw["owner"]),
        created_at=_text(raw.get("created_at", "")),
        context=context or None,
        message_count=int(raw.get("total", 0)),
        ttl_s=ttl,
        summary=_text(summary) if summary is not None else None,
        summary_covers=int(raw.get("summary_covers", 0)),
    )


def make_session_store(redis: PluginRedis | None, config: ChatConfig) -> BaseSessionStore:
    """The Redis store when a client is configured, else the single-instance memory one."""
    ttl, window, stored = config.session_ttl_s, config.history_window, config.max_stored_messages
    if redis is None:
        log.warning("REDIS_URL unset: chat sessions live in this process only")
        return MemorySessionStore(ttl_s=ttl, window=window, max_stored=stored)
    return SessionStore(redis, ttl_s=ttl, window=window, max_stored=stored)
