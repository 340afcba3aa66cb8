"""Prompt assembly, cache breakpoints and the tool runner, without a model."""

from __future__ import annotations

from typing import Any

import pytest
from quipu.api import Principal
from quipu.llm import ToolUse
from quipu.llm.prompts import DATA_RULE
from quipu_chat.knowledge import Passage
from quipu_chat.prompting import PERSONA, Conversation, prompt_digest
from quipu_chat.records import ChatSkill, ChatTool
from quipu_chat.schemas import AnswerUsage
from quipu_chat.session_base import History, SessionInfo, Turn
from quipu_chat.tools import ToolContext, ToolError, ToolRunner, tools_for

SKILL = ChatSkill(name="dte", description="Facturación", system_prompt="Experto en DTE.")
PASSAGE = Passage(id="d#0", doc_id="dte.d", plugin="dte", title="IVA", heading="H", text="19%")


def history(*contents: str) -> History:
    turns = tuple(
        Turn(role="user" if i % 2 == 0 else "assistant", content=c) for i, c in enumerate(contents)
    )
    info = SessionInfo(
        session_id="s", owner="1", created_at="", context=None, message_count=len(turns), ttl_s=9
    )
    return History(session=info, turns=turns, total=len(turns), older=0)


def marks(messages: list[dict[str, Any]]) -> list[int]:
    return [
        i for i, m in enumerate(messages) if any("cache_control" in block for block in m["content"])
    ]


def test_the_system_prompt_is_long_enough_to_be_cached_and_stable() -> None:
    conversation = Conversation(skill=SKILL, history=None, message="hola")
    system = conversation.system
    assert [b["text"] for b in system] == [DATA_RULE, PERSONA.strip(), system[2]["text"]]
    assert system[2]["text"].startswith("# Especialidad: Facturación")
    assert [("cache_control" in b) for b in system] == [False, False, True]
    # The emulator's rule for claude-sonnet-4-6: at least 2048 tokens of ceil(chars / 4).
    assert sum(len(b["text"]) for b in system) / 4 > 2048
    assert prompt_digest(SKILL) == prompt_digest(SKILL)
    assert prompt_digest(SKILL) != prompt_digest(
        ChatSkill(name="x", description="", system_prompt="")
    )


def test_breakpoints_end_of_history_and_last_message_never_more_than_four() -> None:
    conversation = Conversation(
        skill=SKILL,
        history=history("p1", "r1", "p2", ""),
        message="<xml>pregunta</xml>",
        passages=[PASSAGE],
        context={"company_name": "Acme", "session_id": "x"},
    )
    sent = conversation.request_messages()
    assert marks(sent) == [3, 4]
    assert sent[3]["content"][0]["text"] == "(mensaje vacío)"  # never an empty text block
    question = sent[-1]["content"]
    assert question[0]["text"].startswith('<data name="conocimiento">')
    assert question[1]["text"] == '<data name="contexto">\n{"company_name":"Acme"}\n</data>'
    assert question[-1]["text"] == "<xml>pregunta</xml>"
    assert "cache_control" not in conversation.messages[-1]["content"][-1]  # copies only

    for n in range(3):  # tool rounds move the last breakpoint along
        conversation.add_tool_round(
            [
                {"type": "text", "text": ""},
                {"type": "tool_use", "id": f"t{n}", "name": "x", "input": {}},
            ],
            [{"type": "tool_result", "tool_use_id": f"t{n}", "content": "ok"}],
        )
        sent = conversation.request_messages()
        assert marks(sent) == [3, len(sent) - 1]
        assert sent[-2]["content"] == [
            {"type": "tool_use", "id": f"t{n}", "name": "x", "input": {}}
        ]
        assert len(marks(sent)) + 1 <= 4


def test_without_tools_the_question_is_not_written_to_the_cache() -> None:
    conversation = Conversation(skill=SKILL, history=None, message="hola", cache_last=False)
    assert marks(conversation.request_messages()) == []


def test_tools_offered_sorted_and_the_general_skill_gets_all() -> None:
    def tool(name: str) -> ChatTool:
        return ChatTool(name=name, description="", input_schema={}, handler=lambda i, c: None)

    own = ChatSkill(name="a", description="", system_prompt="", tools=(tool("z"), tool("b")))
    everything = {"z": tool("z"), "b": tool("b"), "m": tool("m")}
    assert [t.name for t in tools_for(own, everything)] == ["b", "z"]
    assert [t.name for t in tools_for(own, everything, everything=True)] == ["b", "m", "z"]


def test_tool_context_checks_the_company_against_the_key() -> None:
    principal = Principal(key_name="k", companies=frozenset({1}), roles=frozenset())
    context = ToolContext(principal=principal, company_id=1)
    assert context.require_company() == 1
    assert context.require_company("1") == 1
    with pytest.raises(ToolError, match="may not act for company 2"):
        context.require_company(2)
    with pytest.raises(ToolError, match="no company is known"):
        ToolContext(principal=principal, company_id=None).require_company()  # type: ignore[arg-type]


async def test_tool_runner_results_errors_and_timeouts() -> None:
    async def slow(data: dict[str, Any], context: Any) -> str:
        import asyncio

        await asyncio.sleep(1)
        return "tarde"

    def sync_tool(data: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"echo": data["x"], "company": context.company_id}

    async def refuses(data: dict[str, Any], context: Any) -> None:
        context.require_company(99)

    tools = [
        ChatTool(name="slow", description="", input_schema={}, handler=slow),
        ChatTool(name="echo", description="", input_schema={}, handler=sync_tool),
        ChatTool(name="refuses", description="", input_schema={}, handler=refuses),
    ]
    principal = Principal(key_name="k", companies=frozenset({1}), roles=frozenset())
    runner = ToolRunner(
        tools,
        ToolContext(principal=principal, company_id=1),
        timeout_s=0.05,  # type: ignore[arg-type]
    )
    outcomes = await runner.run(
        [
            ToolUse("1", "echo", {"x": "</data><b>"}),
            ToolUse("2", "slow", {}),
            ToolUse("3", "refuses", {}),
        ]
    )
    assert [o.ok for o in outcomes] == [True, False, False]
    assert outcomes[0].block == {
        "type": "tool_result",
        "tool_use_id": "1",
        "content": '<data name="resultado echo">\n{"echo":"<\\/data><b>","company":1}\n</data>',
    }
    assert outcomes[1].block["is_error"] is True
    assert "did not finish within 0.05 s" in outcomes[1].block["content"]
    assert "may not act for company 99" in outcomes[2].block["content"]


def test_usage_in_the_original_shape() -> None:
    usage = AnswerUsage(
        input_tokens=10,
        output_tokens=5,
        cache_read_input_tokens=100,
        cache_creation_input_tokens=20,
    )
    tokens = usage.tokens_used()
    assert (tokens.input_tokens, tokens.output_tokens, tokens.total_tokens) == (10, 5, 135)
    assert (tokens.cache_read_tokens, tokens.cache_creation_tokens) == (100, 20)
