"""The model failing: overloaded, erroring, hanging, failing or cut mid-stream.

quipu runs in-process with every plugin; the model is the Anthropic emulator process with
scheduled faults. Each test has an overall deadline and states what was injected and what
the client saw. The client that disconnects mid-stream (upstream cancelled, usage kept) is
tested over a real socket in
``plugins/chat/tests/test_chat_http.py::test_a_client_that_disconnects_cancels_the_upstream_call_and_usage_is_recorded``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from dte_builders import TODAY, flat_odoo
from dte_http import HISTORY, review
from platform_kit import FULL, bounded, messages_calls

pytestmark = pytest.mark.slow

VALIDATE = "/api/ai/validate"
RETRIES = """
[llm]
deadline_s = 5

[llm.retry]
max_attempts = 3
base_delay_s = 0.01
max_delay_s = 0.05

[llm.breaker]
min_calls = 4
failure_ratio = 0.5
cooldown_s = 30
"""


@pytest.fixture(autouse=True)
def pin_today(monkeypatch: pytest.MonkeyPatch) -> None:
    from quipu_dte import clock

    monkeypatch.setattr(clock, "today_in", lambda zone: TODAY)


@pytest.fixture(autouse=True)
def quick_retry_after(anthropic_emulator: Any) -> None:
    """The emulator's 429/529 say ``retry-after: 0``, so honouring it costs no time."""
    anthropic_emulator.configure(retry_after_s=0)


def dte_body(folio: int = 12345) -> dict[str, Any]:
    """A document the rules would send, with vendor history: the AI review runs."""
    return {"dte_data": flat_odoo() | {"folio": str(folio)}, "history": HISTORY, "company_id": 1}


def sse_events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


