"""Fixtures of the chat plugin's end-to-end tests: the app on the emulator, a tool plugin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from chat_kit import CONFIG, KEY_1, KEY_2, ToolPlugin


@pytest.fixture
def tool_plugin() -> ToolPlugin:
    return ToolPlugin()


@pytest.fixture
def flush_redis(redis_url: str) -> Iterator[None]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield
    client.close()


@pytest.fixture
def chat_app(
    make_quipu_app: Callable[..., Any],
    anthropic_emulator: Any,
    flush_redis: None,
    tool_plugin: ToolPlugin,
) -> Callable[..., Any]:
    """``chat_app(config=..., tools=True, llm=True)``: quipu with the chat plugin."""
    from quipu_chat import plugin

    def build(*, config: str = CONFIG, tools: bool = True, llm: bool = True) -> Any:
        env = {"CHAT_KEY_1": KEY_1, "CHAT_KEY_2": KEY_2}
        if llm:
            env |= {"ANTHROPIC_API_KEY": "test", "ANTHROPIC_BASE_URL": anthropic_emulator.url}
        plugins: list[tuple[str, object]] = [("chat", plugin)]
        if tools:
            plugins.append(("acme", tool_plugin))
        return make_quipu_app(plugins, config=config, env=env)

    return build
