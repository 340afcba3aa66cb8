"""The LLM gateway: Anthropic client, retries, breaker, guards, prompt cache, cost ledger.

Plugins reach it through their context, ``plugin.llm_for(request)`` (:mod:`quipu.api`);
:func:`llm_gateway` is the core's own way in.
"""

from __future__ import annotations

from typing import Any

from quipu.llm import timing
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
    """The gateway of the app serving ``source`` (a request or the app).

    Given a request, its model calls from now on are timed for its ``Server-Timing``
    (``llm``, ``overhead``; see :mod:`quipu.llm.timing`).
    """
    from quipu.state import platform_state

    gateway: LlmGateway = platform_state(source).services["llm"]
    scope = getattr(source, "scope", None)
    if isinstance(scope, dict) and scope.get("type") == "http":
        timing.bind(scope)
    return gateway
