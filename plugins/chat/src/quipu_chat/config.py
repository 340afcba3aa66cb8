"""The ``[plugins.chat]`` section of ``platform.toml``.

Every key has a default, so the section may be left out. Example::

    [plugins.chat]
    session_ttl_s = 7200
    max_message_chars = 6000

    [plugins.chat.module_map]      # merged over DEFAULT_MODULE_MAP
    stock = "general"
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import msgspec

__all__ = ["DEFAULT_MODULE_MAP", "GENERAL", "ChatConfig"]

#: The skill that answers when nothing else fits (defined by the chat plugin itself).
GENERAL = "general"

#: Odoo module names (as the ERP sends them in ``context.module``) → skill name.
#: A value names a skill by its registry key (``dte.dte``), by its plugin (``dte``: that
#: plugin's skill) or by its local name; ``general`` is the chat plugin's own skill.
#: Modules not listed here are routed by keywords (see :mod:`quipu_chat.routing`).
DEFAULT_MODULE_MAP: Mapping[str, str] = MappingProxyType(
    {
        "l10n_cl_dte": "dte",
        "l10n_cl_edi": "dte",
        "l10n_cl": "dte",
        "account": "dte",
        "purchase": "dte",
        "hr_payroll": "payroll",
        "l10n_cl_hr_payroll": "payroll",
        "hr_economic_indicators": "previred",
        "l10n_cl_previred": "previred",
        "previred": "previred",
    }
)


class ChatConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Settings of the chat plugin.

    Attributes:
        session_ttl_s: Seconds a session lives after its last message (each append
            refreshes it).
        max_message_chars: Longest accepted user message; longer ones answer 422 with the
            limit in the message.
        max_context_bytes: Largest accepted ``user_context``/``context`` object, measured
            as compact JSON (the ERP may send a whole record in ``active_record_data``).
        history_window: Messages (user and assistant each count one) sent verbatim to the
            model; older ones stay counted and may be summarised.
        max_stored_messages: Messages kept in Redis per session (oldest trimmed first).
        max_tool_rounds: Tool-use round trips allowed for one answer.
        knowledge_top_k: Passages of the knowledge base given to the model per question.
        passage_chars: Target size of a knowledge passage, in characters.
        module_map: Extra or overriding ``module → skill`` entries, merged over
            :data:`DEFAULT_MODULE_MAP` (see :attr:`modules`).
        keepalive_s: Seconds of silence before the stream sends an SSE comment.
        cache_min_confidence: Answers to stateless questions are cached only with a
            confidence strictly above this (see :mod:`quipu_chat.confidence`).
        max_answer_tokens: ``max_tokens`` of each model call (one answer may take several
            calls when tools run).
        tool_timeout_s: Longest a tool call may run; a slower one is reported to the
            model as a failed call.
        general_tools: Whether the general skill (questions no specialist claims) may
            call every tool the plugins lend; a specialist always gets its own tools.
        model: The model the assistant uses; empty: the platform's ``[llm] model``.
    """

    session_ttl_s: int = 3600
    max_message_chars: int = 8000
    max_context_bytes: int = 64 * 1024
    history_window: int = 20
    max_stored_messages: int = 200
    max_tool_rounds: int = 4
    knowledge_top_k: int = 3
    passage_chars: int = 1200
    module_map: dict[str, str] = msgspec.field(default_factory=dict)
    keepalive_s: float = 5.0
    cache_min_confidence: int = 80
    max_answer_tokens: int = 2048
    tool_timeout_s: float = 20.0
    general_tools: bool = True
    model: str = ""

    def __post_init__(self) -> None:
        positive = {
            "session_ttl_s": self.session_ttl_s,
            "max_message_chars": self.max_message_chars,
            "max_context_bytes": self.max_context_bytes,
            "history_window": self.history_window,
            "max_stored_messages": self.max_stored_messages,
            "knowledge_top_k": self.knowledge_top_k,
            "passage_chars": self.passage_chars,
            "keepalive_s": self.keepalive_s,
            "max_answer_tokens": self.max_answer_tokens,
            "tool_timeout_s": self.tool_timeout_s,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} = {value}: use a positive number")
        if self.max_tool_rounds < 0:
            raise ValueError(f"max_tool_rounds = {self.max_tool_rounds}: use 0 or more")
        if self.history_window > self.max_stored_messages:
            raise ValueError(
                f"history_window ({self.history_window}) exceeds max_stored_messages "
                f"({self.max_stored_messages}): raise max_stored_messages or lower the window"
            )
        if not 0 <= self.cache_min_confidence <= 100:
            raise ValueError("cache_min_confidence must be between 0 and 100")

    @property
    def modules(self) -> Mapping[str, str]:
        """The effective module map: the defaults with :attr:`module_map` merged over."""
        return MappingProxyType({**DEFAULT_MODULE_MAP, **self.module_map})
