"""Control API: request log, cancellation, runtime config, reset, health."""

from __future__ import annotations

import time

import anthropic
import httpx
import pytest
from quipu.testing.emulator import (
    EmulatorConfig,
    EmulatorProcess,
    EmulatorStartError,
    FaultRule,
    ScriptRule,
)

MODEL = "claude-sonnet-4-6"
HELLO: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hola"}]


async def test_request_log_counts_and_keeps_bodies(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    assert emulator.requests()["count"] == 0  # fresh after reset

    await client.messages.create(model=MODEL, max_tokens=7, messages=HELLO)
    await client.messages.count_tokens(model=MODEL, messages=HELLO)

    log = emulator.requests()
    assert log["count"] == 2
    assert log["outcomes"] == {"completed": 2}
    create, count = log["requests"]
    assert create["path"] == "/v1/messages"
    assert create["body"] == {"model": MODEL, "max_tokens": 7, "messages": HELLO}
    assert create["headers"]["anthropic-version"] == "2026-10-21"
    assert create["headers"]["authorization"] == "Bearer test-key"
    assert create["status"] == 200
    assert count["path"] == "/v1/messages/count_tokens"
    assert emulator.requests(limit=1)["requests"] == [count]


async def test_early_stream_close_is_logged_as_cancelled(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.configure(tokens_per_s=20, reply_words=40)
    received: list[str] = []
    async with client.messages.stream(model=MODEL, max_tokens=500, messages=HELLO) as stream:
        async for text in stream.text_stream:
            received.append(text)
            if len(received) == 2:
                break  # leaving the context manager closes the connection

    record = emulator.wait_for_outcome("cancelled")
    assert record["stream"] is True
    assert emulator.requests()["outcomes"] == {"cancelled": 1}


async def test_runtime_latency_config(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    config = emulator.configure(ttft_ms=300)
    assert config["ttft_ms"] == 300
    started = time.monotonic()
    await client.messages.create(model=MODEL, max_tokens=50, messages=HELLO)
    assert time.monotonic() - started >= 0.3

    emulator.reset()
    started = time.monotonic()
    await client.messages.create(model=MODEL, max_tokens=50, messages=HELLO)
    assert time.monotonic() - started < 0.3


async def test_tokens_per_second_paces_the_stream(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.configure(tokens_per_s=100, reply_words=12)
    started = time.monotonic()
    async with client.messages.stream(model=MODEL, max_tokens=500, messages=HELLO) as stream:
        final = await stream.get_final_message()
    elapsed = time.monotonic() - started
    # Every word but the first is paced at len/4 tokens: at least ~0.15 s for 12 words.
    assert final.usage.output_tokens > 15
    assert elapsed >= (final.usage.output_tokens - 5) / 100


def test_invalid_config_change_is_rejected(emulator: EmulatorProcess) -> None:
    with pytest.raises(RuntimeError, match="400"):
        emulator.configure(ttft_ms=-1)
    with pytest.raises(RuntimeError, match="400"):
        emulator.configure(no_such_field=1)


def test_reset_clears_scripts_faults_and_log(emulator: EmulatorProcess) -> None:
    emulator.script(ScriptRule(text="x"))
    emulator.faults(FaultRule(fault="500"))
    httpx.get(
        f"{emulator.url}/v1/models", headers={"x-api-key": "k", "anthropic-version": "2023-06-01"}
    )
    assert emulator.requests()["count"] == 1

    emulator.reset()

    assert emulator.requests()["count"] == 0
    assert httpx.get(f"{emulator.url}/_emulator/script").json() == {"rules": []}
    assert httpx.get(f"{emulator.url}/_emulator/faults").json() == {"rules": []}


def test_health_and_unknown_routes(emulator: EmulatorProcess) -> None:
    health = httpx.get(f"{emulator.url}/_emulator/health").json()
    assert health["status"] == "ok"
    assert httpx.get(f"{emulator.url}/_emulator/nope").status_code == 404
    outside = httpx.get(f"{emulator.url}/elsewhere")
    assert outside.status_code == 404
    assert outside.json()["error"]["type"] == "not_found_error"
    assert emulator.requests()["count"] == 0  # control and unknown routes are not logged


def test_start_failure_reports_the_server_output() -> None:
    broken = EmulatorConfig(reply_words=0)  # constructors do not validate; the server does
    with pytest.raises(EmulatorStartError, match="invalid configuration"):
        EmulatorProcess(broken, startup_timeout_s=10).start()


def test_port_already_served_is_detected(emulator: EmulatorProcess) -> None:
    # Granian binds with SO_REUSEPORT, so a second server would share the port silently.
    with pytest.raises(EmulatorStartError, match="already served"):
        EmulatorProcess(port=emulator.port, startup_timeout_s=10).start()
    assert httpx.get(f"{emulator.url}/_emulator/health").json()["instance"]
