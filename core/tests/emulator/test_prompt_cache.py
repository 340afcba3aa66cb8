"""Prompt-cache simulation: breakpoints, minimums, TTLs, per-key isolation, lookback."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from quipu.testing.emulator import EmulatorProcess
from quipu.testing.emulator.prompt_cache import CacheOutcome, PromptCache
from quipu.testing.emulator.protocol import CacheControl
from quipu.testing.emulator.tokens import Segment, text_tokens

MODEL = "claude-sonnet-4-6"  # minimum cacheable prefix: 2048 tokens
LONG = "Normativa tributaria del SII. " * 300  # 9000 characters
LONG_TOKENS = text_tokens(LONG)
SHORT = "Eres un asistente breve. " * 20  # 500 characters, far below the minimum
QUESTION = "¿Qué es una boleta de honorarios?"


def cached_system(text: str, ttl: str = "5m") -> list[Any]:
    return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral", "ttl": ttl}}]


async def ask(
    client: anthropic.AsyncAnthropic, system: list[Any], model: str = MODEL, **extra: Any
) -> anthropic.types.Usage:
    message = await client.messages.create(
        model=model,
        max_tokens=32,
        system=system,
        messages=[{"role": "user", "content": QUESTION}],
        **extra,
    )
    return message.usage


async def test_write_then_read(client: anthropic.AsyncAnthropic) -> None:
    assert LONG_TOKENS == 2250

    first = await ask(client, cached_system(LONG))
    assert first.cache_creation_input_tokens == LONG_TOKENS
    assert first.cache_read_input_tokens == 0
    assert first.cache_creation is not None
    assert first.cache_creation.ephemeral_5m_input_tokens == LONG_TOKENS
    assert first.cache_creation.ephemeral_1h_input_tokens == 0
    assert first.input_tokens == text_tokens(QUESTION)  # only the uncached remainder

    second = await ask(client, cached_system(LONG))
    assert second.cache_read_input_tokens == LONG_TOKENS
    assert second.cache_creation_input_tokens == 0
    assert second.input_tokens == text_tokens(QUESTION)


async def test_stream_reports_cache_usage(client: anthropic.AsyncAnthropic) -> None:
    await ask(client, cached_system(LONG))
    async with client.messages.stream(
        model=MODEL,
        max_tokens=32,
        system=cached_system(LONG),
        messages=[{"role": "user", "content": QUESTION}],
    ) as stream:
        final = await stream.get_final_message()
    assert final.usage.cache_read_input_tokens == LONG_TOKENS


async def test_prefix_below_model_minimum_is_not_cached(client: anthropic.AsyncAnthropic) -> None:
    for _ in range(2):
        usage = await ask(client, cached_system(SHORT))
        assert usage.cache_creation_input_tokens == 0
        assert usage.cache_read_input_tokens == 0
        assert usage.input_tokens == text_tokens(SHORT) + text_tokens(QUESTION)


async def test_minimum_depends_on_model(client: anthropic.AsyncAnthropic) -> None:
    # 2250 tokens: enough for Sonnet 4.6 (2048) but not for Haiku 4.5 (4096).
    usage = await ask(client, cached_system(LONG), model="claude-haiku-4-5")
    assert usage.cache_creation_input_tokens == 0
    assert usage.input_tokens == LONG_TOKENS + text_tokens(QUESTION)


async def test_ttl_expiry_and_refresh_on_read(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    assert (await ask(client, cached_system(LONG))).cache_creation_input_tokens == LONG_TOKENS
    emulator.advance_clock(200)
    assert (await ask(client, cached_system(LONG))).cache_read_input_tokens == LONG_TOKENS
    emulator.advance_clock(200)  # 400 s after the write, 200 s after the refreshing read
    assert (await ask(client, cached_system(LONG))).cache_read_input_tokens == LONG_TOKENS
    emulator.advance_clock(301)
    expired = await ask(client, cached_system(LONG))
    assert expired.cache_read_input_tokens == 0
    assert expired.cache_creation_input_tokens == LONG_TOKENS


async def test_one_hour_ttl(client: anthropic.AsyncAnthropic, emulator: EmulatorProcess) -> None:
    first = await ask(client, cached_system(LONG, ttl="1h"))
    assert first.cache_creation is not None
    assert first.cache_creation.ephemeral_1h_input_tokens == LONG_TOKENS
    assert first.cache_creation.ephemeral_5m_input_tokens == 0
    emulator.advance_clock(1800)
    assert (await ask(client, cached_system(LONG, ttl="1h"))).cache_read_input_tokens == LONG_TOKENS


async def test_cache_is_per_api_key(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    await ask(client, cached_system(LONG))
    async with anthropic.AsyncAnthropic(
        base_url=emulator.url, api_key="other-key", max_retries=0
    ) as other:
        usage = await ask(other, cached_system(LONG))
    assert usage.cache_read_input_tokens == 0
    assert usage.cache_creation_input_tokens == LONG_TOKENS


async def test_changed_prefix_misses(client: anthropic.AsyncAnthropic) -> None:
    await ask(client, cached_system(LONG))
    usage = await ask(client, cached_system(LONG + "Cambio."))
    assert usage.cache_read_input_tokens == 0
    assert usage.cache_creation_input_tokens == text_tokens(LONG + "Cambio.")


async def test_tools_and_two_breakpoints_split_by_ttl(client: anthropic.AsyncAnthropic) -> None:
    from quipu.testing.emulator.tokens import json_text

    tool = {"name": "consultar_sii", "input_schema": {"type": "object", "description": LONG}}
    tools = [{**tool, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    tool_tokens = text_tokens(json_text(tool))

    usage = await ask(client, cached_system(LONG), tools=tools)

    assert usage.cache_creation is not None
    assert usage.cache_creation.ephemeral_1h_input_tokens == tool_tokens
    assert usage.cache_creation.ephemeral_5m_input_tokens == LONG_TOKENS
    assert usage.cache_creation_input_tokens == tool_tokens + LONG_TOKENS


async def test_automatic_caching_follows_the_conversation(
    client: anthropic.AsyncAnthropic,
) -> None:
    system = [{"type": "text", "text": LONG}]
    turn1: list[anthropic.types.MessageParam] = [{"role": "user", "content": QUESTION}]
    first = await client.messages.create(
        model=MODEL,
        max_tokens=32,
        system=system,
        messages=turn1,
        cache_control={"type": "ephemeral"},
    )
    assert first.usage.cache_creation_input_tokens == LONG_TOKENS + text_tokens(QUESTION)

    answer, follow_up = "Un documento tributario.", "¿Y la retención?"
    turn2: list[anthropic.types.MessageParam] = [
        *turn1,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": follow_up},
    ]
    second = await client.messages.create(
        model=MODEL,
        max_tokens=32,
        system=system,
        messages=turn2,
        cache_control={"type": "ephemeral"},
    )
    # The breakpoint moved to the new last message; lookback finds the previous prefix.
    assert second.usage.cache_read_input_tokens == LONG_TOKENS + text_tokens(QUESTION)
    assert second.usage.cache_creation_input_tokens == text_tokens(answer) + text_tokens(follow_up)
    assert second.usage.input_tokens == 0


async def test_more_than_four_breakpoints_is_rejected(client: anthropic.AsyncAnthropic) -> None:
    system = [
        {"type": "text", "text": f"bloque {i}", "cache_control": {"type": "ephemeral"}}
        for i in range(5)
    ]
    with pytest.raises(anthropic.BadRequestError) as raised:
        await ask(client, system)
    assert raised.value.api_message == (
        "A maximum of 4 blocks with cache_control may be provided. Found 5."
    )


# --- unit level ----------------------------------------------------------------------------


def segment(name: str, tokens: int, ttl: str | None = None) -> Segment:
    cache = CacheControl("ephemeral", ttl) if ttl else None  # type: ignore[arg-type]
    return Segment(tokens, name.encode(), cache)


def test_lookback_is_bounded_to_twenty_segments() -> None:
    cache = PromptCache(lambda: 0.0)
    assert cache.apply("k", "m", [segment("head", 100, "5m")], 50).write_5m == 100
    head = segment("head", 100)  # same prefix, breakpoint moved further on

    near = [head, *(segment(f"s{i}", 1) for i in range(18)), segment("end", 1, "5m")]
    assert cache.apply("k", "m", near, 50) == CacheOutcome(read=100, write_5m=19)

    far = [head, *(segment(f"t{i}", 1) for i in range(30)), segment("end", 1, "5m")]
    assert cache.apply("k", "m", far, 50) == CacheOutcome(read=0, write_5m=131)


def test_other_model_or_key_never_hits() -> None:
    cache = PromptCache(lambda: 0.0)
    prompt = [segment("head", 100, "5m")]
    cache.apply("k", "m", prompt, 50)
    assert cache.apply("k", "other-model", prompt, 50).read == 0
    assert cache.apply("other-key", "m", prompt, 50).read == 0
    assert cache.apply("k", "m", prompt, 50).read == 100
