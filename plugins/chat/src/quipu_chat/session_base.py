"""Chat session records, errors, ownership rules and the store interface.

The stores are :class:`quipu_chat.sessions.SessionStore` (Redis) and
:class:`quipu_chat.memory_sessions.MemorySessionStore`. Sessions live **under their
owner**: the company the request acts for, or the key's company scope when it names none
(:func:`owner_for`). The owner is part of the session's storage key, so the same id in two
companies names two sessions: no company can read, take over or lock out another's
session by using (or guessing) its id, neither while it exists nor after it expired or
Redis lost its data. Every read and write names the owner and the caller; a caller whose
key may not act for that owner gets :class:`SessionForbidden` before anything is read,
an unknown or expired id under that owner :class:`SessionNotFound`. Deleting is
idempotent.

Server-issued ids are random UUIDs (122 bits from the OS's CSPRNG). Each append refreshes
the TTL; reads do not. Message content is never logged.
"""

from __future__ import annotations

import abc
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import msgspec

__all__ = [
    "ANY_COMPANY",
    "SESSION_ID_PATTERN",
    "BaseSessionStore",
    "CompanyScope",
    "History",
    "SessionError",
    "SessionForbidden",
    "SessionInfo",
    "SessionNotFound",
    "Turn",
    "check_context",
    "may_access",
    "new_session_id",
    "owner_for",
    "utc_timestamp",
    "validate_owner",
    "validate_session_id",
]

#: Owner of sessions created by a key that may act for every company.
ANY_COMPANY = "*"
#: Session ids we accept: UUIDs and the Odoo wizard's ``chat_<uid>_<8 hex>``.
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
#: Owner labels: ``*`` or company ids, ascending, comma-separated.
_OWNER_PATTERN = re.compile(r"^(\*|[0-9]+(,[0-9]+)*)$")


def validate_session_id(session_id: str) -> str:
    """Return ``session_id`` if acceptable, else raise ValueError saying what is allowed.

    Every store method checks its id with this, so no id can reach a Redis key that
    was not validated.
    """
    if not SESSION_ID_PATTERN.match(session_id):
        shown = session_id if len(session_id) <= 40 else session_id[:40] + "…"
        raise ValueError(
            f"session_id {shown!r} is not valid: use 1 to 128 letters, digits, '_', '-', "
            "'.' or ':', starting with a letter or digit (a UUID works), or leave it out "
            "to start a new session"
        )
    return session_id


def utc_timestamp() -> str:
    """Now as ISO 8601, naive UTC (the original service's ``timestamp`` format)."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat()


def validate_owner(owner: str) -> str:
    """Return ``owner`` if it is an owner label :func:`owner_for` makes, else ValueError.

    Stores check it, so nothing but ``*`` or company ids reaches a Redis key.
    """
    if not _OWNER_PATTERN.match(owner):
        raise ValueError(f"session owner {owner[:40]!r} is not '*' or company ids")
    return owner


def new_session_id() -> str:
    """A fresh, unguessable session id: a version-4 UUID of 122 bits from ``secrets``."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


