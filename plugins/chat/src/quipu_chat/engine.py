"""The conversation loop: choose a skill, find passages, ask the model, run its tools.

One answer is:

1. :meth:`ChatEngine.plan`: the skill (:mod:`quipu_chat.routing`: ERP module, keywords,
   general), the ``knowledge_top_k`` best passages for the message (cited as ``sources``),
   the tools offered, and the :class:`~quipu_chat.prompting.Conversation` to send.
2. :meth:`ChatEngine.run`: call the model through the platform's LLM gateway. While it
   stops with ``tool_use`` and fewer than ``max_tool_rounds`` tool rounds have run, run the
   requested tools (:mod:`quipu_chat.tools`), send their results back and call again. The
   text of every call is the answer (joined by a blank line). With ``emit`` every call is
   streamed and its text deltas are passed on as they arrive; tools still run between
   calls, so a model that writes "voy a validar el documento" before calling a tool
   shows that line at once.
3. The confidence of the answer (:mod:`quipu_chat.confidence`) from the passages given,
   the tool results and how the last call ended; whether the question was stateless.

Nothing here touches sessions or HTTP: the routes do (:mod:`quipu_chat.routes`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from quipu.api import LlmGateway, LlmResult, estimate_tokens

from quipu_chat.confidence import (
    STATELESS_CONTEXT_KEYS,
    Evidence,
    assess_answer,
    confidence,
    is_cacheable,
    is_stateless,
)
from quipu_chat.config import ChatConfig
from quipu_chat.knowledge import KnowledgeBase, Passage, sources
from quipu_chat.prompting import Conversation, context_for_model, prompt_digest, system_texts
from quipu_chat.records import ChatSkill, ChatTool, KnowledgeDocument
from quipu_chat.routing import GENERAL_SKILL_KEY, SkillRouter, with_general
from quipu_chat.schemas import AnswerUsage
from quipu_chat.session_base import History
from quipu_chat.tools import ToolContext, ToolRunner, all_tools, tool_definitions, tools_for

__all__ = ["Answer", "ChatEngine", "Emit", "Plan"]

log = logging.getLogger("quipu.chat")

#: Receives each text delta of a streamed answer.
Emit = Callable[[str], None]

#: Said when the model gave no text at all (it only called tools, or was cut off at once).
NO_TEXT = (
    "No pude completar la respuesta: intenta de nuevo, o reformula la pregunta con más detalle."
)
ROUNDS_EXHAUSTED = (
    "No alcancé a completar la consulta con las herramientas disponibles en los pasos "
    "permitidos: prueba con una pregunta más acotada."
)


class Answer(msgspec.Struct, kw_only=True):
    """An answer, as returned to the route and as stored in the response cache.

    Attributes:
        message: The text, as the user sees it.
        sources: Titles of the documents whose passages the model was given.
        confidence: 0–100, see :mod:`quipu_chat.confidence`.
        confidence_reasons: The terms that add up to ``confidence``.
        skill: Key of the answering skill.
        stop_reason: How the last model call ended.
        stateless: The answer depends on nothing but the question and the company.
        usage: Tokens, cost, calls.
    """

    message: str
    sources: list[str]
    confidence: int
    confidence_reasons: list[str]
    skill: str
    stop_reason: str | None
    stateless: bool
    usage: AnswerUsage

    def from_cache(self) -> Answer:
        """This answer as served by the response cache: nothing was spent on it."""
        return msgspec.structs.replace(self, usage=AnswerUsage(cached=True))


@dataclass
class Plan:
    """Everything decided before the model is called.

    Attributes:
        skill_key: The answering skill's key; ``reason`` why it was chosen.
        passages: The knowledge passages given to the model.
        tools: The tools offered (empty when ``max_tool_rounds`` is 0).
        conversation: What is sent.
        context: The session context as the model sees it.
        prior_messages: Messages the session had before this one.
        cache_key: The response-cache key when the question is stateless (first of its
            session, context only of company-level keys), else None.
    """

    skill_key: str
    reason: str
    skill: ChatSkill
    passages: list[Passage]
    tools: list[ChatTool]
    conversation: Conversation
    context: dict[str, Any]
    prior_messages: int
    cache_key: dict[str, Any] | None


def _add(total: AnswerUsage, result: LlmResult) -> AnswerUsage:
    usage = result.usage
    return AnswerUsage(
        input_tokens=total.input_tokens + usage.input_tokens,
        output_tokens=total.output_tokens + usage.output_tokens,
        cache_read_input_tokens=total.cache_read_input_tokens + usage.cache_read_tokens,
        cache_creation_input_tokens=total.cache_creation_input_tokens + usage.cache_write_tokens,
        cost_usd=round(total.cost_usd + result.cost_usd, 8),
        llm_calls=total.llm_calls + 1,
        tool_calls=total.tool_calls,
    )


class ChatEngine:
    """The assistant: skills, knowledge base and tools of every plugin; one per app.

    Args:
        config: ``[plugins.chat]``.
        skills: ``Registry.chat_skills`` (the general skill is added if missing).
        documents: ``Registry.knowledge``.
        prompt_cache_ttl: TTL of the prompt-cache breakpoints (``[llm] prompt_cache_ttl``).
    """

    def __init__(
        self,
        config: ChatConfig,
        skills: Mapping[str, ChatSkill],
        documents: Mapping[str, KnowledgeDocument],
        *,
        prompt_cache_ttl: Literal["5m", "1h"] = "5m",
    ) -> None:
        self.config = config
        self.skills = with_general(skills)
        self.router = SkillRouter(self.skills, config.modules)
        self.knowledge = KnowledgeBase(documents, passage_chars=config.passage_chars)
        self.tools = all_tools(self.skills)
        self.ttl: Literal["5m", "1h"] = prompt_cache_ttl
        self.model = config.model or None
        self._digests = {key: prompt_digest(skill) for key, skill in self.skills.items()}

    def short_prefix_warnings(self, min_tokens: int) -> list[str]:
        """One warning per skill whose cacheable prefix (tools + system) is too short."""
        warnings = []
        for key, skill in sorted(self.skills.items()):
            tools = tool_definitions(self._tools_of(key, skill))
            system = [{"type": "text", "text": t} for t in system_texts(skill)]
            tokens = estimate_tokens(system, [], tools)
            if tokens < min_tokens:
                warnings.append(
                    f"chat skill {key}: its cacheable prefix is about {tokens} tokens, below "
                    f"the model's minimum of {min_tokens}; it will be sent without cache "
                    "savings"
                )
        return warnings

    def _tools_of(self, key: str, skill: ChatSkill) -> list[ChatTool]:
        if self.config.max_tool_rounds == 0:
            return []
        everything = key == GENERAL_SKILL_KEY and self.config.general_tools
        return tools_for(skill, self.tools, everything=everything)

    def plan(
        self,
        message: str,
        *,
        context: Mapping[str, Any] | None,
        history: History | None,
    ) -> Plan:
        """Choose the skill, the passages and the tools; build the conversation."""
        shown = context_for_model(context)
        module = shown.get("module")
        choice = self.router.choose(message, module if isinstance(module, str) else None)
        skill = self.skills[choice.key]
        passages = self.knowledge.search(message, self.config.knowledge_top_k)
        prior = history.total if history is not None else 0
        tools = self._tools_of(choice.key, skill)
        conversation = Conversation(
            skill=skill,
            history=history,
            message=message,
            passages=passages,
            context=shown,
            ttl=self.ttl,
            cache_last=bool(tools),
        )
        cache_key = None
        if is_stateless(prior_messages=prior, tool_calls=0, context=shown):
            cache_key = {
                "message": message,
                "skill": choice.key,
                "prompt": self._digests[choice.key],
                "model": self.model or "",
                "context": {k: v for k, v in shown.items() if k in STATELESS_CONTEXT_KEYS},
                "top_k": self.config.knowledge_top_k,
            }
        return Plan(
            skill_key=choice.key,
            reason=choice.reason,
            skill=skill,
            passages=passages,
            tools=tools,
            conversation=conversation,
            context=shown,
            prior_messages=prior,
            cache_key=cache_key,
        )

    def cacheable(self, answer: Answer) -> bool:
        """The response-cache rule (the ``chat.answers`` policy's ``cache_if``)."""
        return is_cacheable(
            answer.confidence,
            stateless=answer.stateless,
            threshold=self.config.cache_min_confidence,
        )

    async def run(
        self,
        gateway: LlmGateway,
        plan: Plan,
        tool_context: ToolContext,
        *,
        emit: Emit | None = None,
    ) -> Answer:
        """Answer ``plan``: the model, and its tools for at most ``max_tool_rounds`` rounds.

        Args:
            gateway: The platform's LLM gateway.
            plan: From :meth:`plan`.
            tool_context: Who is asking; handed to every tool.
            emit: Stream the answer, passing each text delta to it as it arrives.

        Raises:
            quipu.llm.LlmError: the model could not be asked or did not answer (503, 413,
                502 or 504 as an HTTP answer).
        """
        started = time.perf_counter()
        cfg = self.config
        conversation = plan.conversation
        tools = tool_definitions(plan.tools) or None
        runner = ToolRunner(plan.tools, tool_context, timeout_s=cfg.tool_timeout_s)
        usage = AnswerUsage()
        parts: list[str] = []
        tool_ok = tool_failed = rounds = 0
        stop_reason: str | None = None
        company = tool_context.company_id
        while True:
            if emit is None:
                result = await gateway.create(
                    plugin="chat",
                    operation="chat.answer",
                    company=company,
                    system=conversation.system,
                    messages=conversation.request_messages(),
                    max_tokens=cfg.max_answer_tokens,
                    tools=tools,
                    model=self.model,
                )
            else:
                result = await self._streamed(gateway, conversation, tools, company, parts, emit)
            usage = _add(usage, result)
            stop_reason = result.stop_reason
            if result.text.strip():
                parts.append(result.text)
            if not (result.tool_uses and stop_reason == "tool_use"):
                break
            if rounds >= cfg.max_tool_rounds:
                break
            rounds += 1
            outcomes = await runner.run(result.tool_uses)
            tool_ok += sum(1 for o in outcomes if o.ok)
            tool_failed += sum(1 for o in outcomes if not o.ok)
            conversation.add_tool_round(result.content, [o.block for o in outcomes])

        usage = msgspec.structs.replace(usage, tool_calls=tool_ok + tool_failed)
        answered = bool(parts)
        note = None
        if stop_reason == "tool_use":  # the model still wanted a tool: rounds ran out
            note = ROUNDS_EXHAUSTED
        elif not parts:
            note = NO_TEXT
        if note is not None:  # said to the user too, after what the model wrote
            if emit is not None:
                emit("\n\n" + note if parts else note)
            parts.append(note)
        message = "\n\n".join(parts)
        hedged, declined = assess_answer(message)
        score = confidence(
            Evidence(
                passages=len(plan.passages),
                tool_ok=tool_ok,
                tool_failed=tool_failed,
                hedged=hedged,
                declined=declined,
                stop_reason=stop_reason if answered else None,
            )
        )
        stateless = is_stateless(
            prior_messages=plan.prior_messages,
            tool_calls=tool_ok + tool_failed,
            context=plan.context,
        )
        log.info(
            "chat answer: skill %s (%s), %d passage(s), %d tool round(s), %d/%d tool call(s) "
            "ok, stop %s, confidence %d, %d model call(s), tokens in %d, cache read %d, "
            "cache write %d, out %d, %.0f ms",
            plan.skill_key,
            plan.reason,
            len(plan.passages),
            rounds,
            tool_ok,
            tool_ok + tool_failed,
            stop_reason,
            score.score,
            usage.llm_calls,
            usage.input_tokens,
            usage.cache_read_input_tokens,
            usage.cache_creation_input_tokens,
            usage.output_tokens,
            (time.perf_counter() - started) * 1000,
        )
        return Answer(
            message=message,
            sources=sources(plan.passages),
            confidence=score.score,
            confidence_reasons=list(score.reasons),
            skill=plan.skill_key,
            stop_reason=stop_reason,
            stateless=stateless,
            usage=usage,
        )

    async def _streamed(
        self,
        gateway: LlmGateway,
        conversation: Conversation,
        tools: list[dict[str, Any]] | None,
        company: int | None,
        parts: list[str],
        emit: Emit,
    ) -> LlmResult:
        stream = gateway.stream(
            plugin="chat",
            operation="chat.stream",
            company=company,
            system=conversation.system,
            messages=conversation.request_messages(),
            max_tokens=self.config.max_answer_tokens,
            tools=tools,
            model=self.model,
        )
        first = True
        try:
            async for text in stream:
                if first and parts:
                    emit("\n\n")  # the blank line that joins the texts of two calls
                first = False
                emit(text)
        finally:
            await stream.aclose()
        result: LlmResult | None = stream.result
        if result is None:  # pragma: no cover - the gateway raises instead
            raise RuntimeError("the LLM stream ended without a result")
        return result
