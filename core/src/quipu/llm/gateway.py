"""The LLM gateway every plugin talks to: one Anthropic client, our retries and breaker,
token and cost guards before sending, usage and cost after.

Plugins call :meth:`LlmGateway.complete` with a registered prompt and its data, or
:meth:`LlmGateway.create` / :meth:`LlmGateway.stream` with ready messages. Errors are
typed (:mod:`quipu.llm.errors`) so a plugin can fall back to rule-based results. The steps a
call shares with a streamed one are in :mod:`quipu.llm.calls`; what it returns is in
:mod:`quipu.llm.result`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.trace import SpanKind

from quipu.config import Settings
from quipu.health import HealthMonitor
from quipu.llm import timing
from quipu.llm.accounting import CacheRatio
from quipu.llm.calls import CallSteps
from quipu.llm.errors import LlmUpstreamError
from quipu.llm.ledger import UsageLedger
from quipu.llm.metrics import LLM_RETRIES
from quipu.llm.pricing import Usage, price_table
from quipu.llm.prompts import render
from quipu.llm.result import LlmResult, ToolUse, llm_span_attributes, set_usage_attributes
from quipu.llm.retry import classify, next_delay
from quipu.llm.streaming import LlmStream
from quipu.llm.transport import DirectTransport, direct_transport, sdk_http_client
from quipu.llm.wire import HEADERS, PATH, decode_message, encode_request
from quipu.observability import genai
from quipu.observability.tracing import span
from quipu.records import PromptTemplate

__all__ = ["LlmGateway", "LlmResult", "ToolUse", "llm_span_attributes", "set_usage_attributes"]


class LlmGateway(CallSteps):
    """Process-wide access to the Anthropic Messages API.

    Args:
        settings: Platform settings (``[llm]``, the key and base URL).
        prompts: The registry's prompts, by ``<plugin>.<name>@<version>``.
        redis: The shared Redis client for the usage ledger, or None.
        health: Where breaker state changes are reported.
        redis_down: Whether Redis is known to be down now (the cache's breaker).
    """

    def __init__(
        self,
        settings: Settings,
        prompts: Mapping[str, PromptTemplate],
        *,
        redis: Any = None,
        health: HealthMonitor | None = None,
        redis_down: Callable[[], bool] | None = None,
    ) -> None:
        self.config = settings.llm
        self.model = settings.llm.model
        self.prices = price_table(settings.llm.prices)
        self.ledger = UsageLedger(redis, redis_down=redis_down)
        self.health = health
        self._prompts = {key.partition("@")[0]: (key, t) for key, t in prompts.items()}
        self._breakers = {}
        self._slots = asyncio.Semaphore(settings.llm.max_concurrency)
        self._cache_ratio = CacheRatio()
        self._pending: set[asyncio.Task[None]] = set()
        self.ledger.before_read = self.settle
        self.client: Any = None
        self.direct: DirectTransport | None = None
        if settings.secrets.anthropic_api_key:
            import anthropic

            # One client, so one keep-alive connection pool, per process, built once.
            self.client = anthropic.AsyncAnthropic(
                api_key=settings.secrets.anthropic_api_key,
                base_url=settings.secrets.anthropic_base_url,
                max_retries=0,  # retries are ours: one 529 must not become three calls
                timeout=settings.llm.deadline_s,
                open_telemetry=False,  # quipu emits the one LLM span itself
                http_client=sdk_http_client(settings.llm.deadline_s),
            )
            self.direct = direct_transport(self.client, PATH)

    @property
    def available(self) -> bool:
        """Whether an API key is configured."""
        return self.client is not None

    async def aclose(self) -> None:
        """Finish the accounting still running, then close the HTTP client."""
        await self.drain()
        if self.direct is not None:
            await self.direct.aclose()
        if self.client is not None:
            await self.client.close()

    # -- calls -------------------------------------------------------------------------

    async def complete(
        self,
        *,
        plugin: str,
        prompt: str,
        data: Mapping[str, Any],
        company: int | str | None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: Mapping[str, Any] | None = None,
        deadline_s: float | None = None,
    ) -> LlmResult:
        """Call a registered prompt (``prompt`` is its local name) with ``data``."""
        key, template = self.template(plugin, prompt)
        rendered = render(key, template, data, ttl=self.config.prompt_cache_ttl)
        return await self.create(
            plugin=plugin,
            operation=f"{plugin}.{prompt}",
            company=company,
            system=rendered.system,
            messages=rendered.messages,
            max_tokens=rendered.max_tokens,
            tools=tools,
            tool_choice=tool_choice,
            deadline_s=deadline_s,
        )

    async def create(
        self,
        *,
        plugin: str,
        operation: str,
        company: int | str | None,
        system: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: Mapping[str, Any] | None = None,
        deadline_s: float | None = None,
        model: str | None = None,
    ) -> LlmResult:
        """One Messages call with guards, retries and accounting, traced as a GenAI span.

        Raises:
            LlmUnavailable: nothing was sent (no key, breaker open, budget spent).
            LlmRequestTooLarge: over ``max_tokens_per_request`` or the cost limit.
            LlmUpstreamError: the model did not answer within the deadline and retries.
        """
        model = model or self.model
        with span(
            f"chat {model}",
            llm_span_attributes(plugin, operation, model, max_tokens),
            kind=SpanKind.CLIENT,
        ) as current:
            try:
                result = await self._create(
                    plugin=plugin,
                    operation=operation,
                    company=company,
                    system=system,
                    messages=messages,
                    max_tokens=max_tokens,
                    tools=tools,
                    tool_choice=tool_choice,
                    deadline_s=deadline_s,
                    model=model,
                )
            except Exception as exc:
                if current is not None:
                    current.set_attribute(
                        genai.ERROR_TYPE,
                        getattr(exc, "kind", None)
                        or getattr(exc, "reason", None)
                        or type(exc).__name__,
                    )
                raise
            if current is not None:
                set_usage_attributes(current, result.usage, result.stop_reason, model)
            return result

    async def _create(
        self,
        *,
        plugin: str,
        operation: str,
        company: int | str | None,
        system: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        tools: Sequence[Mapping[str, Any]] | None,
        tool_choice: Mapping[str, Any] | None,
        deadline_s: float | None,
        model: str,
    ) -> LlmResult:
        clock = timing.current()
        started = time.perf_counter()
        params = self.params(model, system, messages, max_tokens, tools, tool_choice)
        deadline = asyncio.get_running_loop().time() + (deadline_s or self.config.deadline_s)
        breaker = await self.preflight(plugin, model, company, params)
        body = encode_request(params)
        attempt = 0
        llm_s = waited_s = 0.0
        try:
            while True:
                attempt += 1
                try:
                    async with self.slot(deadline):
                        timeout = self.remaining(deadline, model)
                        sent = time.perf_counter()
                        try:
                            if self.direct is not None:
                                raw = await self.direct.post(body, timeout)
                            else:
                                raw = await self.client.post(
                                    PATH,
                                    cast_to=bytes,
                                    content=body,
                                    options={"timeout": timeout, "headers": HEADERS},
                                )
                        finally:
                            llm_s += time.perf_counter() - sent
                except Exception as exc:
                    if isinstance(exc, LlmUpstreamError):
                        raise
                    failure = classify(exc)
                    if failure.counts_for_breaker:
                        breaker.record(False)
                        if not breaker.allow():
                            raise self.failed(plugin, model, failure.kind, exc) from exc
                    delay = next_delay(attempt, failure, self.config.retry)
                    remaining = deadline - asyncio.get_running_loop().time()
                    if (
                        not failure.retryable
                        or attempt >= self.config.retry.max_attempts
                        or delay >= remaining
                    ):
                        raise self.failed(plugin, model, failure.kind, exc) from exc
                    LLM_RETRIES.labels(model, failure.kind).inc()
                    await asyncio.sleep(delay)
                    waited_s += delay
                    continue
                breaker.record(True)
                break
        except BaseException:
            breaker.release_probe()
            raise
        message = decode_message(raw)
        usage = Usage.from_anthropic(message.usage)
        result = LlmResult.from_message(
            message, model, usage, self.cost(model, usage), attempt, started
        )
        now = time.perf_counter()
        overhead = max(0.0, now - clock.mark - llm_s - waited_s)
        clock.after_call(llm_s, overhead, now)
        self.account(
            plugin, operation, model, company, usage, result.cost_usd, now - started, "ok", overhead
        )
        return result

    def stream(self, **kwargs: Any) -> LlmStream:
        """Stream a call as text deltas; see :class:`quipu.llm.streaming.LlmStream`."""
        return LlmStream(self, **kwargs)
