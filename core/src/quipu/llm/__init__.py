"""The LLM gateway: Anthropic client, retries, breaker, guards, prompt cache, cost ledger.

Plugins reach it through their context, ``plugin.llm_for(request)`` (:mod:`quipu.api`).
"""

from __future__ import annotations

from quipu.llm.errors import (
    LlmError,
    LlmRequestTooLarge,
    LlmUnavailable,
    LlmUpstreamError,
    retry_after_seconds,
)
from quipu.llm.gateway import LlmGateway, LlmResult, ToolUse
from quipu.llm.pricing import Usage, cost_usd

__all__ = [
    "LlmError",
    "LlmGateway",
    "LlmRequestTooLarge",
    "LlmResult",
    "LlmUnavailable",
    "LlmUpstreamError",
    "ToolUse",
    "Usage",
    "cost_usd",
    "retry_after_seconds",
]
