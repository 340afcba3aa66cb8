"""Chat sessions in this process's memory: the fallback when ``REDIS_URL`` is unset.

**Single instance only**: each Granian worker has its own sessions, so a conversation
must stay on one worker (run one worker), and sessions are lost on restart. The behaviour
otherwise matches :class:`quipu_chat.sessions.SessionStore`: same ownership checks, TTL
refreshed on append, bounded storage. Every method runs without awaiting in between, so
each is atomic under asyncio.
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
    SessionForbidden,
    SessionInfo,
    SessionNotFound,
    Turn,
    check_context,
    may_access,
    new_session_id,
    utc_timestamp,
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
    """Sessions in a dict; ``clock`` (monotonic seconds) is injectable for tests."""

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
        self._sessions: dict[str, _Entry] = {}

    def _live(self, session_id: str) -> _Entry | None:
        validate_session_id(session_id)
        entry = self._sessions.get(session_id)
        if entry is not None and entry.expires_at <= self._clock():
            del self._sessions[session_id]
            return None
        return entry

    def _entry(self, session_id: str, caller: CompanyScope) -> _Entry:
        entry = self._live(session_id)
        if entry is None:
            raise SessionNotFound(session_id)
        if not may_access(caller, entry.owner):
            raise SessionForbidden(session_id)
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
        for sid in [s for s, e in self._sessions.items() if e.expires_at <= now]:
            del self._sessions[sid]

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
        self._sessions[session_id] = entry
        return entry

    async def create(
        self,
        *,
        owner: str,
        context: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> SessionInfo:
        sid = session_id or new_session_id()
        entry = self._live(sid)
        if entry is None:
            entry = self._new(sid, owner, context)
        elif entry.owner != owner:
            raise SessionForbidden(sid)
        return self._info(sid, entry)

    async def open(
        self,
        session_id: str,
        *,
        caller: CompanyScope,
        owner: str,
        context: Mapping[str, Any] | None = None,
    ) -> SessionInfo:
        entry = self._live(session_id)
        if not may_access(caller, owner):  # never create what the caller could not open
            raise SessionForbidden(session_id)
        if entry is None:
            entry = self._new(session_id, owner, context)
        elif not may_access(caller, entry.owner):
            raise SessionForbidden(session_id)
        elif context:
            entry.context.update(check_context(context) or {})
        return self._info(session_id, entry)

    async def get(self, session_id: str, *, caller: CompanyScope) -> SessionInfo:
        return self._info(session_id, self._entry(session_id, caller))

    async def append(self, session_id: str, turns: Sequence[Turn], *, caller: CompanyScope) -> int:
        entry = self._entry(session_id, caller)
        entry.turns.extend(turns)
        entry.total += len(turns)
        entry.expires_at = self._clock() + self.ttl_s
        return entry.total

    async def history(
        self, session_id: str, *, caller: CompanyScope, window: int | None = None
    ) -> History:
        entry = self._entry(session_id, caller)
        return self._window_of(self._info(session_id, entry), list(entry.turns), window)

    async def delete(self, session_id: str, *, caller: CompanyScope) -> bool:
        entry = self._live(session_id)
        if entry is None:
            return False
        if not may_access(caller, entry.owner):
            raise SessionForbidden(session_id)
        del self._sessions[session_id]
        return True

    async def update_context(
        self,
        session_id: str,
        context: Mapping[str, Any],
        *,
        caller: CompanyScope,
        replace: bool = False,
    ) -> None:
        entry = self._entry(session_id, caller)
        plain = check_context(context) or {}
        if replace:
            entry.context = plain
        else:
            entry.context.update(plain)

    async def set_summary(
        self, session_id: str, summary: str, *, covers: int, caller: CompanyScope
    ) -> None:
        entry = self._entry(session_id, caller)
        entry.summary, entry.summary_covers = summary, int(covers)
