"""Scripted replies: matching, text/JSON/tool_use answers, ``times``."""

from __future__ import annotations

import json

import anthropic
import pytest
from quipu.testing.emulator import EmulatorProcess, ScriptRule, ToolCall
from quipu.testing.emulator.tokens import json_text, text_tokens

MODEL = "claude-sonnet-4-6"
TOOL = {
    "name": "consultar_rut",
    "description": "Datos de un contribuyente",
    "input_schema": {"type": "object", "properties": {"rut": {"type": "string"}}},
}


async def test_tool_use_reply_is_a_tool_use_block(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.script(
        ScriptRule(
            name="rut",
            tool="consultar_rut",
            text="Voy a consultar.",
            tool_use=(ToolCall(name="consultar_rut", input={"rut": "76.543.210-K"}),),
        )
    )

    message = await client.messages.create(
        model=MODEL,
        max_tokens=200,
        tools=[TOOL],
        messages=[{"role": "user", "content": "¿Quién es 76.543.210-K?"}],
    )

    assert message.stop_reason == "tool_use"
    text, call = message.content
    assert isinstance(text, anthropic.types.TextBlock)
    assert text.text == "Voy a consultar."
    assert isinstance(call, anthropic.types.ToolUseBlock)
    assert call.name == "consultar_rut"
    assert call.input == {"rut": "76.543.210-K"}
    assert call.id.startswith("toolu_01")
    expected_output = (
        text_tokens("Voy a consultar.")
        + text_tokens("consultar_rut")
        + text_tokens(json_text({"rut": "76.543.210-K"}))
    )
    assert message.usage.output_tokens == expected_output
    assert emulator.requests()["requests"][-1]["script"] == "rut"


async def test_streamed_tool_use_is_rebuilt_from_input_json_deltas(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    big_input = {"rut": "76.543.210-K", "periodos": [f"2026-{m:02d}" for m in range(1, 13)]}
    emulator.script(ScriptRule(tool_use=(ToolCall(name="consultar_rut", input=big_input),)))

    stream = await client.messages.create(
        model=MODEL,
        max_tokens=500,
        tools=[TOOL],
        messages=[{"role": "user", "content": "x"}],
        stream=True,
    )
    events = [event async for event in stream]
    fragments = [
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert len(fragments) > 5
    assert json.loads("".join(fragments)) == big_input

    async with client.messages.stream(
        model=MODEL, max_tokens=500, tools=[TOOL], messages=[{"role": "user", "content": "x"}]
    ) as helper:
        final = await helper.get_final_message()
    [block] = final.content
    assert isinstance(block, anthropic.types.ToolUseBlock)
    assert block.input == big_input
    assert final.stop_reason == "tool_use"


async def test_rules_match_in_order_on_system_and_user_text(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.script(
        ScriptRule(system_contains="[prompt:dte.resumen]", text="resumen DTE"),
        ScriptRule(user_contains="liquidación", text="respuesta de sueldos"),
        ScriptRule(user_contains="liquidación", text="nunca se usa"),
    )

    async def reply(system: str, user: str) -> str:
        message = await client.messages.create(
            model=MODEL, max_tokens=50, system=system, messages=[{"role": "user", "content": user}]
        )
        block = message.content[0]
        assert isinstance(block, anthropic.types.TextBlock)
        return block.text

    assert await reply("Eres... [prompt:dte.resumen]", "liquidación") == "resumen DTE"
    assert await reply("otro", "mi liquidación de marzo") == "respuesta de sueldos"
    assert (await reply("otro", "nada que ver")).startswith("Respuesta simulada")


async def test_json_reply_and_times(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.script(ScriptRule(json={"folio": 123, "valido": True}, times=2))

    async def reply() -> str:
        message = await client.messages.create(
            model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "valida"}]
        )
        block = message.content[0]
        assert isinstance(block, anthropic.types.TextBlock)
        return block.text

    assert json.loads(await reply()) == {"folio": 123, "valido": True}
    assert json.loads(await reply()) == {"folio": 123, "valido": True}
    assert (await reply()).startswith("Respuesta simulada")  # the rule is used up


async def test_faulted_request_does_not_consume_a_rule(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.script(ScriptRule(text="una vez", times=1))
    with pytest.raises(anthropic.OverloadedError):
        await client.messages.create(
            model=MODEL,
            max_tokens=50,
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"x-emulator-fault": "529"},
        )
    message = await client.messages.create(
        model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "x"}]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "una vez"


def test_rule_without_a_reply_is_refused(emulator: EmulatorProcess) -> None:
    with pytest.raises(RuntimeError, match="needs `text`, `json` or `tool_use`"):
        emulator.script({"user_contains": "x"})
    with pytest.raises(ValueError, match="needs `text`"):
        ScriptRule(user_contains="x")
