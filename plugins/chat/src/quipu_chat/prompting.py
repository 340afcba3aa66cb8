"""What the model is sent: system blocks, the conversation, and the prompt-cache breakpoints.

A request is laid out from the most stable part to the least, which is what a prompt cache
rewards (a cached prefix is reused only up to the first byte that differs):

1. ``tools``: the answering skill's tools, sorted by name (:mod:`quipu_chat.tools`);
2. ``system``: the platform's data rule (:data:`quipu.llm.prompts.DATA_RULE`), the
   assistant's persona (``prompts/persona.md``) and the skill's system prompt: the same
   for every question a skill answers. **Breakpoint 1** after it.
3. the history window from the session store, verbatim, oldest first: the same for every
   question of a conversation, growing by one exchange per question. **Breakpoint 2** on
   its last message, so the next question reads the whole earlier conversation from the
   cache.
4. the new user turn: the knowledge passages found for this question
   (``<data name="conocimiento">``), the session context (``<data name="contexto">``)
   and, last and untouched, the user's own text. **Breakpoint 3** on its last block when
   tools are offered, so a tool round (which re-sends all of it) reads it from the cache.
   Without tools it is left out: a cache write costs 25% more than plain input, and the
   next question would not reuse this turn (it is stored without its passages).

During tool rounds the assistant's ``tool_use`` turn and the user's ``tool_result`` turn
are appended and breakpoint 3 moves to the last message: at most 3 of the 4 breakpoints
Anthropic allows are ever used. Passages and context sit in the last turn because they
change from question to question: placed before the history they would spoil its cache on
every question. A history message that the model answered in an earlier turn is sent as
stored: the passages it was given then are not repeated.

Untrusted text (context, passages, tool results) only ever appears inside ``<data>``
elements (:func:`quipu.llm.prompts.data_block`), never in the system instructions; the
user's message is sent exactly as typed (pasted XML arrives intact).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from importlib import resources
from typing import Any, Literal

from quipu.api import DATA_RULE, data_block, system_blocks

from quipu_chat.knowledge import Passage, format_passages
from quipu_chat.records import ChatSkill
from quipu_chat.session_base import History

__all__ = [
    "PERSONA",
    "Conversation",
    "context_for_model",
    "prompt_digest",
    "skill_text",
    "system_texts",
]

#: The assistant's persona and answering rules, shared by every skill (Spanish).
PERSONA = (resources.files("quipu_chat") / "prompts" / "persona.md").read_text(encoding="utf-8")
#: Context keys that say nothing to the model (the ERP repeats the session id in it).
HIDDEN_CONTEXT_KEYS = frozenset({"session_id"})
EMPTY_TURN = "(mensaje vacío)"


def skill_text(skill: ChatSkill) -> str:
    """The skill's part of the system prompt: its description as a heading, then its prompt."""
    return f"# Especialidad: {skill.description}\n\n{skill.system_prompt.strip()}"


def system_texts(skill: ChatSkill) -> list[str]:
    """The system blocks' texts, in order: data rule, persona, skill."""
    return [DATA_RULE, PERSONA.strip(), skill_text(skill)]


def prompt_digest(skill: ChatSkill) -> str:
    """A short digest of the system prompt: answers cached under another prompt are stale."""
    return blake2b("\x00".join(system_texts(skill)).encode(), digest_size=8).hexdigest()


def context_for_model(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """The session context as the model sees it (without keys that carry nothing)."""
    return {k: v for k, v in (context or {}).items() if k not in HIDDEN_CONTEXT_KEYS}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


@dataclass
class Conversation:
    """The ``system`` and ``messages`` of one answer; grows by one exchange per tool round.

    Args:
        skill: The answering skill.
        history: The session's recent window.
        message: The user's new message, verbatim.
        passages: Knowledge passages found for it.
        context: The session context (already merged with the request's).
        ttl: The prompt cache TTL of every breakpoint.
        cache_last: Put breakpoint 3 on the last message (when tools are offered).
    """

    skill: ChatSkill
    history: History | None
    message: str
    passages: Sequence[Passage] = ()
    context: Mapping[str, Any] | None = None
    ttl: Literal["5m", "1h"] = "5m"
    cache_last: bool = True
    messages: list[dict[str, Any]] = field(init=False)
    history_end: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        turns = self.history.turns if self.history is not None else ()
        self.messages = [
            {"role": t.role, "content": [_text(t.content if t.content.strip() else EMPTY_TURN)]}
            for t in turns
        ]
        if self.messages:
            self.history_end = len(self.messages) - 1
        self.messages.append({"role": "user", "content": self._question_blocks()})

    def _question_blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        summary = self.history.summary if self.history is not None else None
        if summary:
            blocks.append(_text(data_block("resumen de la conversación anterior", summary)))
        if self.passages:
            blocks.append(_text(data_block("conocimiento", format_passages(self.passages))))
        shown = context_for_model(self.context)
        if shown:
            blocks.append(_text(data_block("contexto", shown)))
        blocks.append(_text(self.message))
        return blocks

    @property
    def system(self) -> list[dict[str, Any]]:
        """The system blocks, with breakpoint 1 after the last."""
        return system_blocks(system_texts(self.skill), self.ttl)

    def request_messages(self) -> list[dict[str, Any]]:
        """The messages to send now, with breakpoints 2 and 3 set (copies; never stored)."""
        marks = {len(self.messages) - 1} if self.cache_last else set()
        if self.history_end is not None:
            marks.add(self.history_end)
        control: dict[str, Any] = {"type": "ephemeral"}
        if self.ttl == "1h":
            control["ttl"] = "1h"
        sent: list[dict[str, Any]] = []
        for index, message in enumerate(self.messages):
            if index in marks and message["content"]:
                content = list(message["content"])
                content[-1] = {**content[-1], "cache_control": control}
                message = {**message, "content": content}
            sent.append(message)
        return sent

    def add_tool_round(
        self, assistant_content: Sequence[Mapping[str, Any]], results: Sequence[dict[str, Any]]
    ) -> None:
        """Append the model's ``tool_use`` turn and the user turn with its ``tool_result``s."""
        content = [
            dict(block)
            for block in assistant_content
            if not (block.get("type") == "text" and not str(block.get("text", "")).strip())
        ]
        self.messages.append({"role": "assistant", "content": content})
        self.messages.append({"role": "user", "content": list(results)})
