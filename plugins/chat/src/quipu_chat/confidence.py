"""``confidence``: how well an answer is grounded, 0–100, from facts we can name.

The original service scored answer length and formatting. Here the score counts the
evidence the model was given and how the answer ended; every point has a reason
(:attr:`Confidence.reasons`), so a number can always be explained.

====================================  ==========================================
Evidence                              Effect
====================================  ==========================================
model answered (base)                 40
knowledge passages given to it        +30 first, +10 second, +5 third
tool calls that returned a result     +25 first, +10 each further (at most +35)
each tool call that failed            -25, and the score is capped at 50
answer hedges ("no estoy seguro")     -25
answer declines ("no tengo información")  capped at 20
stop: ``end_turn``/``stop_sequence``  no change
stop: ``max_tokens`` (cut short)      -30
stop: ``tool_use``/``pause_turn``     capped at 40 (tool rounds ran out)
stop: ``refusal`` or no answer        0
====================================  ==========================================

The result is clamped to 0–100. So: an ungrounded answer is 40; one passage 70; three
passages 85; a successful tool call plus a passage 95.

**Response cache.** An answer is cached (300 s, per company) only if the question was
*stateless* — first message of its session, no tool call, and no context beyond
company-level keys (:data:`STATELESS_CONTEXT_KEYS`) — and its confidence is above 80:
in practice a question answered from three knowledge passages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from quipu_chat.text import words

__all__ = [
    "DECLINES",
    "HEDGES",
    "STATELESS_CONTEXT_KEYS",
    "Confidence",
    "Evidence",
    "assess_answer",
    "confidence",
    "is_cacheable",
    "is_stateless",
]

BASE = 40
PASSAGE_POINTS = (30, 10, 5)
TOOL_FIRST, TOOL_MORE, TOOL_MAX = 25, 10, 35

#: Phrases (accent- and case-insensitive, whole words) that mark an uncertain answer.
HEDGES = (
    "no estoy seguro",
    "no estoy segura",
    "no tengo certeza",
    "quizas",
    "tal vez",
    "posiblemente",
    "probablemente",
    "podria ser",
    "es posible que",
    "not sure",
    "maybe",
    "perhaps",
)
#: Phrases that mark an answer declining to answer or lacking the information.
DECLINES = (
    "no tengo informacion",
    "no tengo esa informacion",
    "no dispongo de informacion",
    "no cuento con informacion",
    "no puedo ayudarte con",
    "no puedo responder",
    "fuera de mi alcance",
    "i don't have information",
    "i cannot answer",
)
#: Context keys that do not make a question user- or record-specific.
STATELESS_CONTEXT_KEYS = frozenset(
    {"company_name", "company_rut", "environment", "language", "module", "user_role"}
)


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """What an answer was built on and how it ended.

    Attributes:
        passages: Knowledge passages given to the model for this question.
        tool_ok: Tool calls that returned a result.
        tool_failed: Tool calls that raised or returned an error.
        hedged: The answer expresses uncertainty (see :func:`assess_answer`).
        declined: The answer declines or says it lacks the information.
        stop_reason: The model's last ``stop_reason``; None when there is no answer.
    """

    passages: int = 0
    tool_ok: int = 0
    tool_failed: int = 0
    hedged: bool = False
    declined: bool = False
    stop_reason: str | None = "end_turn"


class Confidence(msgspec.Struct, frozen=True, kw_only=True):
    """A score and the reasons that add up to it."""

    score: int
    reasons: tuple[str, ...]


def _padded(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(" " + " ".join(words(p)) + " " for p in phrases)


# Folded once; " a b " in " x a b y " is the same whole-word test as _phrase_in, in one
# substring search per phrase instead of a list slice per word (this runs per answer).
_HEDGES_PADDED = _padded(HEDGES)
_DECLINES_PADDED = _padded(DECLINES)


def assess_answer(text: str) -> tuple[bool, bool]:
    """``(hedged, declined)`` for an answer's text, by :data:`HEDGES` and :data:`DECLINES`."""
    found = " " + " ".join(words(text)) + " "
    return (
        any(p in found for p in _HEDGES_PADDED),
        any(p in found for p in _DECLINES_PADDED),
    )


def confidence(evidence: Evidence) -> Confidence:
    """Score ``evidence`` by the table in the module docstring."""
    if evidence.stop_reason in (None, "refusal"):
        return Confidence(score=0, reasons=(f"no usable answer (stop {evidence.stop_reason})",))
    score, reasons, cap = BASE, [f"+{BASE} answered"], 100
    knowledge = sum(PASSAGE_POINTS[: max(0, evidence.passages)])
    if knowledge:
        score += knowledge
        reasons.append(f"+{knowledge} {evidence.passages} knowledge passage(s)")
    if evidence.tool_ok > 0:
        tools = min(TOOL_MAX, TOOL_FIRST + TOOL_MORE * (evidence.tool_ok - 1))
        score += tools
        reasons.append(f"+{tools} {evidence.tool_ok} tool result(s)")
    if evidence.tool_failed > 0:
        score -= 25 * evidence.tool_failed
        cap = min(cap, 50)
        reasons.append(f"-{25 * evidence.tool_failed} {evidence.tool_failed} failed tool call(s)")
    if evidence.hedged:
        score -= 25
        reasons.append("-25 answer hedges")
    if evidence.declined:
        cap = min(cap, 20)
        reasons.append("capped at 20: answer declines")
    if evidence.stop_reason == "max_tokens":
        score -= 30
        reasons.append("-30 cut short (max_tokens)")
    elif evidence.stop_reason in ("tool_use", "pause_turn"):
        cap = min(cap, 40)
        reasons.append("capped at 40: tool rounds ran out")
    elif evidence.stop_reason not in ("end_turn", "stop_sequence"):
        score -= 10
        reasons.append(f"-10 unusual stop ({evidence.stop_reason})")
    return Confidence(score=max(0, min(score, cap, 100)), reasons=tuple(reasons))


def is_stateless(
    *, prior_messages: int, tool_calls: int, context: Mapping[str, Any] | None
) -> bool:
    """Whether the answer depends only on the question (and the company).

    True for the first message of a session, answered without tools, whose context holds
    only :data:`STATELESS_CONTEXT_KEYS` (no user, no active record).
    """
    extra = set(context or {}) - STATELESS_CONTEXT_KEYS
    return prior_messages == 0 and tool_calls == 0 and not extra


def is_cacheable(score: int | float, *, stateless: bool, threshold: int = 80) -> bool:
    """The response-cache rule: a stateless question answered with confidence > threshold."""
    return stateless and score > threshold
