"""The direct transport fails exactly as the SDK would: same exception, status, headers."""

from __future__ import annotations

from typing import Any

import anthropic
import msgspec
import pytest
from quipu.llm.transport import DirectTransport
from quipu.llm.wire import HEADERS, PATH

BODY = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 20,
    "messages": [{"role": "user", "content": "hola"}],
}


async def _both(emulator: Any, body: dict[str, Any]) -> tuple[Any, Any]:
    """What the SDK and the direct transport each return or raise for ``body``."""
    client = anthropic.AsyncAnthropic(base_url=emulator.url, api_key="test-key", max_retries=0)
    direct = DirectTransport(client, PATH)
    encoded = msgspec.json.encode(body)
    outcomes: list[Any] = []
    try:
        for send in (
            lambda: client.post(PATH, cast_to=bytes, content=encoded, options={"headers": HEADERS}),
            lambda: direct.post(encoded, 10.0),
        ):
            try:
                outcomes.append(await send())
            except anthropic.APIError as exc:
                outcomes.append(exc)
    finally:
        await direct.aclose()
        await client.close()
    return outcomes[0], outcomes[1]


async def test_a_reply_is_the_same_bytes_shape(anthropic_emulator: Any) -> None:
    sdk, direct = await _both(anthropic_emulator, BODY)
    assert msgspec.json.decode(direct)["usage"] == msgspec.json.decode(sdk)["usage"]
    sent = [r for r in anthropic_emulator.requests()["requests"] if r["path"] == PATH]
    # The SDK's own headers: auth and API version.
    assert sent[1]["headers"]["anthropic-version"] == sent[0]["headers"]["anthropic-version"]
    assert sent[1]["headers"]["authorization"] == sent[0]["headers"]["authorization"]


@pytest.mark.parametrize("fault", ["429", "529", "500"])
async def test_http_errors_are_the_sdks_exceptions(anthropic_emulator: Any, fault: str) -> None:
    anthropic_emulator.faults({"fault": fault, "count": 2})
    sdk, direct = await _both(anthropic_emulator, BODY)
    assert type(direct) is type(sdk)
    assert direct.status_code == sdk.status_code == int(fault)
    assert direct.body == sdk.body | {"request_id": direct.body["request_id"]}
    assert direct.response.headers.get("retry-after") == sdk.response.headers.get("retry-after")


async def test_unknown_model_is_not_found(anthropic_emulator: Any) -> None:
    sdk, direct = await _both(anthropic_emulator, BODY | {"model": "claude-nope"})
    assert isinstance(direct, anthropic.NotFoundError)
    assert str(direct).replace(direct.body["request_id"], "") == str(sdk).replace(
        sdk.body["request_id"], ""
    )


async def test_timeout_and_connection_errors(anthropic_emulator: Any) -> None:
    anthropic_emulator.configure(ttft_ms=500)
    client = anthropic.AsyncAnthropic(base_url=anthropic_emulator.url, api_key="k")
    direct = DirectTransport(client, PATH)
    with pytest.raises(anthropic.APITimeoutError):
        await direct.post(msgspec.json.encode(BODY), 0.05)
    await direct.aclose()
    closed = DirectTransport(
        anthropic.AsyncAnthropic(base_url="http://127.0.0.1:9", api_key="k"), PATH
    )
    with pytest.raises(anthropic.APIConnectionError):
        await closed.post(msgspec.json.encode(BODY), 2.0)
    await closed.aclose()
    await client.close()


async def _sdk_stream(client: Any, encoded: bytes) -> list[Any]:
    from anthropic import AsyncStream

    up = await client.post(
        PATH,
        cast_to=object,
        content=encoded,
        stream=True,
        stream_cls=AsyncStream[object],
        options={"headers": HEADERS},
    )
    return [event async for event in up]


async def test_stream_events_match_the_sdks(anthropic_emulator: Any) -> None:
    client = anthropic.AsyncAnthropic(base_url=anthropic_emulator.url, api_key="k", max_retries=0)
    direct = DirectTransport(client, PATH)
    encoded = msgspec.json.encode(BODY | {"stream": True})
    try:
        theirs = await _sdk_stream(client, encoded)
        ours = [event async for event in direct.stream(encoded, 10.0)]
        assert [e["type"] for e in ours] == [e["type"] for e in theirs]
        assert ours[-2]["usage"] == theirs[-2]["usage"]  # message_delta
        anthropic_emulator.faults({"fault": "stream-error", "count": 2})
        with pytest.raises(anthropic.APIStatusError) as sdk_error:
            await _sdk_stream(client, encoded)
        with pytest.raises(anthropic.APIStatusError) as our_error:
            [event async for event in direct.stream(encoded, 10.0)]
        assert type(our_error.value) is type(sdk_error.value)
        assert our_error.value.body == sdk_error.value.body
        assert str(our_error.value) == str(sdk_error.value)
    finally:
        await direct.aclose()
        await client.close()
