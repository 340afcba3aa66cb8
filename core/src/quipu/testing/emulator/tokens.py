"""Deterministic token counting, shared by ``count_tokens``, usage and the prompt cache.

The rule (simple on purpose, so tests can predict every number):

* a piece of text costs ``ceil(len(text) / 4)`` tokens (Python ``len``: code points);
* a ``text`` block costs its ``text``; a ``thinking`` block its ``thinking``;
* a ``tool_use`` block costs its ``name`` plus the compact JSON of its ``input``;
* a ``tool_result`` block costs its ``content`` (a string, or the sum of its blocks);
* any other block (image, document, ...) costs the compact JSON of the block;
* a tool definition costs the compact JSON of the definition;
* a string ``system`` or string message ``content`` counts as one text block;
* ``cache_control`` never counts, and there is no per-message overhead.

Total input = sum over tools, then system blocks, then message blocks, in that order (the
order the prompt cache uses for prefixes). Output tokens use the same rule on the reply.
"""

from __future__ import annotations

from typing import Any

import msgspec

from quipu.testing.emulator.protocol import CacheControl, CountTokensRequest

__all__ = ["Segment", "block_tokens", "json_text", "request_segments", "text_tokens"]

_encoder = msgspec.json.Encoder(order="sorted")


class Segment(msgspec.Struct, frozen=True):
    """One countable unit of a prompt, in cache-prefix order."""

    tokens: int
    material: bytes
    """Canonical bytes hashed into the cache prefix (role + block without ``cache_control``)."""
    cache: CacheControl | None
    """The breakpoint set on this unit, if any."""


def text_tokens(text: str) -> int:
    """``ceil(len(text) / 4)``."""
    return (len(text) + 3) // 4


def json_text(value: Any) -> str:
    """Compact JSON with sorted keys: the form that both hashing and counting use."""
    return _encoder.encode(value).decode()


def _strip_cache_control(block: dict[str, Any]) -> dict[str, Any]:
    if "cache_control" not in block:
        return block
    return {key: value for key, value in block.items() if key != "cache_control"}


def block_tokens(block: dict[str, Any]) -> int:
    """Tokens of one content block, by the rule in the module docstring."""
    kind = block.get("type")
    if kind == "text":
        return text_tokens(str(block.get("text", "")))
    if kind == "thinking":
        return text_tokens(str(block.get("thinking", "")))
    if kind == "tool_use":
        return text_tokens(str(block.get("name", ""))) + text_tokens(
            json_text(block.get("input", {}))
        )
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, str):
            return text_tokens(content)
        if isinstance(content, list):
            return sum(block_tokens(item) for item in content if isinstance(item, dict))
        return 0
    return text_tokens(json_text(_strip_cache_control(block)))


def _cache_of(block: dict[str, Any]) -> CacheControl | None:
    raw = block.get("cache_control")
    if raw is None:
        return None
    # Raises msgspec.ValidationError on a bad ttl/type; the app turns it into a 400.
    return msgspec.convert(raw, CacheControl)


def _segment(prefix: bytes, block: dict[str, Any], tokens: int) -> Segment:
    return Segment(tokens, prefix + _encoder.encode(_strip_cache_control(block)), _cache_of(block))


def request_segments(request: CountTokensRequest) -> list[Segment]:
    """Split a request into segments: tools, then system blocks, then message blocks.

    A top-level ``cache_control`` ("automatic caching") puts a breakpoint on the last block of
    the last message, so the cached prefix moves forward as the conversation grows.
    """
    segments: list[Segment] = [
        _segment(b"tool:", tool, text_tokens(json_text(_strip_cache_control(tool))))
        for tool in request.tools or ()
    ]
    system = request.system
    if isinstance(system, str):
        system = [{"type": "text", "text": system}] if system else []
    for block in system or ():
        segments.append(_segment(b"system:", block, block_tokens(block)))
    for message in request.messages:
        content = message.content
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        role = message.role.encode()
        for position, block in enumerate(blocks):
            # Mark where a message starts so [u:"a"], [u:"b"] differs from [u:"a","b"].
            prefix = (b"msg:" if position == 0 else b"blk:") + role + b":"
            segments.append(_segment(prefix, block, block_tokens(block)))
    if request.cache_control is not None and segments and segments[-1].cache is None:
        last = segments[-1]
        segments[-1] = Segment(last.tokens, last.material, request.cache_control)
    return segments
