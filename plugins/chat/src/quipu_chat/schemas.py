"""Request and response bodies of the chat routes, with the original service's field names.

Requests accept and ignore fields they do not know (ERP clients send extra keys). What is
checked, and the message that says how to fix it:

- ``message``: a string with some non-blank text, at most :data:`MESSAGE_HARD_LIMIT`
  characters when decoded; the configured ``max_message_chars`` and
  ``max_context_bytes`` are checked by :func:`check_limits` (the route answers 422).
  The text is data: it is never stripped of tags or rewritten (pasted XML arrives intact).
- ``session_id``: optional; a UUID or any 1–128 characters of letters, digits and
  ``_ - . :`` (the Odoo wizard sends ``chat_<uid>_<hex>``). An empty string means none.
- ``user_context`` / ``context``: free-form objects; ``context`` (the Odoo wizard's name)
  is an alias, and when both are given their keys are merged, ``user_context`` winning.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar, cast

import msgspec

from quipu_chat.config import ChatConfig
from quipu_chat.session_base import SESSION_ID_PATTERN, History, validate_session_id

__all__ = [
    "MAX_TOP_K",
    "MESSAGE_HARD_LIMIT",
    "SESSION_ID_PATTERN",
    "WELCOME_MESSAGE",
    "AnswerUsage",
    "ChatMessageRequest",
    "ChatRequest",
    "ChatResponse",
    "DeleteSessionResponse",
    "InputTooLarge",
    "KnowledgeResult",
    "KnowledgeSearchResponse",
    "NewSessionRequest",
    "NewSessionResponse",
    "SessionMessage",
    "SessionResponse",
    "SessionStats",
    "TokenUsage",
    "check_limits",
    "configured",
    "context_size",
    "message_field",
    "session_response",
    "validate_session_id",
]

#: Absolute ceiling checked while decoding; the configured limit is usually lower.
MESSAGE_HARD_LIMIT = 100_000
#: Some non-blank text (Python's ``re``, as JSON Schema validators here read it too).
_NOT_BLANK = re.compile(r"\S")
#: Largest ``top_k`` of the knowledge search.
MAX_TOP_K = 20
WELCOME_MESSAGE = (
    "¡Hola! Soy tu asistente para Odoo en Chile: facturación electrónica, remuneraciones "
    "e indicadores Previred. ¿En qué puedo ayudarte hoy?"
)


_R = TypeVar("_R", bound="ChatMessageRequest")


class InputTooLarge(ValueError):
    """A message or context over the configured limit; ``str(exc)`` says how to fix it."""


_CONTEXT_DOC = (
    "free-form object; at most `[plugins.chat] max_context_bytes` (64 KiB by default) as "
    "compact JSON"
)
Context = Annotated[dict[str, Any], msgspec.Meta(extra_json_schema={"description": _CONTEXT_DOC})]
#: ``session_id`` of a request: a valid id (:data:`SESSION_ID_PATTERN`), or empty for none.
SessionIdInput = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={
            "description": "the session to continue; left out, null or empty: a new one",
            # Checked in __post_init__ (validate_session_id), with a message that says how.
            "extra": {"pattern": f"({SESSION_ID_PATTERN.pattern})|(^$)"},
        }
    ),
]


class _ContextInput(msgspec.Struct, kw_only=True):
    user_context: Context | None = None
    context: Context | None = None

    @property
    def effective_context(self) -> dict[str, Any] | None:
        """``context`` and ``user_context`` merged (``user_context`` wins), or None."""
        if self.context is None and self.user_context is None:
            return None
        return {**(self.context or {}), **(self.user_context or {})}

    @property
    def module(self) -> str | None:
        """The ERP module named in the context (``context.module``), if any."""
        value = (self.effective_context or {}).get("module")
        return value.strip() if isinstance(value, str) and value.strip() else None

    @property
    def company_id(self) -> int | None:
        """The company named in the context (``user.company_id`` or ``company_id``)."""
        ctx = self.effective_context or {}
        user = ctx.get("user")
        value = user.get("company_id") if isinstance(user, dict) else None
        value = ctx.get("company_id") if value is None else value
        if isinstance(value, dict):  # many2one as {"id", "name"}
            value = value.get("id")
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return None


class NewSessionRequest(_ContextInput, kw_only=True):
    """``POST /api/chat/session/new``: ``{"user_context": {...}}`` (optional)."""


class ChatMessageRequest(_ContextInput, kw_only=True):
    """``POST /api/chat/message`` and ``/api/chat/message/stream``."""

    message: str
    session_id: SessionIdInput | None = None

    def __post_init__(self) -> None:
        if not _NOT_BLANK.search(self.message):
            raise ValueError("message is empty: send the question as non-blank text in 'message'")
        if len(self.message) > MESSAGE_HARD_LIMIT:
            raise ValueError(
                f"message has {len(self.message)} characters; the limit is "
                f"{MESSAGE_HARD_LIMIT}: shorten it or split it into several messages"
            )
        if self.session_id == "":
            self.session_id = None
        if self.session_id is not None:
            validate_session_id(self.session_id)


def message_field(config: ChatConfig) -> Any:
    """The ``message`` field as the routes of ``config`` check it, stated for OpenAPI.

    The checks stay in code (``__post_init__`` and :func:`check_limits`, with messages
    that say how to fix the input); this only publishes them: some non-blank text, at most
    ``max_message_chars``.
    """
    limit = min(config.max_message_chars, MESSAGE_HARD_LIMIT)
    schema = {"min_length": 1, "max_length": limit, "pattern": _NOT_BLANK.pattern}
    return Annotated[
        str,
        msgspec.Meta(
            extra_json_schema={"description": "the question (non-blank)", "extra": schema}
        ),
    ]


def configured(base: type[_R], config: ChatConfig) -> type[_R]:
    """``base`` (a request type) with its ``message`` limits as ``config`` sets them.

    Same name, fields and checks: only the published schema differs (see
    :func:`message_field`).
    """
    made = msgspec.defstruct(
        base.__name__,
        [("message", message_field(config))],
        bases=(base,),
        kw_only=True,
        module=base.__module__,
    )
    made.__doc__ = base.__doc__
    return cast("type[_R]", made)


class ChatRequest(ChatMessageRequest, kw_only=True):
    """``POST /api/chat``, the Odoo universal chat wizard (§7.3 of the reference).

    ``{"message", "session_id": "chat_<uid>_<hex>", "context": {...}, "stream": true}``.
    The wizard sends ``stream: true`` yet reads ``response.json()["message"]``, so the
    answer is JSON unless the client also sends ``Accept: text/event-stream``; then it is
    the event stream of ``/api/chat/message/stream``.
    """

    stream: Annotated[
        bool,
        # Litestar decodes bodies leniently: msgspec also reads 0/1 and "true"/"false"/"0"/"1"
        # (any case) as booleans. Publish that, so the schema is what is accepted.
        msgspec.Meta(
            extra_json_schema={
                "extra": {
                    "type": None,  # the forms below, not only "boolean"
                    "one_of": [
                        {"type": "boolean"},
                        {"type": "integer", "enum": [0, 1]},
                        {
                            "type": "string",
                            "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|0|1)$",
                        },
                    ],
                }
            }
        ),
    ] = False


def context_size(context: dict[str, Any] | None) -> int:
    """Size of ``context`` as compact JSON, in bytes."""
    return 0 if context is None else len(msgspec.json.encode(context))


def check_limits(request: ChatMessageRequest | NewSessionRequest, config: ChatConfig) -> None:
    """Check the configured size limits of a decoded request.

    Raises:
        InputTooLarge: the message or the context is too large; the text says by how much
            and what to do (the route answers 422 with it as ``detail``).
    """
    message = getattr(request, "message", None)
    if isinstance(message, str) and len(message) > config.max_message_chars:
        raise InputTooLarge(
            f"message has {len(message)} characters; the limit is "
            f"{config.max_message_chars}: shorten it or split it into several messages"
        )
    size = context_size(request.effective_context)
    if size > config.max_context_bytes:
        raise InputTooLarge(
            f"context is {size} bytes of JSON; the limit is {config.max_context_bytes}: "
            "send only the fields the assistant needs (for example, leave out "
            "active_record_data)"
        )


# --- responses ---------------------------------------------------------------------------


class TokenUsage(msgspec.Struct, kw_only=True):
    """Tokens of one answer (``tokens_used``), the original service's names.

    ``input_tokens`` are the input tokens read at full price (Anthropic's meaning: cache
    reads and writes are counted apart); ``total_tokens`` is every token of the answer:
    input, cache reads, cache writes and output, over all of its model calls.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0