class Turn(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One message of a conversation, as stored.

    Attributes:
        role: ``user`` or ``assistant``.
        content: The text, exactly as sent or answered.
        timestamp: ISO 8601 naive UTC.
        skill: Key of the skill that answered (assistant turns), e.g. ``dte.dte``.
    """

    role: Literal["user", "assistant"]
    content: str
    timestamp: str = msgspec.field(default_factory=utc_timestamp)
    skill: str | None = None


class SessionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What is known about a session, without its messages.

    Attributes:
        message_count: Messages ever appended (including those trimmed from storage).
        ttl_s: Seconds left before it expires (-1: no expiry set).
        summary: A summary of older turns, if one was saved, covering the first
            ``summary_covers`` messages.
    """

    session_id: str
    owner: str
    created_at: str
    context: dict[str, Any] | None
    message_count: int
    ttl_s: int
    summary: str | None = None
    summary_covers: int = 0


class History(msgspec.Struct, frozen=True, kw_only=True):
    """The recent window of a conversation and what lies before it.

    Attributes:
        turns: The last messages, oldest first, starting with a user message (the model
            API requires it), at most the window's size.
        total: Messages ever appended.
        older: Messages before the window (``total - len(turns)``), which the model does
            not see verbatim; :attr:`summary` may stand in for them.
    """

    session: SessionInfo
    turns: tuple[Turn, ...]
    total: int
    older: int

    @property
    def summary(self) -> str | None:
        """The saved summary of older turns, if it covers any of them."""
        return self.session.summary if self.older and self.session.summary_covers else None


class SessionError(Exception):
    """Base of session errors; ``session_id`` names the session."""

    def __init__(self, session_id: str, message: str) -> None:
        super().__init__(message)
        self.session_id = session_id


class SessionNotFound(SessionError):
    """No such session (never created, expired or deleted)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(session_id, f"chat session {session_id!r} does not exist or expired")


class SessionForbidden(SessionError):
    """The caller's key may not act for the company the session would belong to."""

    def __init__(self, session_id: str, owner: str = "") -> None:
        whose = "every company" if owner == ANY_COMPANY else f"company {owner}"
        super().__init__(
            session_id,
            f"chat session {session_id!r} of {whose if owner else 'that company'} is closed "
            "to this API key: it may not act for that company; use a key of that company",
        )


class CompanyScope(Protocol):
    """The caller as sessions see it (:class:`quipu.Principal` fits)."""

    @property
    def companies(self) -> frozenset[int] | None:
        """Companies the key may act for; None for every company."""


def owner_for(caller: CompanyScope, company_id: int | str | None = None) -> str:
    """The owner label of a session the caller creates.

    ``company_id`` (e.g. from the request context) wins when given; the route must have
    checked the caller may act for it. Otherwise the key's scope: ``*`` for a full-access
    key, ``"1"`` or ``"1,2"`` for a scoped one.
    """
    if company_id is not None:
        return str(int(company_id))
    if caller.companies is None:
        return ANY_COMPANY
    return ",".join(str(c) for c in sorted(caller.companies))


def may_access(caller: CompanyScope, owner: str) -> bool:
    """Whether ``caller`` may read or write a session owned by ``owner``.

    A full-access key may access every session; a scoped key only sessions whose every
    owning company is in its scope (never ``*``-owned ones).
    """
    if caller.companies is None:
        return True
    if owner == ANY_COMPANY or not owner:
        return False
    try:
        return all(int(c) in caller.companies for c in owner.split(","))
    except ValueError:
        return False


def check_context(context: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return ``context`` as a plain dict of JSON-encodable values (TypeError otherwise)."""
    if context is None:
        return None
    plain = dict(context)
    try:
        msgspec.json.encode(plain)
    except (TypeError, msgspec.EncodeError) as exc:
        raise TypeError(f"session context must be JSON-encodable: {exc}") from None
    return plain


class BaseSessionStore(abc.ABC):
    """The session store interface, shared by the Redis and in-memory stores.

    Args:
        ttl_s: Seconds a session lives after its last append.
        window: Messages returned by :meth:`history` by default.
        max_stored: Messages kept per session (older ones are trimmed, still counted).
    """

    def __init__(self, *, ttl_s: int = 3600, window: int = 20, max_stored: int = 200) -> None:
        if ttl_s <= 0 or window <= 0 or max_stored < window:
            raise ValueError("need ttl_s > 0, window > 0 and max_stored >= window")
        self.ttl_s = int(ttl_s)
        self.window = window
        self.max_stored = max_stored

    @abc.abstractmethod
    async def create(
        self,
        *,
        owner: str,
        context: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> SessionInfo:
        """Create a session under ``owner`` (a new id unless ``session_id`` is given).

        An existing ``session_id`` of the same owner is returned as it is.
        """

    @abc.abstractmethod
    async def open(
        self,
        session_id: str,
        *,
        caller: CompanyScope,
        owner: str,
        context: Mapping[str, Any] | None = None,
    ) -> SessionInfo:
        """Get ``owner``'s session ``session_id``, creating it if it does not exist.

        For ``POST /api/chat`` and ``/api/chat/message`` with a client-chosen id. A given
        ``context`` is merged into the stored one (its keys win).

        Raises:
            SessionForbidden: ``caller`` may not act for ``owner`` (nothing is created).
        """

    async def open_history(
        self,
        session_id: str,
        *,
        caller: CompanyScope,
        owner: str,
        context: Mapping[str, Any] | None = None,
        window: int | None = None,
    ) -> History:
        """:meth:`open`, then :meth:`history`: what a chat message starts with.

        A store may do both at once (the Redis store does, in one round trip).
        """
        await self.open(session_id, caller=caller, owner=owner, context=context)
        return await self.history(session_id, owner=owner, caller=caller, window=window)

    @abc.abstractmethod
    async def get(self, session_id: str, *, owner: str, caller: CompanyScope) -> SessionInfo:
        """The session's metadata and context.

        Raises:
            SessionNotFound: unknown or expired under ``owner``.
            SessionForbidden: ``caller`` may not act for ``owner``.
        """

    @abc.abstractmethod
    async def append(
        self, session_id: str, turns: Sequence[Turn], *, owner: str, caller: CompanyScope
    ) -> int:
        """Append ``turns`` atomically and refresh the TTL; the new message count.

        Raises:
            SessionNotFound, SessionForbidden: as :meth:`get`.
        """

    @abc.abstractmethod
    async def history(
        self, session_id: str, *, owner: str, caller: CompanyScope, window: int | None = None
    ) -> History:
        """The last ``window`` messages (default: the store's), and the count before them.

        Raises:
            SessionNotFound, SessionForbidden: as :meth:`get`.
        """

    @abc.abstractmethod
    async def delete(self, session_id: str, *, owner: str, caller: CompanyScope) -> bool:
        """Delete history and context; False if there was nothing to delete.

        Raises:
            SessionForbidden: ``caller`` may not act for ``owner``.
        """

    @abc.abstractmethod
    async def update_context(
        self,
        session_id: str,
        context: Mapping[str, Any],
        *,
        owner: str,
        caller: CompanyScope,
        replace: bool = False,
    ) -> None:
        """Merge ``context`` into the stored one (top-level keys), or replace it.

        Raises:
            SessionNotFound, SessionForbidden: as :meth:`get`.
        """

    @abc.abstractmethod
    async def set_summary(
        self, session_id: str, summary: str, *, covers: int, owner: str, caller: CompanyScope
    ) -> None:
        """Save a summary of the first ``covers`` messages (shown in :class:`History`).

        Raises:
            SessionNotFound, SessionForbidden: as :meth:`get`.
        """

    @staticmethod
    def _admit(session_id: str, owner: str, caller: CompanyScope) -> None:
        """Validate the id and owner; SessionForbidden unless ``caller`` may act for ``owner``."""
        validate_session_id(session_id)
        validate_owner(owner)
        if not may_access(caller, owner):
            raise SessionForbidden(session_id, owner)

    def _window_of(self, info: SessionInfo, stored: Sequence[Turn], window: int | None) -> History:
        size = self.window if window is None else window
        turns = list(stored[-size:]) if size > 0 else []
        while turns and turns[0].role != "user":
            turns.pop(0)
        total = max(info.message_count, len(turns))
        return History(session=info, turns=tuple(turns), total=total, older=total - len(turns))
