"""Unscripted, the emulator answers a forced tool choice the way the real model does."""

from __future__ import annotations

import random
from typing import Any

import anthropic
import jsonschema_rs
import pytest
from quipu.testing.emulator import EmulatorProcess
from quipu.testing.emulator.instances import instance
from quipu.testing.emulator.scripts import ScriptRule

MODEL = "claude-sonnet-4-6"
REVIEW_TOOL: dict[str, Any] = {
    "name": "record_review",
    "description": "Registra la revisión.",
    "input_schema": {
        "type": "object",
        "properties": {
            "observations": {
                "type": "array",
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "minLength": 3},
                        "severity": {"type": "string", "enum": ["warning"]},
                        "message": {"type": "string", "maxLength": 40},
                    },
                    "required": ["code", "severity", "message"],
                    "additionalProperties": False,
                },
            },
            "confidence_adjustment": {"type": "number", "minimum": -50, "maximum": 0},
            "needs_review": {"type": "boolean"},
        },
        "required": ["observations", "confidence_adjustment", "needs_review"],
        "additionalProperties": False,
    },
}
OTHER_TOOL: dict[str, Any] = {
    "name": "lookup_rut",
    "description": "Busca un RUT.",
    "input_schema": {
        "type": "object",
        "properties": {"rut": {"type": "string", "minLength": 8, "maxLength": 12}},
        "required": ["rut"],
    },
}


async def _forced(client: anthropic.AsyncAnthropic, text: str, choice: dict[str, Any]) -> Any:
    return await client.messages.create(
        model=MODEL,
        max_tokens=400,
        messages=[{"role": "user", "content": text}],
        tools=[OTHER_TOOL, REVIEW_TOOL],
        tool_choice=choice,  # type: ignore[arg-type]
    )


async def test_forced_tool_gets_a_schema_valid_call(client: anthropic.AsyncAnthropic) -> None:
    message = await _forced(
        client, "revisa esta factura", {"type": "tool", "name": "record_review"}
    )
    assert message.stop_reason == "tool_use"
    assert [block.type for block in message.content] == ["tool_use"]
    call = message.content[0]
    assert call.name == "record_review"
    jsonschema_rs.validate(REVIEW_TOOL["input_schema"], call.input)
    # Output tokens are those of the call, by the emulator's token rule.
    assert message.usage.output_tokens > 0


async def test_same_prompt_same_input_other_prompt_other_input(
    client: anthropic.AsyncAnthropic,
) -> None:
    choice = {"type": "tool", "name": "record_review"}
    first = (await _forced(client, "factura 1", choice)).content[0]
    again = (await _forced(client, "factura 1", choice)).content[0]
    inputs = {
        str((await _forced(client, f"factura {n}", choice)).content[0].input) for n in range(8)
    }
    assert first.input == again.input
    assert first.id != again.id
    assert len(inputs) > 1


async def test_any_picks_one_offered_tool(client: anthropic.AsyncAnthropic) -> None:
    names = set()
    for n in range(12):
        message = await _forced(client, f"pregunta {n}", {"type": "any"})
        assert message.stop_reason == "tool_use"
        (call,) = message.content
        tool = REVIEW_TOOL if call.name == "record_review" else OTHER_TOOL
        jsonschema_rs.validate(tool["input_schema"], call.input)
        names.add(call.name)
    assert names == {"record_review", "lookup_rut"}


async def test_auto_and_none_still_answer_text(client: anthropic.AsyncAnthropic) -> None:
    for choice in ({"type": "auto"}, {"type": "none"}):
        message = await _forced(client, "hola", choice)
        assert message.stop_reason == "end_turn"
        assert [block.type for block in message.content] == ["text"]


async def test_streamed_forced_call_matches_the_real_event_sequence(
    client: anthropic.AsyncAnthropic,
) -> None:
    async with client.messages.stream(
        model=MODEL,
        max_tokens=400,
        messages=[{"role": "user", "content": "revisa"}],
        tools=[REVIEW_TOOL],
        tool_choice={"type": "tool", "name": "record_review"},
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert kinds[0] == "message_start"
    assert kinds[1] == "content_block_start"
    assert "input_json" in kinds
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert final.stop_reason == "tool_use"
    jsonschema_rs.validate(REVIEW_TOOL["input_schema"], final.content[0].input)
    unstreamed = await _forced(client, "revisa", {"type": "tool", "name": "record_review"})
    assert final.usage.output_tokens == unstreamed.usage.output_tokens


async def test_a_script_still_overrides(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.script(ScriptRule(tool="record_review", text="sin herramienta"))
    message = await _forced(client, "revisa", {"type": "tool", "name": "record_review"})
    assert [block.type for block in message.content] == ["text"]


@pytest.mark.parametrize(
    ("choice", "tools", "says"),
    [
        ({"type": "tool", "name": "missing"}, [REVIEW_TOOL], "tool_choice.name"),
        ({"type": "any"}, None, "requires `tools`"),
        ({"type": "sometimes"}, [REVIEW_TOOL], "tool_choice.type"),
    ],
)
async def test_impossible_tool_choice_is_a_400(
    client: anthropic.AsyncAnthropic, choice: dict[str, Any], tools: Any, says: str
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        await client.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": "x"}],
            tool_choice=choice,  # type: ignore[arg-type]
            **({"tools": tools} if tools else {}),
        )
    assert says in str(caught.value)


SCHEMAS: list[dict[str, Any]] = [
    {"type": "integer", "minimum": 3, "maximum": 9, "multipleOf": 3},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": ["string", "null"], "format": "date"},
    {
        "type": "array",
        "minItems": 2,
        "maxItems": 4,
        "uniqueItems": True,
        "items": {"enum": [1, 2, 3, 4]},
    },
    {"anyOf": [{"type": "string", "minLength": 5}, {"type": "integer"}]},
    {
        "allOf": [
            {"properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"b": {"const": "x"}}, "required": ["b"]},
        ]
    },
    {
        "$defs": {
            "item": {
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 1}},
                "required": ["n"],
            }
        },
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "#/$defs/item"},
    },
    {"type": "string", "minLength": 200, "maxLength": 210},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_values_validate(schema: dict[str, Any]) -> None:
    validator = jsonschema_rs.validator_for(schema)
    for seed in range(25):
        value = instance(schema, random.Random(seed))
        assert validator.is_valid(value), (schema, value)