class AnswerUsage(msgspec.Struct, kw_only=True):
    """``usage``: what one answer cost, with Anthropic's field names, over all its calls.

    Attributes:
        input_tokens: Input tokens at full price (not read from nor written to the cache).
        cache_read_input_tokens: Input tokens read from the prompt cache.
        cache_creation_input_tokens: Input tokens written to the prompt cache.
        llm_calls: Model calls made (one, plus one per tool round).
        tool_calls: Tool calls run (successful or not).
        cached: The answer came from the response cache: nothing was asked of the model
            and every count is 0.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0
    llm_calls: int = 0
    tool_calls: int = 0
    cached: bool = False

    def tokens_used(self) -> TokenUsage:
        """The same counts in the original's ``tokens_used`` shape."""
        total = (
            self.input_tokens
            + self.cache_read_input_tokens
            + self.cache_creation_input_tokens
            + self.output_tokens
        )
        return TokenUsage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            total_tokens=total,
            cache_read_tokens=self.cache_read_input_tokens,
            cache_creation_tokens=self.cache_creation_input_tokens,
        )


class ChatResponse(msgspec.Struct, kw_only=True):
    """Answer of ``/api/chat/message`` and ``/api/chat``: the original's fields, then ours.

    ``plugin_used`` and ``skill`` are the key of the skill that answered (``dte.dte``,
    ``chat.general``); ``sources`` the titles of the knowledge documents whose passages
    the model was given; ``confidence`` is explained in :mod:`quipu_chat.confidence`, and
    ``confidence_reasons`` adds up to it; ``usage`` is :class:`AnswerUsage`.
    """

    message: str
    sources: list[str]
    confidence: float
    session_id: str
    llm_used: str = "anthropic"
    tokens_used: TokenUsage | None = None
    plugin_used: str | None = None
    skill: str | None = None
    usage: AnswerUsage | None = None
    confidence_reasons: list[str] = msgspec.field(default_factory=list)


