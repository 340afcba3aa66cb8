"""Streaming calls: text deltas as they come, usage recorded however the stream ends.

``async for text in stream`` yields text deltas; ``stream.result`` holds the
:class:`~quipu.llm.gateway.LlmResult` once the model finished. Closing the stream early
(``await stream.aclose()``, or the HTTP client going away) closes the upstream response,
which cancels the request at Anthropic; the usage known so far (input from
``message_start``, output from the last ``message_delta`` or, failing that, estimated from
the text received) is still recorded and priced.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from opentelemetry.trace import SpanKind

from quipu.llm import timing
from quipu.llm.errors import LlmUpstreamError
from quipu.llm.metrics import LLM_RETRIES, LLM_TTFT
from quipu.llm.pricing import Usage
from quipu.llm.prompts import render
from quipu.llm.result import LlmResult, llm_span_attributes, set_usage_attributes
from quipu.llm.retry import classify, next_delay
from quipu.llm.tokens import CHARS_PER_TOKEN
from quipu.llm.wire import HEADERS, PATH, StreamState, encode_request
from quipu.observability import genai, tracing

if TYPE_CHECKING:
    from quipu.llm.calls import CallSteps

__all__ = ["LlmStream"]


def _abort(up: Any) -> None:
    """Drop the connection of an unfinished stream, so the API stops generating.

    httpx closes it on ``close()``; the aiohttp transport would hand a half-read
    connection back to its pool instead, so its response is closed outright.
    """
    stream = getattr(up.response, "stream", None)
    for _ in range(3):  # httpx wraps the transport's stream (BoundAsyncStream)
        native = getattr(stream, "_aiohttp_response", None)
        if native is not None:
            native.close()
            return
        stream = getattr(stream, "_stream", None)


async def _sdk_events(client: Any, body: bytes, timeout_s: float) -> AsyncGenerator[Any, None]:
    """The raw events of a streamed call through the SDK client (no aiohttp installed)."""
    from anthropic import AsyncStream

    up = await client.post(
        PATH,
        cast_to=object,
        content=body,
        stream=True,
        stream_cls=AsyncStream[object],
        options={"timeout": timeout_s, "headers": HEADERS},
    )
    finished = False
    try:
        async for event in up:
            yield event
        finished = True
    finally:
        if not finished:
            _abort(up)
        await up.close()
        if not finished:
            await asyncio.sleep(0)  # the loop closes the socket now


class LlmStream:
    """An async iterator of text deltas from one streaming call.

    Build it with :meth:`LlmGateway.stream` using the arguments of ``create`` (or
    ``prompt`` and ``data`` to render a registered prompt). Guards run on the first
    iteration, so the caller can still answer 413/503 before sending any byte.
    """

    def __init__(
        self,
        gateway: CallSteps,
        *,
        plugin: str,
        company: int | str | None,
        operation: str | None = None,
        system: Sequence[Mapping[str, Any]] = (),
        messages: Sequence[Mapping[str, Any]] = (),
        max_tokens: int = 1024,
        prompt: str | None = None,
        data: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        deadline_s: float | None = None,
        model: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.plugin = plugin
        self.company = company
        self.model = model or gateway.model
        if prompt is not None:
            key, template = gateway.template(plugin, prompt)
            rendered = render(key, template, data or {}, ttl=gateway.config.prompt_cache_ttl)
            system, messages, max_tokens = rendered.system, rendered.messages, rendered.max_tokens
        self.operation = operation or (f"{plugin}.{prompt}" if prompt else f"{plugin}.stream")
        self.params = gateway.params(self.model, system, messages, max_tokens, tools, None)
        self.deadline_s = deadline_s or gateway.config.deadline_s
        self.result: LlmResult | None = None
        self.first_token_s: float | None = None
        self.overhead_s = 0.0
        """quipu's time from the request (or its previous model call) to sending this one."""
        self._iterator: AsyncIterator[str] | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def aclose(self) -> None:
        """Stop early: closes the upstream response (cancelling it) and records usage."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]

    async def _run(self) -> AsyncIterator[str]:
        model = self.model
        started = time.perf_counter()
        deadline = asyncio.get_running_loop().time() + self.deadline_s
        trace_span = None
        if tracing.ENABLED:
            attributes = llm_span_attributes(
                self.plugin, self.operation, model, self.params["max_tokens"]
            )
            attributes[genai.REQUEST_STREAM] = True
            trace_span = tracing.tracer().start_span(
                f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes
            )
        try:
            # aclosing: closing this stream must close the attempt (and its upstream) now.
            async with contextlib.aclosing(self._attempts(started, deadline, trace_span)) as texts:
                async for text in texts:
                    yield text
        finally:
            if trace_span is not None:
                if self.result is not None:
                    set_usage_attributes(
                        trace_span, self.result.usage, self.result.stop_reason, model
                    )
                if self.first_token_s is not None:
                    trace_span.set_attribute(genai.TIME_TO_FIRST_CHUNK, self.first_token_s)
                trace_span.end()

    async def _attempts(
        self, started: float, deadline: float, trace_span: Any
    ) -> AsyncGenerator[str, None]:
        gateway, model = self.gateway, self.model
        loop = asyncio.get_running_loop()
        clock = timing.current()
        breaker = await gateway.preflight(self.plugin, model, self.company, self.params)
        body = encode_request({**self.params, "stream": True})
        attempt = 0
        received: list[str] = []
        snapshot: Any = None
        finished = False
        recorded = False
        sent: float | None = None
        try:
            while True:
                attempt += 1
                try:
                    async with gateway.slot(deadline):
                        timeout = gateway.remaining(deadline, model)
                        if sent is None:
                            sent = time.perf_counter()
                            self.overhead_s = max(0.0, sent - clock.mark)
                        state = StreamState()
                        source: AsyncGenerator[Any, None]
                        if gateway.direct is not None:
                            source = gateway.direct.stream(body, timeout)
                        else:
                            source = _sdk_events(gateway.client, body, timeout)
                        async with contextlib.aclosing(source) as events:
                            async for event in events:
                                text = state.feed(event)
                                snapshot = state.message
                                if text is None:
                                    continue
                                if self.first_token_s is None:
                                    self.first_token_s = time.perf_counter() - started
                                    LLM_TTFT.labels(self.plugin, model).observe(self.first_token_s)
                                received.append(text)
                                yield text
                        finished = state.finished
                    if not finished:
                        raise LlmUpstreamError(
                            "stream_interrupted", "the AI answer was cut off before its end"
                        )
                    breaker.record(True)
                    break
                except LlmUpstreamError:
                    breaker.record(False)
                    raise
                except Exception as exc:
                    failure = classify(exc)
                    if failure.counts_for_breaker:
                        breaker.record(False)
                    remaining = deadline - loop.time()
                    delay = next_delay(attempt, failure, gateway.config.retry)
                    # Once text reached the caller, a retry would repeat it: fail instead.
                    if trace_span is not None:
                        trace_span.set_attribute(genai.ERROR_TYPE, failure.kind)
                    if (
                        received
                        or not failure.retryable
                        or attempt >= gateway.config.retry.max_attempts
                        or delay >= remaining
                        or not breaker.allow()
                    ):
                        kind = "stream_interrupted" if received else failure.kind
                        raise gateway.failed(self.plugin, model, kind, exc) from exc
                    LLM_RETRIES.labels(model, failure.kind).inc()
                    await asyncio.sleep(delay)
            usage = Usage.from_anthropic(snapshot.usage) if snapshot else Usage()
            cost = gateway.cost(model, usage)
            self.result = LlmResult.from_message(snapshot, model, usage, cost, attempt, started)
            now = time.perf_counter()
            clock.after_call(now - (sent or started), self.overhead_s, now)
            gateway.account(
                self.plugin,
                self.operation,
                model,
                self.company,
                usage,
                cost,
                now - started,
                "ok",
                self.overhead_s,
            )
            recorded = True
        finally:
            breaker.release_probe()
            if not recorded and (snapshot is not None or received):
                # Left early or failed mid-way: the tokens were still produced and billed.
                usage = Usage.from_anthropic(snapshot.usage) if snapshot else Usage()
                estimated = int(len("".join(received)) / CHARS_PER_TOKEN) + 1
                if usage.output_tokens < estimated:
                    usage = msgspec.structs.replace(usage, output_tokens=estimated)
                gateway.account(
                    self.plugin,
                    self.operation,
                    model,
                    self.company,
                    usage,
                    gateway.cost(model, usage),
                    time.perf_counter() - started,
                    "cancelled" if not finished else "ok",
                )
