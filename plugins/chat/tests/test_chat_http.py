"""Streaming through a real socket: quipu under Granian, parsed by a standard SSE client.

One ``quipu serve`` subprocess (one worker, only the chat plugin) for the module, pointed at
the session's Anthropic emulator and Redis.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse
from quipu.testing.pytest_plugin import TEST_API_KEY
from quipu.testing.server import QuipuServer

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
CONFIG = """
[platform]
workers = 1

[plugins.chat]
keepalive_s = 0.2
"""


@pytest.fixture(scope="module")
def server(_emulator_process: Any, redis_url: str) -> Iterator[QuipuServer]:
    env = {
        "API_KEY": TEST_API_KEY,
        "REDIS_URL": redis_url,
        "ANTHROPIC_API_KEY": "test",
        "ANTHROPIC_BASE_URL": _emulator_process.url,
        "QUIPU_LOAD_PLUGINS": "chat",
        "QUIPU_WORKERS": "1",
    }
    with tempfile.TemporaryDirectory(prefix="quipu-chat-http-") as folder:
        quipu = QuipuServer(CONFIG, env, folder=Path(folder))
        try:
            quipu.wait_healthy()
            yield quipu
        finally:
            quipu.stop()


@pytest.fixture
def client(
    server: QuipuServer, anthropic_emulator: Any, flush_redis: None
) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=15.0) as http:
        yield http


def test_a_streamed_answer_parses_event_by_event_ending_with_done(
    client: httpx.Client, anthropic_emulator: Any
) -> None:
    anthropic_emulator.configure(tokens_per_s=400)
    anthropic_emulator.script(
        {"user_contains": "XML", "text": "Línea uno.\nLínea dos: <Folio>1</Folio>"}
    )
    question = 'Revisa este XML:\n<DTE version="1.0">\n  <Folio>1</Folio>\n</DTE>'
    with connect_sse(
        client, "POST", "/api/chat/message/stream", json={"message": question}
    ) as source:
        response = source.response
        events = [(sse.event, json.loads(sse.data)) for sse in source.iter_sse()]

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert all(name == "message" for name, _ in events)  # no event: line, as the original
    payloads = [payload for _, payload in events]
    assert [p["type"] for p in payloads[:-1]] == ["text"] * (len(payloads) - 1)
    assert len(payloads) > 3
    done = payloads[-1]
    assert done["type"] == "done"
    metadata = done["metadata"]
    assert {
        "sources",
        "confidence",
        "session_id",
        "llm_used",
        "tokens_used",
        "skill",
        "usage",
    } <= set(metadata)
    text = "".join(p["content"] for p in payloads[:-1])
    assert text == "Línea uno.\nLínea dos: <Folio>1</Folio>"
    session = client.get(f"/api/chat/session/{metadata['session_id']}").json()
    assert [m["content"] for m in session["messages"]] == [question, text]
    sent = anthropic_emulator.requests()["requests"][-1]["body"]
    assert sent["stream"] is True
    assert sent["messages"][-1]["content"][-1]["text"] == question


def test_keepalive_comments_while_the_model_is_slow_to_start(
    client: httpx.Client, anthropic_emulator: Any
) -> None:
    anthropic_emulator.configure(ttft_ms=900)
    started = time.perf_counter()
    lines: list[tuple[float, str]] = []
    with client.stream("POST", "/api/chat/message/stream", json={"message": "hola"}) as response:
        for line in response.iter_lines():  # to the end: nothing left running afterwards
            lines.append((time.perf_counter() - started, line))
    data = [n for n, (_, line) in enumerate(lines) if line.startswith("data: ")]
    first_data = lines[data[0]][0]
    comments = [line for _, line in lines[: data[0]] if line.startswith(":")]
    assert '"type":"done"' in lines[data[-1]][1]
    assert len(comments) >= 2  # every 0.2 s until the first token at 0.9 s
    assert set(comments) == {": keep-alive"}
    assert first_data >= 0.85  # the model's own first token, not before


def test_a_client_that_disconnects_cancels_the_upstream_call_and_usage_is_recorded(
    client: httpx.Client, anthropic_emulator: Any, server: QuipuServer
) -> None:
    anthropic_emulator.configure(tokens_per_s=40, reply_words=400)  # about 30 s of answer
    with connect_sse(
        client, "POST", "/api/chat/message/stream", json={"message": "hola"}
    ) as source:
        events = source.iter_sse()
        received = [json.loads(next(events).data) for _ in range(3)]
    left_at = time.perf_counter()
    assert [e["type"] for e in received] == ["text"] * 3

    record = anthropic_emulator.wait_for_outcome("cancelled", timeout_s=5.0)
    assert record["stream"] is True
    assert time.perf_counter() - left_at < 5.0  # not the 30 s the whole answer would take
    deadline = time.monotonic() + 5.0
    while True:
        costs = client.get("/metrics/costs", params={"period": "today"}).json()
        stream = costs["by_operation"].get("chat.stream")
        if stream or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert stream is not None
    assert stream["calls"] == 1
    assert stream["tokens"] > 0
    assert stream["cost_usd"] > 0
    assert "client gone, cancelling the answer" in server.output()