class NewSessionResponse(msgspec.Struct, kw_only=True):
    """Answer of ``POST /api/chat/session/new``."""

    session_id: str
    welcome_message: str = WELCOME_MESSAGE


class SessionMessage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One stored message: ``timestamp`` is ISO 8601, naive UTC, as the original sent."""

    role: Literal["user", "assistant"]
    content: str
    timestamp: str
    plugin_used: str | None = None


class SessionStats(msgspec.Struct, kw_only=True):
    """``stats`` of ``GET /api/chat/session/{id}``."""

    session_id: str
    message_count: int
    ttl_remaining_seconds: int
    exists: bool


class SessionResponse(msgspec.Struct, kw_only=True):
    """Answer of ``GET /api/chat/session/{id}`` (an unknown id: empty, ``exists`` false)."""

    session_id: str
    message_count: int
    messages: list[SessionMessage]
    stats: SessionStats


class DeleteSessionResponse(msgspec.Struct, kw_only=True):
    """Answer of ``DELETE /api/chat/session/{id}`` (always 200 for the owner)."""

    session_id: str
    status: str = "cleared"
    message: str = "Session history and context deleted"


class KnowledgeResult(msgspec.Struct, kw_only=True):
    """One passage found by ``GET /api/chat/knowledge/search``.

    ``content`` is the passage, not the whole document; ``module`` the plugin that lent
    the document; ``file_path`` the document id (``<plugin>.<id>``).
    """

    id: str
    title: str
    module: str
    tags: list[str]
    content: str
    file_path: str
    heading: str = ""
    score: float = 0.0


class KnowledgeSearchResponse(msgspec.Struct, kw_only=True):
    """Answer of ``GET /api/chat/knowledge/search?query=&top_k=``."""

    query: str
    results_found: int
    results: list[KnowledgeResult]


def session_response(session_id: str, history: History | None) -> SessionResponse:
    """``GET /api/chat/session/{id}`` from a history (None: unknown id, ``exists`` false).

    ``message_count`` counts the messages listed; ``stats.message_count`` every message
    the session ever had (older ones may have been trimmed from storage).
    """
    if history is None:
        stats = SessionStats(
            session_id=session_id, message_count=0, ttl_remaining_seconds=0, exists=False
        )
        return SessionResponse(session_id=session_id, message_count=0, messages=[], stats=stats)
    messages = [
        SessionMessage(role=t.role, content=t.content, timestamp=t.timestamp, plugin_used=t.skill)
        for t in history.turns
    ]
    stats = SessionStats(
        session_id=session_id,
        message_count=history.total,
        ttl_remaining_seconds=max(0, history.session.ttl_s),
        exists=True,
    )
    return SessionResponse(
        session_id=session_id, message_count=len(messages), messages=messages, stats=stats
    )
