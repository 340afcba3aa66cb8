"""What the gateway records for each call that reached the model, after the answer.

Metrics (requests, latency, overhead, tokens, cost, prompt-cache ratio) and the cost
ledger are written in a task of their own, tracked, so the caller gets its answer without
waiting for Redis; :meth:`Accounting.drain` (at shutdown) and :meth:`Accounting.settle`
(before any ledger read) wait for them, so nothing is lost and a read sees every call
that finished before it.
"""

from __future__ import annotations

import asyncio

from quipu.config import ModelPrice
from quipu.llm.ledger import UsageLedger
from quipu.llm.metrics import (
    LLM_COST,
    LLM_LATENCY,
    LLM_OVERHEAD,
    LLM_PROMPT_CACHE_RATIO,
    LLM_REQUESTS,
    LLM_TOKENS,
)
from quipu.llm.pricing import Usage, cost_usd

__all__ = ["Accounting", "CacheRatio"]


class CacheRatio:
    """Prompt-cache hit ratio per model since start: cache reads over all input tokens."""

    def __init__(self) -> None:
        self.read: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def add(self, model: str, usage: Usage) -> None:
        self.read[model] = self.read.get(model, 0) + usage.cache_read_tokens
        self.total[model] = self.total.get(model, 0) + usage.total_input_tokens
        if self.total[model]:
            LLM_PROMPT_CACHE_RATIO.labels(model).set(self.read[model] / self.total[model])


class Accounting:
    """The gateway's accounting steps (a base class of :class:`~quipu.llm.LlmGateway`)."""

    prices: dict[str, ModelPrice]
    ledger: UsageLedger
    _pending: set[asyncio.Task[None]]
    _cache_ratio: CacheRatio

    async def drain(self) -> None:
        """Wait until the metrics and ledger writes of every finished call are done."""
        while self._pending:
            await self.settle()

    async def settle(self) -> None:
        """Wait for the accounting of the calls finished so far (not of later ones)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def _count(self, plugin: str, model: str, outcome: str) -> None:
        LLM_REQUESTS.labels(plugin, model, outcome).inc()

    def cost(self, model: str, usage: Usage) -> float:
        """What ``usage`` of ``model`` costs in USD (0 for a model without a price)."""
        price = self.prices.get(model)
        return cost_usd(usage, price) if price else 0.0

    def account(
        self,
        plugin: str,
        operation: str,
        model: str,
        company: int | str | None,
        usage: Usage,
        cost: float,
        latency_s: float,
        outcome: str,
        overhead_s: float | None = None,
    ) -> None:
        """Metrics and the ledger for a call that reached the model, after the answer.

        They run in a task of their own, so the caller gets its answer without waiting for
        Redis; :meth:`drain` (called before any ledger read and at shutdown) waits for them,
        so nothing is lost and a read after a call sees it.
        """
        task = asyncio.get_running_loop().create_task(
            self._record(
                plugin, operation, model, company, usage, cost, latency_s, outcome, overhead_s
            )
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _record(
        self,
        plugin: str,
        operation: str,
        model: str,
        company: int | str | None,
        usage: Usage,
        cost: float,
        latency_s: float,
        outcome: str,
        overhead_s: float | None,
    ) -> None:
        self._count(plugin, model, outcome)
        LLM_LATENCY.labels(plugin, model).observe(latency_s)
        if overhead_s is not None:
            LLM_OVERHEAD.labels(plugin, model).observe(overhead_s)
        for kind, value in (
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_tokens),
            ("cache_write", usage.cache_write_tokens),
        ):
            if value:
                LLM_TOKENS.labels(plugin, model, kind).inc(value)
        LLM_COST.labels(plugin, model).inc(cost)
        self._cache_ratio.add(model, usage)
        await self.ledger.record(
            None if company is None else str(company), usage, cost, operation=operation, model=model
        )
