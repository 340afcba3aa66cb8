"""Turn a matched script rule (or the default reply) into the assistant's content blocks.

Unscripted, the reply is what a real model's would be in shape: a request that forces a
tool (``tool_choice`` ``{"type": "tool", "name": ...}``) gets exactly that tool's call, one
with ``{"type": "any"}`` gets a call of one offered tool, each with an input valid against
the tool's ``input_schema`` (generated, seeded by the prompt: same prompt, same input) and
``stop_reason`` ``tool_use``; otherwise a text reply. A matching script always wins.

``stop_sequences`` and ``max_tokens`` are honoured the way a client can observe them: the
text is cut, later blocks are dropped, and ``stop_reason`` says why.
"""

from __future__ import annotations

from typing import Any

import msgspec

from quipu.testing.emulator.asgi import new_id
from quipu.testing.emulator.instances import instance, seeded_rng
from quipu.testing.emulator.protocol import ContentBlock, MessagesRequest, TextBlock, ToolUseBlock
from quipu.testing.emulator.scripts import PromptView, ScriptRule, default_reply
from quipu.testing.emulator.tokens import json_text, text_tokens

__all__ = ["Reply", "block_output_tokens", "forced_tool", "plan_reply"]


class Reply(msgspec.Struct, frozen=True):
    """The assistant turn to send, and what it costs."""

    blocks: list[ContentBlock]
    stop_reason: str
    stop_sequence: str | None
    output_tokens: int


def block_output_tokens(block: ContentBlock) -> int:
    """Output tokens of a block (same rule as input, see :mod:`tokens`)."""
    if isinstance(block, TextBlock):
        return text_tokens(block.text)
    return text_tokens(block.name) + text_tokens(json_text(block.input))


def _scripted_blocks(rule: ScriptRule) -> list[ContentBlock]:
    blocks: list[ContentBlock] = []
    if rule.text is not None:
        blocks.append(TextBlock(rule.text))
    if rule.json is not None:
        blocks.append(TextBlock(msgspec.json.encode(rule.json).decode()))
    for call in rule.tool_use:
        blocks.append(ToolUseBlock(call.id or new_id("toolu_01", 22), call.name, dict(call.input)))
    return blocks


def _cut_at_stop_sequence(
    blocks: list[ContentBlock], stops: list[str]
) -> tuple[list[ContentBlock], str | None]:
    for position, block in enumerate(blocks):
        if not isinstance(block, TextBlock):
            continue
        hits = [(block.text.find(stop), stop) for stop in stops if stop and stop in block.text]
        if hits:
            at, stop = min(hits)
            return [*blocks[:position], TextBlock(block.text[:at])], stop
    return blocks, None


def _cut_at_max_tokens(blocks: list[ContentBlock], budget: int) -> tuple[list[ContentBlock], bool]:
    kept: list[ContentBlock] = []
    for block in blocks:
        cost = block_output_tokens(block)
        if cost <= budget:
            kept.append(block)
            budget -= cost
            continue
        if isinstance(block, TextBlock) and budget > 0:
            # ceil(len/4) <= budget  <=>  len <= 4 * budget
            kept.append(TextBlock(block.text[: 4 * budget]))
        return kept, True
    return kept, False


def forced_tool(request: MessagesRequest, view: PromptView, seed: int) -> dict[str, Any] | None:
    """The tool definition ``tool_choice`` obliges the model to call, or None.

    ``any`` picks one of the offered tools, the same one for the same prompt.
    """
    choice = request.tool_choice or {}
    tools = [tool for tool in request.tools or () if isinstance(tool.get("name"), str)]
    kind = choice.get("type")
    if kind == "tool":
        return next((tool for tool in tools if tool["name"] == choice.get("name")), None)
    if kind == "any" and tools:
        return seeded_rng(str(seed), "any", view.system, view.last_user).choice(tools)
    return None


def _tool_call(tool: dict[str, Any], view: PromptView, seed: int) -> ToolUseBlock:
    rng = seeded_rng(str(seed), tool["name"], view.system, view.last_user)
    value = instance(tool.get("input_schema") or {"type": "object"}, rng)
    return ToolUseBlock(
        new_id("toolu_01", 22), tool["name"], value if isinstance(value, dict) else {}
    )


def plan_reply(
    request: MessagesRequest,
    view: PromptView,
    rule: ScriptRule | None,
    reply_words: int,
    tool_seed: int = 0,
) -> Reply:
    """Content, stop reason and output tokens for ``request``."""
    forced = forced_tool(request, view, tool_seed) if rule is None else None
    if rule is not None:
        blocks = _scripted_blocks(rule)
        has_tool_use = any(isinstance(block, ToolUseBlock) for block in blocks)
        stop_reason = rule.stop_reason or ("tool_use" if has_tool_use else "end_turn")
    elif forced is not None:
        blocks = [_tool_call(forced, view, tool_seed)]
        stop_reason = "tool_use"
    else:
        blocks = [TextBlock(default_reply(view, reply_words))]
        stop_reason = "end_turn"

    stop_sequence = None
    if request.stop_sequences:
        blocks, stop_sequence = _cut_at_stop_sequence(blocks, request.stop_sequences)
        if stop_sequence is not None:
            stop_reason = "stop_sequence"
    blocks, truncated = _cut_at_max_tokens(blocks, request.max_tokens)
    if truncated:
        stop_reason, stop_sequence = "max_tokens", None
    output = sum(block_output_tokens(block) for block in blocks)
    return Reply(blocks, stop_reason, stop_sequence, output)
