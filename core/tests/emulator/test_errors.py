"""Auth, versions, validation and injected faults map to the SDK's exception types."""

from __future__ import annotations

import time

import anthropic
import httpx
import httpx2
import pytest
from quipu.testing.emulator import EmulatorProcess, FaultRule

MODEL = "claude-sonnet-4-6"
HELLO: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hola"}]


def raw_post(emulator: EmulatorProcess, body: object, **headers: str) -> httpx.Response:
    return httpx.post(f"{emulator.url}/v1/messages", headers=headers, json=body)


# --- auth and versions ---------------------------------------------------------------------


def test_missing_key_is_401_in_anthropic_shape(emulator: EmulatorProcess) -> None:
    response = raw_post(
        emulator,
        {"model": MODEL, "max_tokens": 5, "messages": HELLO},
        **{"anthropic-version": "2023-06-01"},
    )

    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    assert body["request_id"] == response.headers["request-id"]
    assert body["request_id"].startswith("req_")


def test_x_api_key_and_bearer_are_both_accepted(emulator: EmulatorProcess) -> None:
    emulator.configure(api_keys=["good"])
    body = {"model": MODEL, "max_tokens": 5, "messages": HELLO}
    version = {"anthropic-version": "2023-06-01"}

    assert raw_post(emulator, body, **version, **{"x-api-key": "good"}).status_code == 200
    assert raw_post(emulator, body, **version, authorization="Bearer good").status_code == 200
    # x-api-key wins when both are sent, like the real API.
    both = raw_post(emulator, body, **version, **{"x-api-key": "bad"}, authorization="Bearer good")
    assert both.status_code == 401
    assert both.json()["error"]["message"] == "invalid x-api-key"


async def test_wrong_key_raises_authentication_error(emulator: EmulatorProcess) -> None:
    emulator.configure(api_keys=["good"])
    async with anthropic.AsyncAnthropic(
        base_url=emulator.url, api_key="bad", max_retries=0
    ) as client:
        with pytest.raises(anthropic.AuthenticationError) as raised:
            await client.messages.create(model=MODEL, max_tokens=5, messages=HELLO)
    assert raised.value.type == "authentication_error"
    assert raised.value.request_id is not None


