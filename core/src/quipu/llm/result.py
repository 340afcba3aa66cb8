"""What a model call returns (:class:`LlmResult`), and how a call is shown on its span."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from opentelemetry.trace import Span

from quipu.llm.pricing import Usage
from quipu.llm.wire import content_block
from quipu.observability import genai

__all__ = ["LlmResult", "ToolUse", "llm_span_attributes", "set_usage_attributes"]


class ToolUse(msgspec.Struct, frozen=True):
    """A tool call the model asked for."""

    id: str
    name: str
    input: dict[str, Any]


class LlmResult(msgspec.Struct, frozen=True, kw_only=True):
    """One completed call."""

    model: str
    text: str
    tool_uses: tuple[ToolUse, ...]
    content: tuple[dict[str, Any], ...]
    """The assistant's content blocks, to send back in a multi-turn conversation."""
    stop_reason: str | None
    usage: Usage
    cost_usd: float
    attempts: int
    duration_ms: float

    @classmethod
    def from_message(
        cls, message: Any, model: str, usage: Usage, cost: float, attempts: int, started: float
    ) -> LlmResult:
        """From the decoded reply (:class:`~quipu.llm.wire.WireMessage`) or a stream's snapshot."""
        content = tuple(content_block(block) for block in message.content)
        return cls(
            model=model,
            text="".join(b.get("text", "") for b in content if b.get("type") == "text"),
            tool_uses=tuple(
                ToolUse(b["id"], b["name"], dict(b.get("input") or {}))
                for b in content
                if b.get("type") == "tool_use"
            ),
            content=content,
            stop_reason=message.stop_reason,
            usage=usage,
            cost_usd=cost,
            attempts=attempts,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def llm_span_attributes(plugin: str, operation: str, model: str, max_tokens: int) -> dict[str, Any]:
    """The GenAI attributes known when a call starts."""
    return {
        genai.OPERATION: "chat",
        genai.PROVIDER: "anthropic",
        genai.REQUEST_MODEL: model,
        genai.REQUEST_MAX_TOKENS: max_tokens,
        "quipu.plugin": plugin,
        "quipu.operation": operation,
    }


def set_usage_attributes(current: Span, usage: Usage, stop_reason: str | None, model: str) -> None:
    """Token usage by the GenAI conventions (cached tokens counted in the input)."""
    current.set_attribute(genai.RESPONSE_MODEL, model)
    current.set_attribute(genai.USAGE_INPUT, usage.total_input_tokens)
    current.set_attribute(genai.USAGE_OUTPUT, usage.output_tokens)
    current.set_attribute(genai.USAGE_CACHE_READ, usage.cache_read_tokens)
    current.set_attribute(genai.USAGE_CACHE_CREATION, usage.cache_write_tokens)
    if stop_reason:
        current.set_attribute(genai.RESPONSE_FINISH_REASONS, [stop_reason])
