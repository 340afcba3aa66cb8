"""The LLM gateway: Anthropic client, retries, breaker, guards, prompt cache, cost ledger.

Plugins reach it as ``platform_state(request).services["llm"]`` (see
:func:`quipu.llm.llm_gateway`).
"""

from __future__ import annotations

from typing import Any

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
    "llm_gateway",
    "retry_after_seconds",
]


def llm_gateway(source: Any) -> LlmGateway:
    """The gateway of the app serving ``source`` (a request or the app)."""
    from quipu.state import platform_state

    gateway: LlmGateway = platform_state(source).services["llm"]
    return gateway