def test_api_versions(emulator: EmulatorProcess) -> None:
    body = {"model": MODEL, "max_tokens": 5, "messages": HELLO, "temperature": 0.2}
    key = {"x-api-key": "k"}

    # The legacy version still accepts sampling parameters; the current one refuses them.
    assert raw_post(emulator, body, **key, **{"anthropic-version": "2023-06-01"}).status_code == 200
    refused = raw_post(emulator, body, **key, **{"anthropic-version": "2026-10-21"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("temperature:")
    missing = raw_post(emulator, body, **key)
    assert missing.status_code == 400
    assert missing.json()["error"]["message"] == "anthropic-version: header is required"
    unknown = raw_post(emulator, body, **key, **{"anthropic-version": "2099-01-01"})
    assert unknown.status_code == 400


async def test_sdk_sampling_param_is_bad_request(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        await client.messages.create(
            model=MODEL, max_tokens=5, messages=HELLO, extra_body={"top_p": 0.9}
        )
    assert raised.value.type == "invalid_request_error"


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"max_tokens": 5, "messages": HELLO}, "model: Field required"),
        ({"model": MODEL, "messages": HELLO}, "max_tokens: Field required"),
        ({"model": MODEL, "max_tokens": 5}, "messages: Field required"),
        ({"model": MODEL, "max_tokens": 0, "messages": HELLO}, "max_tokens: Expected `int` >= 1"),
        (
            {"model": MODEL, "max_tokens": 5, "messages": []},
            "messages: Expected `array` of length >= 1",
        ),
        (
            {"model": MODEL, "max_tokens": 5, "messages": [{"role": "bot", "content": "x"}]},
            "messages.0.role: Invalid enum value 'bot'",
        ),
    ],
)
def test_bad_bodies_are_invalid_request_errors(
    emulator: EmulatorProcess, body: dict[str, object], message: str
) -> None:
    response = raw_post(emulator, body, **{"x-api-key": "k", "anthropic-version": "2026-10-21"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"] == message


async def test_unknown_model_is_not_found(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as raised:
        await client.messages.create(model="claude-imaginary-9", max_tokens=5, messages=HELLO)
    assert raised.value.api_message == "model: claude-imaginary-9"


# --- faults by header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "exception", "status", "error_type", "retry_after", "should_retry"),
    [
        ("429", anthropic.RateLimitError, 429, "rate_limit_error", "1", "true"),
        ("429-no-retry-after", anthropic.RateLimitError, 429, "rate_limit_error", None, None),
        (
            "429-spend-limit",
            anthropic.EnforcedSpendLimitReachedError,
            429,
            "rate_limit_error",
            None,
            "false",
        ),
        ("500", anthropic.InternalServerError, 500, "api_error", None, "true"),
        ("504", anthropic.GatewayTimeoutError, 504, "timeout_error", None, "true"),
        ("529", anthropic.OverloadedError, 529, "overloaded_error", "1", "true"),
        ("529-no-retry", anthropic.OverloadedError, 529, "overloaded_error", None, "false"),
    ],
)
async def test_http_faults_raise_the_matching_sdk_error(
    client: anthropic.AsyncAnthropic,
    emulator: EmulatorProcess,
    fault: str,
    exception: type[anthropic.APIStatusError],
    status: int,
    error_type: str,
    retry_after: str | None,
    should_retry: str | None,
) -> None:
    with pytest.raises(exception) as raised:
        await client.messages.create(
            model=MODEL, max_tokens=5, messages=HELLO, extra_headers={"x-emulator-fault": fault}
        )

    error = raised.value
    assert error.status_code == status
    assert error.type == error_type
    assert error.request_id == error.response.headers["request-id"]
    assert error.response.headers.get("retry-after") == retry_after
    assert error.response.headers.get("x-should-retry") == should_retry
    assert emulator.requests()["requests"][-1]["fault"] == fault


async def test_stream_error_without_stream_is_overloaded(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.OverloadedError):
        await client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=HELLO,
            extra_headers={"x-emulator-fault": "stream-error"},
        )


async def test_unknown_fault_name_is_rejected(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError):
        await client.messages.create(
            model=MODEL, max_tokens=5, messages=HELLO, extra_headers={"x-emulator-fault": "418"}
        )


async def test_timeout_fault_hits_the_client_timeout_and_is_logged_cancelled(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        await client.with_options(timeout=0.4).messages.create(
            model=MODEL, max_tokens=5, messages=HELLO, extra_headers={"x-emulator-fault": "timeout"}
        )
    assert time.monotonic() - started < 5  # far below hang_s=10

    assert emulator.wait_for_outcome("cancelled")["status"] == 499


async def test_stream_error_event_raises_api_status_error(client: anthropic.AsyncAnthropic) -> None:
    texts: list[str] = []

    async def consume() -> None:
        async with client.messages.stream(
            model=MODEL,
            max_tokens=100,
            messages=HELLO,
            extra_headers={"x-emulator-fault": "stream-error"},
        ) as stream:
            async for text in stream.text_stream:
                texts.append(text)

    with pytest.raises(anthropic.APIStatusError) as raised:
        await consume()

    assert raised.value.type == "overloaded_error"
    assert raised.value.status_code == 200  # the error arrived after a 200, as with the real API
    assert len(texts) == 6  # half of the 12 words, then the error event


async def test_stream_cut_breaks_iteration(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    events: list[str] = []

    async def consume() -> None:
        stream = await client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=HELLO,
            stream=True,
            extra_headers={"x-emulator-fault": "stream-cut"},
        )
        async for event in stream:
            events.append(event.type)

    # The SDK does not wrap errors raised while reading a stream: the transport error surfaces.
    with pytest.raises(httpx2.RemoteProtocolError):
        await consume()

    assert "message_start" in events
    assert "message_stop" not in events
    assert emulator.requests()["requests"][-1]["outcome"] == "stream-cut"


async def test_cut_without_stream_is_a_connection_error(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.APIConnectionError):
        await client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=HELLO,
            extra_headers={"x-emulator-fault": "stream-cut"},
        )


async def test_slow_first_token(client: anthropic.AsyncAnthropic) -> None:
    started = time.monotonic()
    async with client.messages.stream(
        model=MODEL,
        max_tokens=100,
        messages=HELLO,
        extra_headers={"x-emulator-fault": "slow-first-token"},
    ) as stream:
        opened = time.monotonic() - started
        first_text_at = None
        async for _ in stream.text_stream:
            first_text_at = first_text_at or time.monotonic() - started

    assert opened < 0.5  # headers and message_start come at once
    assert first_text_at is not None
    assert first_text_at >= 0.6  # slow_first_token_ms of the session config


# --- scheduled faults ----------------------------------------------------------------------


async def test_next_n_requests_fail_then_recover(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    emulator.faults(FaultRule(fault="529", count=2))

    for _ in range(2):
        with pytest.raises(anthropic.OverloadedError):
            await client.messages.create(model=MODEL, max_tokens=5, messages=HELLO)
    message = await client.messages.create(model=MODEL, max_tokens=5, messages=HELLO)
    assert message.stop_reason == "max_tokens"
    # count_tokens is never faulted
    emulator.faults(FaultRule(fault="500"))
    counted = await client.messages.count_tokens(model=MODEL, messages=HELLO)
    assert counted.input_tokens == 1


async def test_fault_rate_is_seeded_and_partial(
    client: anthropic.AsyncAnthropic, emulator: EmulatorProcess
) -> None:
    async def failures() -> int:
        failed = 0
        for _ in range(30):
            try:
                await client.messages.create(model=MODEL, max_tokens=5, messages=HELLO)
            except anthropic.InternalServerError:
                failed += 1
        return failed

    emulator.faults(FaultRule(fault="500", rate=0.3), seed=7)
    first = await failures()
    emulator.faults(FaultRule(fault="500", rate=0.3), replace=True, seed=7)
    second = await failures()

    assert 0 < first < 30
    assert first == second
