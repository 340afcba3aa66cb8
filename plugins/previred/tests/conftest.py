"""Fixtures of the previred plugin's HTTP tests: a clean Redis, a local document server,
and an app factory wired to the Anthropic emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from previred_kit import CLIENT_KEY, DocumentServer, previred_config


@pytest.fixture
def document_server() -> Iterator[DocumentServer]:
    server = DocumentServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(5)


@pytest.fixture
def flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


@pytest.fixture
def previred_app(
    make_quipu_app: Callable[..., Any], anthropic_emulator: Any, flush_redis: None
) -> Callable[..., Any]:
    """``previred_app(server=None, llm=True, extra="", ...)``: the app with the previred plugin."""
    from quipu_previred import plugin

    def build(
        server: DocumentServer | None = None,
        *,
        llm: bool = True,
        extra: str = "",
        plugins: list[tuple[str, Any]] | None = None,
        force_min_interval_s: float = 0,
    ) -> Any:
        env = {"PREVIRED_CLIENT_KEY": CLIENT_KEY}
        if llm:
            env |= {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": anthropic_emulator.url}
        return make_quipu_app(
            [("previred", plugin), *(plugins or [])],
            config=previred_config(server, extra, force_min_interval_s),
            env=env,
        )

    return build
