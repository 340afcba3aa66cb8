"""Chat sessions in this process's memory: the fallback when ``REDIS_URL`` is unset.

**Single instance only**: each Granian worker has its own sessions, so a conversation
must stay on one worker (run one worker), and sessions are lost on restart. The behaviour
otherwise matches :class:`quipu_chat.sessions.SessionStore`: sessions keyed by owner and
id, the same checks, TTL refreshed on append, bounded storage. Every method runs without
awaiting in between, so each is atomic under asyncio.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from quipu_chat.session_base import (
    BaseSessionStore,
    CompanyScope,
    History,
    SessionInfo,
    SessionNotFound,
    Turn,
    check_context,
    new_session_id,
    utc_timestamp,
    validate_owner,
    validate_session_id,
)

__all__ = ["MemorySessionStore"]


@dataclass
class _Entry:
    owner: str
    created_at: str
    expires_at: float
    turns: deque[Turn]
    context: dict[str, Any] = field(default_factory=dict)
    total: int = 0
    summary: str | None = None
    summary_covers: int = 0


class MemorySessionStore(BaseSessionStore):
    """Sessions in a dict keyed by ``(owner, id)``; ``clock`` (monotonic s) is injectable."""

    def __init__(
        self,
        *,
        ttl_s: int = 3600,
        window: int = 20,
        max_stored: int = 200,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(ttl_s=ttl_s, window=window, max_stored=max_stored)
        self._clock = clock
        self._sessions: dict[tuple[str, str], _Entry] = {}

    def _live(self, session_id: str, owner: str) -> _Entry | None:
        key = (validate_owner(owner), validate_session_id(session_id))
        entry = self._sessions.get(key)
        if entry is not None and entry.expires_at <= self._clock():
            del self._sessions[key]
            return None
        return entry

    def _entry(self, session_id: str, owner: str, caller: CompanyScope) -> _Entry:
        self._admit(session_id, owner, caller)
        entry = self._live(session_id, owner)
        if entry is None:
            raise SessionNotFound(session_id)
        return entry

    def _info(self, session_id: str, entry: _Entry) -> SessionInfo:
        return SessionInfo(
            session_id=session_id,
            owner=entry.owner,
            created_at=entry.created_at,
            context=dict(entry.context) or None,
            message_count=entry.total,
            ttl_s=max(0, round(entry.expires_at - self._clock())),
            summary=entry.summary,
            summary_covers=entry.summary_covers,
        )

    def _sweep(self) -> None:
        now = self._clock()
        for key in [k for k, e in self._sessions.items() if e.expires_at <= now]:
            del self._sessions[key]

    def _new(self, session_id: str, owner: str, context: Mapping[str, Any] | None) -> _Entry:
        if len(self._sessions) % 256 == 0:
            self._sweep()
        entry = _Entry(
            owner=owner,
            created_at=utc_timestamp(),
            expires_at=self._clock() + self.ttl_s,
            turns=deque(maxlen=self.max_stored),
            context=check_context(context) or {},
        )
        self._sessions[owner, session_id] = entry
        return entry

    async def create(
        self,
        *,
        owner: str,
        context: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> SessionInfo:
        sid = session_id or new_session_id()
        entry = self._live(sid, owner) or self._new(sid, owner, context)
        return self._info(sid, entry)

    async def open(
        self,
        session_id: str,
        *,
        caller: CompanyScope,
        owner: str,
        context: Mapping[str, Any] | None = None,
    ) -> SessionInfo:
        self._admit(session_id, owner, caller)  # never create what the caller could not open
        entry = self._live(session_id, owner)
        if entry is None:
            entry = self._new(session_id, owner, context)
        elif context:
            entry.context.update(check_context(context) or {})
        return self._info(session_id, entry)

    async def get(self, session_id: str, *, owner: str, caller: CompanyScope) -> SessionInfo:
        return self._info(session_id, self._entry(session_id, owner, caller))

    async def append(
        self, session_id: str, turns: Sequence[Turn], *, owner: str, caller: CompanyScope
    ) -> int:
        entry = self._entry(session_id, owner, caller)
        entry.turns.extend(turns)
        entry.total += len(turns)
        entry.expires_at = self._clock() + self.ttl_s
        return entry.total

    async def history(
        self, session_id: str, *, owner: str, caller: CompanyScope, window: int | None = None
    ) -> History:
        entry = self._entry(session_id, owner, caller)
        return self._window_of(self._info(session_id, entry), list(entry.turns), window)

    async def delete(self, session_id: str, *, owner: str, caller: CompanyScope) -> bool:
        self._admit(session_id, owner, caller)
        if self._live(session_id, owner) is None:
            return False
        del self._sessions[owner, session_id]
        return True

    async def update_context(
        self,
        session_id: str,
        context: Mapping[str, Any],
        *,
        owner: str,
        caller: CompanyScope,
        replace: bool = False,
    ) -> None:
        entry = self._entry(session_id, owner, caller)
        plain = check_context(context) or {}
        if replace:
            entry.context = plain
        else:
            entry.context.update(plain)

    async def set_summary(
        self, session_id: str, summary: str, *, covers: int, owner: str, caller: CompanyScope
    ) -> None:
        entry = self._entry(session_id, owner, caller)
        entry.summary, entry.summary_covers = summary, int(covers)
