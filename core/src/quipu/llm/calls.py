"""The steps every model call takes, whether answered whole or streamed.

:class:`CallSteps` is the base of :class:`~quipu.llm.LlmGateway`: the gateway's ``create``
and :class:`~quipu.llm.streaming.LlmStream` both build the body (:meth:`~CallSteps.params`),
refuse what must not be sent (:meth:`~CallSteps.preflight`: key, budget, size, breaker),
wait for a slot, watch the deadline and account for the call
(:class:`~quipu.llm.accounting.Accounting`). Keeping them here, under their own names, lets
the streaming module use them without importing the gateway (which imports it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from quipu.breaker import CircuitBreaker, State
from quipu.config import LlmSection
from quipu.health import DependencyState, HealthMonitor
from quipu.llm.accounting import Accounting
from quipu.llm.errors import (
    LlmRequestTooLarge,
    LlmUnavailable,
    LlmUpstreamError,
    retry_after_seconds,
)
from quipu.llm.metrics import LLM_BREAKER_STATE
from quipu.llm.pricing import Usage, cost_usd
from quipu.llm.tokens import estimate_tokens
from quipu.llm.transport import DirectTransport, Slot
from quipu.records import PromptTemplate

__all__ = ["CallSteps"]

log = logging.getLogger("quipu.llm")
_BREAKER_VALUE = {"closed": 0, "half_open": 1, "open": 2}


class CallSteps(Accounting):
    """The steps shared by every call (a base class of :class:`~quipu.llm.LlmGateway`)."""

    config: LlmSection
    model: str
    health: HealthMonitor | None
    client: Any
    direct: DirectTransport | None
    """The aiohttp transport when installed, else None (calls go through ``client``)."""
    _prompts: dict[str, tuple[str, PromptTemplate]]
    _breakers: dict[str, CircuitBreaker]
    _slots: asyncio.Semaphore

    def breaker(self, model: str) -> CircuitBreaker:
        """The breaker of ``model``."""
        found = self._breakers.get(model)
        if found is None:
            cfg = self.config.breaker
            found = CircuitBreaker(
                failure_ratio=cfg.failure_ratio,
                min_calls=cfg.min_calls,
                window_s=cfg.window_s,
                cooldown_s=cfg.cooldown_s,
                on_change=lambda s: self._breaker_changed(model, s),
            )
            self._breakers[model] = found
            LLM_BREAKER_STATE.labels(model).set(0)
        return found

    def _breaker_changed(self, model: str, state: State) -> None:
        LLM_BREAKER_STATE.labels(model).set(_BREAKER_VALUE[state])
        log.warning("LLM circuit breaker for %s is now %s", model, state)
        if self.health is not None:
            self.health.report(
                "llm",
                DependencyState(status="up", detail=f"model {model}")
                if state == "closed"
                else DependencyState(
                    status="degraded",
                    detail=f"circuit breaker {state.replace('_', '-')} for {model} after "
                    "upstream failures; AI features fall back to rule-based results",
                ),
            )

    def template(self, plugin: str, prompt: str) -> tuple[str, PromptTemplate]:
        """``(key, template)`` of ``plugin``'s registered prompt ``prompt``."""
        try:
            return self._prompts[f"{plugin}.{prompt}"]
        except KeyError:
            raise KeyError(f"no prompt {plugin}.{prompt} is registered") from None

    def params(
        self,
        model: str,
        system: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        tools: Sequence[Mapping[str, Any]] | None,
        tool_choice: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The Messages API body of a call (without ``stream``)."""
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "system": list(system),
            "messages": list(messages),
        }
        if tools:
            params["tools"] = list(tools)
        if tool_choice:
            params["tool_choice"] = dict(tool_choice)
        if self.config.sampling:
            # Refused under anthropic-version 2026-10-21; only for models/versions that take it.
            params["extra_body"] = dict(self.config.sampling)
        return params

    async def preflight(
        self, plugin: str, model: str, company: int | str | None, params: dict[str, Any]
    ) -> CircuitBreaker:
        """Refuse before sending when the call cannot or must not be made."""
        if self.client is None:
            self._count(plugin, model, "unavailable_not_configured")
            raise LlmUnavailable(
                "not_configured", "the AI service is not configured (ANTHROPIC_API_KEY unset)"
            )
        await self._check_budget(plugin, model, company)
        await self._check_size(plugin, model, params)
        breaker = self.breaker(model)
        if not breaker.allow():
            self._count(plugin, model, "unavailable_breaker_open")
            wait = retry_after_seconds(breaker.retry_after())  # one figure: body and header
            raise LlmUnavailable(
                "breaker_open",
                f"the AI service is failing and paused for {model}; retry in {wait} s",
                retry_after_s=wait,
            )
        return breaker

    async def _check_budget(self, plugin: str, model: str, company: int | str | None) -> None:
        if company is None:
            return
        budget = self.config.company_budgets_usd.get(str(company), self.config.monthly_budget_usd)
        if budget is None:
            return
        spent = await self.ledger.month_cost(str(company))
        if spent >= budget:
            self._count(plugin, model, "unavailable_budget_exhausted")
            raise LlmUnavailable(
                "budget_exhausted",
                f"company {company} has spent its monthly AI budget "
                f"(USD {spent:.2f} of {budget:.2f}); rule-based results are still served",
            )

    async def _check_size(self, plugin: str, model: str, params: dict[str, Any]) -> None:
        limit = self.config.max_tokens_per_request
        tokens = estimate_tokens(params["system"], params["messages"], params.get("tools", ()))
        mode = self.config.exact_token_count
        if mode == "always" or (
            mode == "near_limit" and tokens >= limit * self.config.near_limit_ratio
        ):
            tokens = await self._exact_count(model, params, fallback=tokens)
        price = self.prices.get(model)
        estimate = (
            cost_usd(Usage(input_tokens=tokens, output_tokens=params["max_tokens"]), price)
            if price
            else 0.0
        )
        if tokens > limit:
            self._count(plugin, model, "refused_tokens")
            raise LlmRequestTooLarge(
                detail=f"the request has about {tokens} input tokens, over the limit of {limit} "
                "per request; send a shorter document or history"
            )
        if estimate > self.config.max_estimated_cost_per_request:
            self._count(plugin, model, "refused_cost")
            raise LlmRequestTooLarge(
                detail=f"the request would cost up to USD {estimate:.2f}, over the limit of "
                f"USD {self.config.max_estimated_cost_per_request:.2f} per request"
            )

    async def _exact_count(self, model: str, params: dict[str, Any], *, fallback: int) -> int:
        try:
            counted = await self.client.messages.count_tokens(
                model=model,
                system=params["system"],
                messages=params["messages"],
                **({"tools": params["tools"]} if "tools" in params else {}),
                timeout=5.0,
            )
            return int(counted.input_tokens)
        except Exception as exc:  # counting is advisory: keep the estimate
            log.warning("count_tokens failed (%s); using the local estimate", type(exc).__name__)
            return fallback

    def slot(self, deadline: float) -> Slot:
        """One of the ``max_concurrency`` places for a call, waited for until ``deadline``."""
        return Slot(self._slots, deadline)

    def remaining(self, deadline: float, model: str) -> float:
        """Seconds left before ``deadline`` (loop time).

        Raises:
            LlmUpstreamError: none are left (a 504).
        """
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise LlmUpstreamError("timeout", f"{model} gave no answer within the deadline", 504)
        return remaining

    def failed(self, plugin: str, model: str, kind: str, exc: BaseException) -> LlmUpstreamError:
        """Count a failed call and say what to raise for it."""
        self._count(plugin, model, f"error_{kind}")
        status = getattr(exc, "status_code", None)
        detail = f"the AI service failed ({kind}" + (f", HTTP {status}" if status else "") + ")"
        return LlmUpstreamError(kind, detail, 504 if kind == "timeout" else 502)
