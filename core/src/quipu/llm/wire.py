"""The Messages API on the wire, with msgspec: request bytes, the reply, the stream's events.

The gateway sends ready bytes (over :mod:`quipu.llm.transport`, with the SDK client's
headers and exceptions, or through the SDK client's ``post()`` without aiohttp) and takes
bytes or plain event dicts back, instead of ``messages.create``/``messages.stream``.
Those walk every request through the SDK's TypedDict transform and ``json.dumps``, and
build a pydantic model for the reply and for every streamed event: about a millisecond
per call, most of quipu's overhead around a fast model (docs/profiling.md). msgspec does
the same work in microseconds.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["StreamState", "WireMessage", "WireUsage", "decode_message", "encode_request"]

PATH = "/v1/messages"
HEADERS = {"Content-Type": "application/json"}
_encoder = msgspec.json.Encoder()


class WireCacheCreation(msgspec.Struct):
    """``usage.cache_creation``: writes split by TTL."""

    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class WireUsage(msgspec.Struct):
    """``usage`` (or a ``message_delta``'s cumulative usage); read by ``Usage.from_anthropic``."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: WireCacheCreation | None = None


class WireMessage(msgspec.Struct):
    """A reply (or a stream's snapshot of it): only the fields quipu reads."""

    content: list[dict[str, Any]]
    stop_reason: str | None = None
    usage: WireUsage = msgspec.field(default_factory=WireUsage)
    model: str | None = None
    id: str | None = None


_decoder = msgspec.json.Decoder(WireMessage)


def encode_request(params: dict[str, Any]) -> bytes:
    """The JSON body of ``params`` (``extra_body`` merged in, as the SDK would)."""
    extra = params.get("extra_body")
    if extra:
        params = {**{k: v for k, v in params.items() if k != "extra_body"}, **extra}
    return _encoder.encode(params)


def decode_message(body: bytes) -> WireMessage:
    """A non-streamed reply."""
    return _decoder.decode(body)


def content_block(block: dict[str, Any]) -> dict[str, Any]:
    """A content block as the SDK's ``model_dump(exclude_none=True)`` gave it."""
    return {key: value for key, value in block.items() if value is not None}


class StreamState:
    """Rebuilds the message from raw stream events, as the SDK's accumulator does.

    ``message_delta`` usage is cumulative: ``output_tokens`` is replaced, the other fields
    only when present (gateway-anchors A.4, rule 3).
    """

    def __init__(self) -> None:
        self.message: WireMessage | None = None
        self._json: dict[int, list[str]] = {}
        self.finished = False

    def feed(self, event: dict[str, Any]) -> str | None:
        """Apply one event; returns the text of a ``text_delta``, else None."""
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event["delta"]
            message = self.message
            if message is None:
                raise RuntimeError(f"stream event {kind!r} before message_start")
            index = event["index"]
            if delta.get("type") == "text_delta":
                block = message.content[index]
                block["text"] = block.get("text", "") + delta["text"]
                text: str = delta["text"]
                return text
            if delta.get("type") == "input_json_delta":
                self._json.setdefault(index, []).append(delta.get("partial_json", ""))
            return None
        if kind == "message_start":
            self.message = msgspec.convert(event["message"], WireMessage)
        elif self.message is None:
            if kind in ("ping", None):
                return None
            raise RuntimeError(f"stream event {kind!r} before message_start")
        elif kind == "content_block_start":
            self.message.content.append(dict(event["content_block"]))
        elif kind == "content_block_stop":
            parts = self._json.pop(event["index"], None)
            if parts is not None:
                joined = "".join(parts)
                self.message.content[event["index"]]["input"] = (
                    msgspec.json.decode(joined) if joined else {}
                )
        elif kind == "message_delta":
            self.message.stop_reason = event.get("delta", {}).get("stop_reason")
            self._merge_usage(event.get("usage") or {})
        elif kind == "message_stop":
            self.finished = True
        return None

    def _merge_usage(self, usage: dict[str, Any]) -> None:
        assert self.message is not None
        current = self.message.usage
        for field in WireUsage.__struct_fields__:
            value = usage.get(field)
            if value is None:
                continue
            if field == "cache_creation":
                value = msgspec.convert(value, WireCacheCreation)
            setattr(current, field, value)
