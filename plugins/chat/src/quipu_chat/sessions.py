"""Chat sessions in Redis, shared by every instance and surviving restarts.

Layout (the ``{id}`` braces are a Redis Cluster hash tag: both keys share one slot)::

    chat:session:{<id>}:meta   hash  owner, created_at, total, summary, summary_covers,
                                     c:<context key> = JSON value (one field per key)
    chat:session:{<id>}:turns  list  JSON turns, oldest first, trimmed to max_stored

Every write is one Lua script that first checks the owner, so it is atomic: concurrent
appends lose nothing, a context merge never loses a key, and a session deleted (or
re-created by another company) meanwhile is never written to. Reads are one MULTI round
trip. Records, errors and the ownership rule live in :mod:`quipu_chat.session_base`,
re-exported here; :func:`make_session_store` picks this store or the in-memory one.
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
    validate_session_id,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

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
    "validate_session_id",
]

log = logging.getLogger("quipu.chat.sessions")

_CTX = "c:"
_turn_encoder = msgspec.json.Encoder()
_turn_decoder = msgspec.json.Decoder(Turn)

# KEYS[1] meta; ARGV owner, created_at, ttl, then field/value pairs of the context.
_OPEN = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner then return {0, owner} end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'created_at', ARGV[2], 'total', 0)
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, ARGV[1]}
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
        redis: The shared client (``platform_state(app).redis``).
        ttl_s, window, max_stored: See :class:`BaseSessionStore`.
    """

    def __init__(
        self, redis: Redis, *, ttl_s: int = 3600, window: int = 20, max_stored: int = 200
    ) -> None:
        super().__init__(ttl_s=ttl_s, window=window, max_stored=max_stored)
        self.redis = redis
        self._open = redis.register_script(_OPEN)
        self._append = redis.register_script(_APPEND)
        self._set_fields = redis.register_script(_SET_FIELDS)
        self._delete = redis.register_script(_DELETE)

    @staticmethod
    def _keys(session_id: str) -> tuple[str, str]:
        base = f"chat:session:{{{validate_session_id(session_id)}}}"
        return f"{base}:meta", f"{base}:turns"

    async def create(
        self,
        *,
        owner: str,
        context: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> SessionInfo:
        sid = session_id or new_session_id()
        meta, _ = self._keys(sid)
        args: list[Any] = [owner, utc_timestamp(), self.ttl_s, *_context_fields(context)]
        created, stored_owner = await self._open(keys=[meta], args=args)
        if not created and _text(stored_owner) != owner:
            raise SessionForbidden(sid)
        log.debug("chat session %s created", sid)
        return await self._read_info(sid)

    async def open(
        self,
        session_id: str,
        *,
        caller: CompanyScope,
        owner: str,
        context: Mapping[str, Any] | None = None,
    ) -> SessionInfo:
        meta, _ = self._keys(session_id)
        if not may_access(caller, owner):  # never create what the caller could not open
            raise SessionForbidden(session_id)
        args: list[Any] = [owner, utc_timestamp(), self.ttl_s, *_context_fields(context)]
        created, stored = await self._open(keys=[meta], args=args)
        stored_owner = _text(stored)
        if not may_access(caller, stored_owner):
            raise SessionForbidden(session_id)
        if not created and context:
            await self._write_fields(session_id, stored_owner, "merge", _context_fields(context))
        return await self._read_info(session_id)

    async def get(self, session_id: str, *, caller: CompanyScope) -> SessionInfo:
        info = await self._read_info(session_id)
        self._check(info, caller)
        return info

    async def append(self, session_id: str, turns: Sequence[Turn], *, caller: CompanyScope) -> int:
        info = await self.get(session_id, caller=caller)
        if not turns:
            return info.message_count
        meta, lst = self._keys(session_id)
        encoded = [_turn_encoder.encode(t) for t in turns]
        args: list[Any] = [info.owner, self.ttl_s, self.max_stored, *encoded]
        total = int(await self._append(keys=[meta, lst], args=args))
        if total < 0:  # deleted or re-created between the check and the write
            raise SessionNotFound(session_id)
        return total

    async def history(
        self, session_id: str, *, caller: CompanyScope, window: int | None = None
    ) -> History:
        size = self.window if window is None else window
        info, stored = await self._read(session_id, size)
        self._check(info, caller)
        return self._window_of(info, stored, size)

    async def delete(self, session_id: str, *, caller: CompanyScope) -> bool:
        meta, lst = self._keys(session_id)
        owner = await self.redis.hget(meta, "owner")
        if owner is None:
            return False
        if not may_access(caller, _text(owner)):
            raise SessionForbidden(session_id)
        deleted = int(await self._delete(keys=[meta, lst], args=[_text(owner)]))
        log.debug("chat session %s deleted", session_id)
        return deleted > 0

    async def update_context(
        self,
        session_id: str,
        context: Mapping[str, Any],
        *,
        caller: CompanyScope,
        replace: bool = False,
    ) -> None:
        info = await self.get(session_id, caller=caller)
        mode = "replace" if replace else "merge"
        await self._write_fields(session_id, info.owner, mode, _context_fields(context))

    async def set_summary(
        self, session_id: str, summary: str, *, covers: int, caller: CompanyScope
    ) -> None:
        info = await self.get(session_id, caller=caller)
        fields: list[str | bytes] = ["summary", summary, "summary_covers", str(int(covers))]
        await self._write_fields(session_id, info.owner, "merge", fields)

    # --- internals ---------------------------------------------------------------------

    def _check(self, info: SessionInfo, caller: CompanyScope) -> None:
        if not may_access(caller, info.owner):
            raise SessionForbidden(info.session_id)

    async def _write_fields(
        self, session_id: str, owner: str, mode: str, fields: list[str | bytes]
    ) -> None:
        meta, _ = self._keys(session_id)
        if int(await self._set_fields(keys=[meta], args=[owner, mode, *fields])) < 0:
            raise SessionNotFound(session_id)

    async def _read_info(self, session_id: str) -> SessionInfo:
        info, _ = await self._read(session_id, 0)
        return info

    async def _read(self, session_id: str, count: int) -> tuple[SessionInfo, list[Turn]]:
        meta, lst = self._keys(session_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(meta)
            pipe.ttl(meta)
            if count > 0:
                pipe.lrange(lst, -count, -1)
            replies = await pipe.execute()
        raw: dict[str, bytes | str] = {_text(k): v for k, v in replies[0].items()}
        if "owner" not in raw:
            raise SessionNotFound(session_id)
        context = {
            key[len(_CTX) :]: msgspec.json.decode(value)
            for key, value in raw.items()
            if key.startswith(_CTX)
        }
        summary = raw.get("summary")
        info = SessionInfo(
            session_id=session_id,
            owner=_text(raw["owner"]),
            created_at=_text(raw.get("created_at", "")),
            context=context or None,
            message_count=int(raw.get("total", 0)),
            ttl_s=int(replies[1]),
            summary=_text(summary) if summary is not None else None,
            summary_covers=int(raw.get("summary_covers", 0)),
        )
        turns = [_turn_decoder.decode(item) for item in replies[2]] if count > 0 else []
        return info, turns


def make_session_store(redis: Redis | None, config: ChatConfig) -> BaseSessionStore:
    """The Redis store when a client is configured, else the single-instance memory one."""
    ttl, window, stored = config.session_ttl_s, config.history_window, config.max_stored_messages
    if redis is None:
        log.warning("REDIS_URL unset: chat sessions live in this process only")
        return MemorySessionStore(ttl_s=ttl, window=window, max_stored=stored)
    return SessionStore(redis, ttl_s=ttl, window=window, max_stored=stored)
