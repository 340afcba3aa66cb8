"""Messages, streaming, count_tokens and models through the real ``anthropic`` SDK."""

from __future__ import annotations

import anthropic
import httpx
import pytest
from quipu.testing.emulator import EmulatorProcess, ScriptRule
from quipu.testing.emulator.tokens import text_tokens

MODEL = "claude-sonnet-4-6"
SYSTEM = "Eres un asistente contable chileno."
QUESTION = "¿Cuál es la tasa de IVA en Chile?"
EXPECTED_INPUT = text_tokens(SYSTEM) + text_tokens(QUESTION)


async def test_json_message_has_predictable_text_and_usage(
    client: anthropic.AsyncAnthropic,
) -> None:
    message = await client.messages.create(
        model=MODEL,
        max_tokens=256,
        system=SYSTEM,
        messages=[{"role": "user", "content": QUESTION}],
    )

    assert message.type == "message"
    assert message.role == "assistant"
    assert message.model == MODEL
    assert message.id.startswith("msg_01")
    assert message._request_id is not None
    assert message._request_id.startswith("req_")
    assert message.stop_reason == "end_turn"
    [block] = message.content
    assert isinstance(block, anthropic.types.TextBlock)
    assert block.text.startswith("Respuesta simulada ")
    assert len(block.text.split()) == 12  # reply_words of the session config
    assert message.usage.input_tokens == EXPECTED_INPUT
    assert message.usage.output_tokens == text_tokens(block.text)
    assert message.usage.cache_read_input_tokens == 0
    assert message.usage.cache_creation_input_tokens == 0


async def test_default_reply_is_deterministic_per_prompt(client: anthropic.AsyncAnthropic) -> None:
    async def ask(text: str) -> str:
        message = await client.messages.create(
            model=MODEL, max_tokens=256, messages=[{"role": "user", "content": text}]
        )
        block = message.content[0]
        assert isinstance(block, anthropic.types.TextBlock)
        return block.text

    first, again, other = await ask("uno"), await ask("uno"), await ask("dos")
    assert first == again
    assert first != other


async def test_stream_helper_accumulates_the_same_message(client: anthropic.AsyncAnthropic) -> None:
    pieces: list[str] = []
    async with client.messages.stream(
        model=MODEL,
        max_tokens=256,
        system=SYSTEM,
        messages=[{"role": "user", "content": QUESTION}],
    ) as stream:
        async for text in stream.text_stream:
            pieces.append(text)
        final = await stream.get_final_message()

    assert len(pieces) == 12  # one text_delta per word
    text = "".join(pieces)
    assert final.content[0].type == "text"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens == EXPECTED_INPUT
    assert final.usage.output_tokens == text_tokens(text)


async def test_raw_stream_event_sequence(client: anthropic.AsyncAnthropic) -> None:
    stream = await client.messages.create(
        model=MODEL,
        max_tokens=256,
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
    )
    events = [event async for event in stream]
    kinds = [event.type for event in events]

    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[2:-3] == ["content_block_delta"] * 12
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    start, delta = events[0], events[-2]
    assert start.type == "message_start"
    assert start.message.content == []
    assert start.message.stop_reason is None
    assert start.message.usage.input_tokens == text_tokens(QUESTION)
    assert delta.type == "message_delta"
    assert delta.delta.stop_reason == "end_turn"
    text = "".join(
        e.delta.text
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    )
    assert delta.usage.output_tokens == text_tokens(text)
    assert delta.usage.input_tokens == text_tokens(QUESTION)


def test_sse_wire_format_has_event_lines_and_ping(emulator: EmulatorProcess) -> None:
    response = httpx.post(
        f"{emulator.url}/v1/messages",
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        json={
            "model": MODEL,
            "max_tokens": 50,
            "stream": True,
            "messages": [{"role": "user", "content": "hola"}],
        },
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["request-id"].startswith("req_")
    assert response.headers["anthropic-ratelimit-requests-limit"] == "4000"
    frames = [frame for frame in response.text.split("\n\n") if frame]
    names = [frame.split("\n")[0] for frame in frames]
    assert names[:3] == ["event: message_start", "event: content_block_start", "event: ping"]
    assert names[-1] == "event: message_stop"
    assert all(frame.split("\n")[1].startswith("data: {") for frame in frames)


async def test_max_tokens_truncates_and_reports_it(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(
        model=MODEL, max_tokens=3, messages=[{"role": "user", "content": QUESTION}]
    )

    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 3
    assert message.content[0].type == "text"
    assert len(message.content[0].text) == 12


async def test_stop_sequence_cuts_the_text(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.script(ScriptRule(text="primero FIN segundo"))
    message = await client.messages.create(
        model=MODEL,
        max_tokens=100,
        stop_sequences=["FIN"],
        messages=[{"role": "user", "content": "x"}],
    )

    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == "FIN"
    assert message.content[0].type == "text"
    assert message.content[0].text == "primero "


async def test_count_tokens_matches_the_rule_and_create(client: anthropic.AsyncAnthropic) -> None:
    tool = {
        "name": "buscar_rut",
        "description": "Busca un contribuyente",
        "input_schema": {"type": "object", "properties": {"rut": {"type": "string"}}},
    }
    messages: list[anthropic.types.MessageParam] = [
        {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        {"role": "assistant", "content": "El IVA es 19%."},
        {"role": "user", "content": "¿Y la retención de honorarios?"},
    ]
    from quipu.testing.emulator.tokens import json_text

    expected = (
        text_tokens(json_text(tool))
        + text_tokens(SYSTEM)
        + text_tokens(QUESTION)
        + text_tokens("El IVA es 19%.")
        + text_tokens("¿Y la retención de honorarios?")
    )

    counted = await client.messages.count_tokens(
        model=MODEL, system=SYSTEM, messages=messages, tools=[tool]
    )
    created = await client.messages.create(
        model=MODEL, max_tokens=64, system=SYSTEM, messages=messages, tools=[tool]
    )

    assert counted.input_tokens == expected
    assert created.usage.input_tokens == expected


async def test_models_list_and_retrieve(client: anthropic.AsyncAnthropic) -> None:
    ids = [model.id async for model in client.models.list()]
    assert "claude-sonnet-4-5-20250929" in ids
    assert "claude-haiku-4-5-20251001" in ids

    page = await client.models.list(limit=2)
    assert [model.id for model in page.data] == ids[:2]
    assert page.has_more is True

    aliased = await client.messages.create(
        model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}]
    )
    assert aliased.model == "claude-haiku-4-5-20251001"  # aliases come back resolved

    info = await client.models.retrieve("claude-sonnet-4-5")
    assert info.id == "claude-sonnet-4-5-20250929"
    assert info.display_name == "Claude Sonnet 4.5"
    assert info.lifecycle == "deprecated"

    with pytest.raises(anthropic.NotFoundError) as raised:
        await client.models.retrieve("claude-nonexistent")
    assert raised.value.api_message == "model: claude-nonexistent"
