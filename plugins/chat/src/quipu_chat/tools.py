"""The tools plugins lend to the assistant, and how one round of tool calls runs.

A plugin lends a tool inside its skill (``ChatSkill.tools``,
:class:`quipu_chat.records.ChatTool`). The
assistant offers the model the tools of the skill that answers (the general skill: every
tool, unless ``general_tools = false``), sorted by name so the request prefix, and with it
the prompt cache, stays the same from call to call.

When the model answers ``stop_reason: tool_use``, every ``tool_use`` block of the reply
runs here, in this process, concurrently, each with a :class:`ToolContext` that carries the
caller's API key and company; the results go back to the model as ``tool_result`` blocks
in the order of the calls. A tool that raises, times out (``tool_timeout_s``), is unknown,
or returns something that cannot be encoded gives a ``tool_result`` with
``is_error: true`` and a short explanation, so the model can tell the user what failed;
unexpected exceptions are logged with their traceback but never with the tool's input.

A handler is ``async (input: dict, context: ToolContext) -> result``; the result must be
msgspec-encodable (a Struct, dict, list, str, number). A tool that needs its plugin's
cache, LLM gateway or services closes over the ``platform`` context its plugin's
``register_chat_skills`` receives. It is sent to the model as a
``<data name="resultado" tool="...">`` element holding its JSON (see
:func:`quipu.api.data_block`), at most :data:`MAX_RESULT_CHARS` characters.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.exceptions import HTTPException
from quipu.api import Principal, ToolUse, data_block

from quipu_chat.records import ChatSkill, ChatTool

__all__ = [
    "MAX_RESULT_CHARS",
    "ToolContext",
    "ToolError",
    "ToolOutcome",
    "ToolRunner",
    "all_tools",
    "tool_definitions",
    "tools_for",
]

log = logging.getLogger("quipu.chat.tools")

#: Longest tool result sent back to the model, in characters (longer ones are cut).
MAX_RESULT_CHARS = 16_000


class ToolError(Exception):
    """Raise it from a handler to tell the model, in ``str(exc)``, why the call failed.

    Any other exception is reported too, as its type and message; raise this one when the
    message is written for the model (and the user) to read.
    """


@dataclass(frozen=True, kw_only=True)
class ToolContext:
    """What a tool handler knows about the call, its second argument.

    Attributes:
        principal: The caller's API key (its companies and roles).
        company_id: The company the conversation is about: the one named in the request
            context, else the key's only company, else None (a key for several or every
            company, and no company in the context). The tool acts for this company.
        session_id: The chat session the call belongs to.
        skill: The key of the skill that answers (``dte.dte``).
    """

    principal: Principal
    company_id: int | None
    session_id: str | None = None
    skill: str = ""

    def require_company(self, company_id: int | str | None = None) -> int:
        """The company a tool should act for, checked against the caller's key.

        ``company_id`` (for example from the tool input) wins over :attr:`company_id`.

        Raises:
            ToolError: no company is known, or the key may not act for it.
        """
        wanted = self.company_id if company_id is None else company_id
        if wanted is None:
            raise ToolError(
                "no company is known for this conversation: ask the user which company "
                "(company_id) the question is about"
            )
        if not self.principal.can_act_for(wanted):
            raise ToolError(f"the caller's API key may not act for company {wanted}")
        try:
            return int(wanted)
        except (TypeError, ValueError):
            raise ToolError(f"company_id {wanted!r} is not a number") from None


class ToolOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One tool call as it ran: the ``tool_result`` block and what to count.

    Attributes:
        block: The ``tool_result`` content block for the next user turn.
        ok: Whether the tool returned a result.
        duration_ms: How long it ran.
    """

    name: str
    block: dict[str, Any]
    ok: bool
    duration_ms: float


def all_tools(skills: Mapping[str, ChatSkill]) -> dict[str, ChatTool]:
    """Every tool lent by ``skills``, by name (the platform guarantees names are unique)."""
    found: dict[str, ChatTool] = {}
    for key in sorted(skills):
        for tool in skills[key].tools:
            found.setdefault(tool.name, tool)
    return found


def tools_for(
    skill: ChatSkill, registry_tools: Mapping[str, ChatTool], *, everything: bool = False
) -> list[ChatTool]:
    """The tools offered when ``skill`` answers, sorted by name.

    Args:
        skill: The answering skill; its own tools are always offered.
        registry_tools: Every lent tool (:func:`all_tools`).
        everything: Offer every lent tool (the general skill with ``general_tools``).
    """
    chosen = {tool.name: tool for tool in skill.tools}
    if everything:
        chosen = {**registry_tools, **chosen}
    return [chosen[name] for name in sorted(chosen)]


def tool_definitions(tools: Iterable[ChatTool]) -> list[dict[str, Any]]:
    """The ``tools`` parameter of a Messages request."""
    return [
        {"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)}
        for t in tools
    ]


def _error_block(call: ToolUse, message: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call.id, "content": message, "is_error": True}


def _result_text(name: str, result: Any) -> str:
    text = result if isinstance(result, str) else msgspec.json.encode(result).decode()
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + " …(resultado truncado)"
    return data_block(f"resultado {name}", text)


class ToolRunner:
    """Runs the tool calls of a model reply for one answer.

    Args:
        tools: The tools offered in this answer, by name.
        context: The caller's :class:`ToolContext`.
        timeout_s: Longest one call may take.
    """

    def __init__(
        self, tools: Iterable[ChatTool], context: ToolContext, *, timeout_s: float = 20.0
    ) -> None:
        self.tools = {t.name: t for t in tools}
        self.context = context
        self.timeout_s = timeout_s

    async def run(self, calls: Iterable[ToolUse]) -> list[ToolOutcome]:
        """Run ``calls`` concurrently; one outcome per call, in the same order."""
        return list(await asyncio.gather(*(self._one(call) for call in calls)))

    async def _one(self, call: ToolUse) -> ToolOutcome:
        started = time.perf_counter()
        ok = False
        tool = self.tools.get(call.name)
        if tool is None:
            offered = ", ".join(sorted(self.tools)) or "none"
            block = _error_block(call, f"unknown tool {call.name!r}; offered: {offered}")
        else:
            try:
                text = await asyncio.wait_for(self._call(tool, call), self.timeout_s)
                block = {"type": "tool_result", "tool_use_id": call.id, "content": text}
                ok = True
            except TimeoutError:
                block = _error_block(call, f"the tool did not finish within {self.timeout_s:g} s")
            except ToolError as exc:
                block = _error_block(call, str(exc) or "the tool failed")
            except HTTPException as exc:  # e.g. principal.require_company inside the tool
                block = _error_block(call, str(exc.detail))
            except (ValueError, TypeError, KeyError, LookupError, msgspec.MsgspecError) as exc:
                block = _error_block(call, f"invalid input or result: {type(exc).__name__}: {exc}")
            except Exception as exc:
                log.exception("chat tool %s failed", call.name)
                block = _error_block(call, f"the tool failed unexpectedly ({type(exc).__name__})")
        duration = round((time.perf_counter() - started) * 1000, 2)
        log.info(
            "chat tool %s %s in %.1f ms (skill %s)",
            call.name,
            "ok" if ok else "failed",
            duration,
            self.context.skill,
        )
        return ToolOutcome(name=call.name, block=block, ok=ok, duration_ms=duration)

    async def _call(self, tool: ChatTool, call: ToolUse) -> str:
        result = tool.handler(dict(call.input), self.context)
        if inspect.isawaitable(result):
            result = await result
        return _result_text(call.name, result)
