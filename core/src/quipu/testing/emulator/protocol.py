"""msgspec Structs for the Anthropic Messages wire format (gateway-anchors A.2-A.6).

Requests are decoded leniently where the real API is open-ended: content blocks, tools and
``tool_choice`` stay plain dicts because new block types appear often and the emulator only
needs a few of their fields. Responses are tagged Structs so ``type`` is always written first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "CacheControl",
    "CacheCreation",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "CountTokensRequest",
    "DeltaUsage",
    "ErrorBody",
    "ErrorDetail",
    "ErrorEvent",
    "InputJsonDelta",
    "InputMessage",
    "Message",
    "MessageDelta",
    "MessageDeltaBody",
    "MessageStart",
    "MessageStop",
    "MessagesRequest",
    "ModelInfo",
    "ModelList",
    "Ping",
    "TextBlock",
    "TextDelta",
    "TokenCount",
    "ToolUseBlock",
    "Usage",
]

Block = dict[str, Any]


# --- requests -------------------------------------------------------------------------------


class CacheControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``{"type": "ephemeral", "ttl": "5m" | "1h"}``; ``ttl`` defaults to 5 minutes."""

    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"] = "5m"


class InputMessage(msgspec.Struct, frozen=True):
    """One entry of ``messages``: a string or a list of content blocks."""

    role: Literal["user", "assistant"]
    content: str | list[Block]


class CountTokensRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Body of ``POST /v1/messages/count_tokens``; unknown fields are ignored."""

    model: str
    messages: Annotated[list[InputMessage], msgspec.Meta(min_length=1)]
    system: str | list[Block] | None = None
    tools: list[Block] | None = None
    tool_choice: Block | None = None
    cache_control: CacheControl | None = None
    # Sampling parameters are only decoded to reject them under API version 2026-10-21.
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None


class MessagesRequest(CountTokensRequest, frozen=True, kw_only=True):
    """Body of ``POST /v1/messages``."""

    max_tokens: Annotated[int, msgspec.Meta(ge=1)]
    stream: bool = False
    stop_sequences: list[str] | None = None
    metadata: dict[str, Any] | None = None


# --- responses ------------------------------------------------------------------------------


class CacheCreation(msgspec.Struct, frozen=True):
    """Split of ``cache_creation_input_tokens`` by TTL."""

    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """``usage`` of a message; ``input_tokens`` excludes cache reads and writes."""

    input_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation: CacheCreation = CacheCreation()
    output_tokens: int
    service_tier: str = "standard"
    inference_geo: str = "global"


class TextBlock(msgspec.Struct, frozen=True, tag="text", tag_field="type"):
    """A ``text`` content block."""

    text: str


class ToolUseBlock(msgspec.Struct, frozen=True, tag="tool_use", tag_field="type"):
    """A ``tool_use`` content block."""

    id: str
    name: str
    input: dict[str, Any]


ContentBlock = TextBlock | ToolUseBlock


class Message(msgspec.Struct, frozen=True, kw_only=True, tag="message", tag_field="type"):
    """A complete assistant message (also the payload of ``message_start`` with no content)."""

    id: str
    role: str = "assistant"
    model: str
    content: list[ContentBlock]
    stop_reason: str | None
    stop_sequence: str | None = None
    usage: Usage


class TokenCount(msgspec.Struct, frozen=True):
    """Answer of ``count_tokens``."""

    input_tokens: int


class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=True):
    """``error`` member of an error body; ``details`` only when set."""

    type: str
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(msgspec.Struct, frozen=True, tag="error", tag_field="type"):
    """HTTP error body: ``{"type": "error", "error": {...}, "request_id": ...}``."""

    error: ErrorDetail
    request_id: str


class ModelInfo(msgspec.Struct, frozen=True, kw_only=True, tag="model", tag_field="type"):
    """One entry of ``GET /v1/models``."""

    id: str
    display_name: str
    created_at: str
    lifecycle: str
    max_input_tokens: int
    max_tokens: int


class ModelList(msgspec.Struct, frozen=True):
    """A page of ``GET /v1/models``."""

    data: list[ModelInfo]
    has_more: bool
    first_id: str | None
    last_id: str | None


# --- stream events (gateway-anchors A.4) ----------------------------------------------------


class MessageStart(msgspec.Struct, frozen=True, tag="message_start", tag_field="type"):
    """First event of a stream."""

    message: Message


class ContentBlockStart(msgspec.Struct, frozen=True, tag="content_block_start", tag_field="type"):
    """Opens block ``index`` (text empty, tool_use input ``{}``)."""

    index: int
    content_block: ContentBlock


class TextDelta(msgspec.Struct, frozen=True, tag="text_delta", tag_field="type"):
    """Text appended to a text block."""

    text: str


class InputJsonDelta(msgspec.Struct, frozen=True, tag="input_json_delta", tag_field="type"):
    """A fragment of a tool_use block's JSON input."""

    partial_json: str


class ContentBlockDelta(msgspec.Struct, frozen=True, tag="content_block_delta", tag_field="type"):
    """A delta for block ``index``."""

    index: int
    delta: TextDelta | InputJsonDelta


class ContentBlockStop(msgspec.Struct, frozen=True, tag="content_block_stop", tag_field="type"):
    """Closes block ``index``."""

    index: int


class MessageDeltaBody(msgspec.Struct, frozen=True):
    """``delta`` of ``message_delta``."""

    stop_reason: str
    stop_sequence: str | None


class DeltaUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Cumulative usage carried by ``message_delta``."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    output_tokens: int


class MessageDelta(msgspec.Struct, frozen=True, tag="message_delta", tag_field="type"):
    """Stop reason and final usage."""

    delta: MessageDeltaBody
    usage: DeltaUsage


class MessageStop(msgspec.Struct, frozen=True, tag="message_stop", tag_field="type"):
    """Last event of a successful stream."""


class Ping(msgspec.Struct, frozen=True, tag="ping", tag_field="type"):
    """Keep-alive; the SDK skips it."""


class ErrorEvent(msgspec.Struct, frozen=True, tag="error", tag_field="type"):
    """Mid-stream error after a 200 (no ``request_id`` on the wire)."""

    error: ErrorDetail