async def test_an_overload_burst_is_absorbed_by_retries(
    platform_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    """Injected: two 529 (overloaded) answers, then normal ones. Seen: the DTE review and
    the chat answer both succeed (``ai.status`` used, 200), after 3 upstream attempts for
    the review; nothing of the burst reaches the client."""
    anthropic_emulator.script(review())
    # A breaker that does not open on these four failures (its own test is below).
    app = platform_app(llm_config=RETRIES.replace("min_calls = 4", "min_calls = 50"))

    async def scenario() -> None:
        async with quipu_client(app) as client:
            anthropic_emulator.faults({"fault": "529", "count": 2})
            validated = await client.post(VALIDATE, json=dte_body())
            attempts = len(messages_calls(anthropic_emulator))
            anthropic_emulator.faults({"fault": "529", "count": 2})
            chat = await client.post("/api/chat/message", json={"message": "hola"})
        assert validated.status_code == 200
        assert validated.json()["ai"]["status"] == "used"
        assert attempts == 3
        assert chat.status_code == 200, chat.text
        assert chat.json()["llm_used"] == "anthropic"

    await bounded(20, scenario())


async def test_a_failing_model_gives_rule_verdicts_then_the_breaker_opens(
    platform_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    """Injected: every model call answers 500. Seen: DTE validations answer 200 with the
    rules' verdict and ``ai.status = unavailable`` (``server_error``); chat answers 502 with
    a detail; once the breaker opens (4 failed calls) chat answers 503 with
    ``Retry-After``, the stream route too, and DTE reviews are skipped at once
    (``breaker_open``) without calling the model."""
    anthropic_emulator.script(review())
    anthropic_emulator.faults({"fault": "500"})
    app = platform_app(llm_config=RETRIES.replace("max_attempts = 3", "max_attempts = 1"))

    async def scenario() -> None:
        async with quipu_client(app) as client:
            first = await client.post(VALIDATE, json=dte_body(1))
            failed = [
                await client.post("/api/chat/message", json={"message": f"hola {n}"})
                for n in range(3)
            ]
            calls = len(messages_calls(anthropic_emulator))
            paused = await client.post("/api/chat/message", json={"message": "hola 4"})
            stream = await client.post("/api/chat/message/stream", json={"message": "hola 5"})
            skipped = await client.post(VALIDATE, json=dte_body(2))
            assert len(messages_calls(anthropic_emulator)) == calls  # the breaker held
        assert first.status_code == 200
        assert first.json()["ai"]["status"] == "unavailable"
        assert first.json()["ai"]["reason"] == "server_error"
        assert first.json()["recommendation"] == "send"  # the rules' own verdict
        assert [f.status_code for f in failed] == [502] * 3
        assert all(f.json()["detail"] for f in failed)
        for response in (paused, stream):
            assert response.status_code == 503, response.text
            assert 1 <= int(response.headers["retry-after"]) <= 30
        assert skipped.status_code == 200
        assert skipped.json()["ai"]["reason"] == "breaker_open"

    await bounded(20, scenario())


def retry_figures(response: Any) -> tuple[int, int]:
    """``(Retry-After, N of "retry in N s" in the detail)`` of a 503."""
    found = re.search(r"retry in (\d+) s", response.json()["detail"])
    assert found, response.text
    return int(response.headers["retry-after"]), int(found.group(1))


async def test_retry_after_and_the_detail_give_one_figure(
    platform_app: Callable[..., Any], anthropic_emulator: Any
) -> None:
    """Injected: 500s until the breaker opens (2 s cooldown), then a hanging model, so the
    half-open probe stays in flight. Seen: every 503 (open; probe in flight, JSON and
    stream) has ``Retry-After`` equal to the "retry in N s" of its detail, and in flight
    that figure is 1 s (the probe settles the breaker), not the cooldown."""
    anthropic_emulator.faults({"fault": "500"})
    config = (
        RETRIES.replace("max_attempts = 3", "max_attempts = 1")
        .replace("cooldown_s = 30", "cooldown_s = 2")
        .replace("deadline_s = 5", "deadline_s = 1.5")
    )
    app = platform_app(llm_config=config)
    message = "/api/chat/message"

    async def scenario() -> None:
        # In this event loop (the test client serves one request at a time): the probe
        # must be in flight while the other questions arrive.
        transport = httpx.ASGITransport(app=app)
        async with (
            app.lifespan(),
            httpx.AsyncClient(transport=transport, base_url="http://quipu", headers=FULL) as client,
        ):
            for n in range(4):
                failed = await client.post(message, json={"message": f"hola {n}"})
                assert failed.status_code == 502, failed.text
            opened = await client.post(message, json={"message": "hola 4"})
            assert opened.status_code == 503, opened.text
            header, said = retry_figures(opened)
            assert header == said
            assert 1 <= said <= 2
            await asyncio.sleep(said)  # the cooldown: the next call is the probe
            anthropic_emulator.faults({"fault": "timeout"}, replace=True)
            probe = asyncio.create_task(client.post(message, json={"message": "sonda"}))
            await asyncio.sleep(0.3)  # the probe is waiting on the model
            during = await client.post(message, json={"message": "hola 5"})
            during_stream = await client.post(f"{message}/stream", json={"message": "hola 6"})
            assert (await probe).status_code == 504
        for response in (during, during_stream):
            assert response.status_code == 503, response.text
            assert retry_figures(response) == (1, 1)

    await bounded(20, scenario())


async def test_a_hanging_model_is_cut_off_at_the_deadline(
    platform_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    """Injected: the model accepts the request and hangs (10 s). Seen: the DTE validation
    answers 200 with ``ai.status = unavailable`` (``timeout``) within its 1 s AI deadline
    (plus a margin); chat answers 504 within the 1.5 s ``[llm] deadline_s``; the stream
    route ends with an ``error`` event, also within the deadline. Nothing hangs."""
    anthropic_emulator.faults({"fault": "timeout"})
    app = platform_app(
        "\n[plugins.dte]\nai_deadline_s = 1.0\n",
        llm_config=RETRIES.replace("deadline_s = 5", "deadline_s = 1.5"),
    )

    async def scenario() -> None:
        async with quipu_client(app) as client:
            started = time.perf_counter()
            validated = await client.post(VALIDATE, json=dte_body())
            dte_s = time.perf_counter() - started
            started = time.perf_counter()
            chat = await client.post("/api/chat/message", json={"message": "hola"})
            chat_s = time.perf_counter() - started
            started = time.perf_counter()
            stream = await client.post("/api/chat/message/stream", json={"message": "hola"})
            stream_s = time.perf_counter() - started
        assert validated.status_code == 200
        assert validated.json()["ai"]["status"] == "unavailable"
        assert validated.json()["ai"]["reason"] == "timeout"
        assert dte_s < 1.0 + 1.0, dte_s
        assert chat.status_code == 504, chat.text
        assert chat_s < 1.5 + 1.0, chat_s
        assert stream.status_code == 200
        assert sse_events(stream.text)[-1]["type"] == "error"
        assert stream_s < 1.5 + 1.0, stream_s

    await bounded(20, scenario())


async def test_a_stream_failing_midway_ends_with_an_error_event(
    platform_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    """Injected: the model's stream sends half its text, then an ``error`` event
    (``stream-error``); then a stream whose connection is dropped midway (``stream-cut``).
    Seen: the text so far, then an SSE ``error`` event with code ``llm_error``, each time;
    the half answers are not stored in the session; the next question is answered."""
    anthropic_emulator.configure(reply_words=30)
    app = platform_app(llm_config=RETRIES)

    async def scenario() -> None:
        async with quipu_client(app) as client:
            sid = (await client.post("/api/chat/session/new")).json()["session_id"]
            outcomes = []
            for fault in ("stream-error", "stream-cut"):
                anthropic_emulator.faults({"fault": fault, "count": 1})
                response = await client.post(
                    "/api/chat/message/stream", json={"message": "hola", "session_id": sid}
                )
                outcomes.append((response.status_code, sse_events(response.text)))
            history = (await client.get(f"/api/chat/session/{sid}")).json()
            after = await client.post(
                "/api/chat/message", json={"message": "¿sigues ahí?", "session_id": sid}
            )
        for status, events in outcomes:
            assert status == 200
            assert events[0]["type"] == "text"  # part of the answer arrived
            assert events[-1]["type"] == "error"
            assert events[-1]["code"] == "llm_error"
        assert history["message_count"] == 0
        assert after.status_code == 200
        assert after.json()["session_id"] == sid

    await bounded(20, scenario())
