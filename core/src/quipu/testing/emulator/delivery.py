"""Sending a planned reply: one JSON body, or SSE events paced like a real model.

Timing: the first content token comes ``ttft`` seconds after the request, then each chunk
(one word, or 20 characters of tool JSON) after ``len(chunk) / 4 / tokens_per_s`` seconds.
The schedule is absolute (``due`` times), so slow event-loop turns do not add up to drift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec

from quipu.testing.emulator.asgi import Disconnect, Headers, Send, base_headers
from quipu.testing.emulator.protocol import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    DeltaUsage,
    ErrorDetail,
    ErrorEvent,
    InputJsonDelta,
    Message,
    MessageDelta,
    MessageDeltaBody,
    MessageStart,
    MessageStop,
    Ping,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    Usage,
)
from quipu.testing.emulator.replies import Reply

__all__ = ["Pacing", "send_json_message", "send_stream"]

_encoder = msgspec.json.Encoder()
_JSON_CHUNK = 20


class Pacing(msgspec.Struct, frozen=True):
    """Latency of one reply, in seconds and tokens per second (0 = unpaced)."""

    ttft_s: float
    tokens_per_s: float

    def duration(self, output_tokens: int) -> float:
        """Total time a non-streamed reply takes."""
        generation = output_tokens / self.tokens_per_s if self.tokens_per_s > 0 else 0.0
        return self.ttft_s + generation


def _event(name: bytes, payload: msgspec.Struct) -> bytes:
    return b"event: " + name + b"\ndata: " + _encoder.encode(payload) + b"\n\n"


def _deltas(index: int, block: TextBlock | ToolUseBlock) -> list[tuple[bytes, float]]:
    """(event, tokens) per chunk of one block."""
    if isinstance(block, TextBlock):
        words = block.text.split(" ")
        pieces = [words[0], *(" " + word for word in words[1:])]
        pieces = [piece for piece in pieces if piece]
        return [
            (_event(b"content_block_delta", ContentBlockDelta(index, TextDelta(p))), len(p) / 4)
            for p in pieces
        ]
    text = _encoder.encode(block.input).decode()
    return [
        (
            _event(
                b"content_block_delta",
                ContentBlockDelta(index, InputJsonDelta(text[at : at + _JSON_CHUNK])),
            ),
            _JSON_CHUNK / 4,
        )
        for at in range(0, len(text), _JSON_CHUNK)
    ]


def _start_block(block: TextBlock | ToolUseBlock) -> TextBlock | ToolUseBlock:
    # Blocks open empty; their content arrives as deltas.
    return TextBlock("") if isinstance(block, TextBlock) else ToolUseBlock(block.id, block.name, {})


def _frames(reply: Reply, usage: Usage) -> list[tuple[bytes, float]]:
    """Every event after ``message_start`` as (bytes, tokens); tokens > 0 marks a content delta."""
    frames: list[tuple[bytes, float]] = []
    for index, block in enumerate(reply.blocks):
        start = ContentBlockStart(index, _start_block(block))
        frames.append((_event(b"content_block_start", start), 0))
        if index == 0:
            frames.append((_event(b"ping", Ping()), 0))
        frames += _deltas(index, block)
        frames.append((_event(b"content_block_stop", ContentBlockStop(index)), 0))
    # message_delta usage is cumulative: it repeats the input side and gives the final output.
    final_usage = DeltaUsage(
        input_tokens=usage.input_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        output_tokens=reply.output_tokens,
    )
    stop = MessageDeltaBody(reply.stop_reason, reply.stop_sequence)
    frames.append((_event(b"message_delta", MessageDelta(stop, final_usage)), 0))
    frames.append((_event(b"message_stop", MessageStop()), 0))
    return frames


async def send_json_message(
    send: Send,
    disconnect: Disconnect,
    message: Message,
    pacing: Pacing,
    request_id: str,
    extra: Headers,
    *,
    cut: bool = False,
) -> str:
    """Wait as long as generation would take, then send the message. Returns the outcome.

    With ``cut`` only half the body is sent and the connection is dropped (the server aborts
    a response whose app returns before the last body chunk).
    """
    if not await disconnect.sleep(pacing.duration(message.usage.output_tokens)):
        return "cancelled"
    body = _encoder.encode(message)
    await send(
        {"type": "http.response.start", "status": 200, "headers": base_headers(request_id) + extra}
    )
    if cut:
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        return "stream-cut"
    await send({"type": "http.response.body", "body": body, "more_body": False})
    return "completed"


async def send_stream(
    send: Send,
    disconnect: Disconnect,
    *,
    message_id: str,
    model: str,
    usage: Usage,
    reply: Reply,
    pacing: Pacing,
    request_id: str,
    extra: Headers,
    fault: str | None,
    on_first_token: Callable[[], None] | None = None,
) -> str:
    """Emit the SSE sequence of gateway-anchors A.4. Returns the outcome for the log.

    ``stream-error`` sends an ``error`` event after half the content deltas and ends the body
    cleanly; ``stream-cut`` stops at the same point without finishing the chunked body, which
    makes the server drop the connection (what a client sees when the network breaks).
    """
    head = _event(
        b"message_start",
        MessageStart(
            Message(
                id=message_id,
                model=model,
                content=[],
                stop_reason=None,
                usage=msgspec.structs.replace(usage, output_tokens=1),
            )
        ),
    )
    frames = _frames(reply, usage)
    deltas_total = sum(1 for _, tokens in frames if tokens > 0)
    fault_after = -1
    if fault in ("stream-error", "stream-cut"):
        # After half the content deltas (at least one when there is any content).
        fault_after = max(1, deltas_total // 2) if deltas_total else 0

    headers = [
        *base_headers(request_id, b"text/event-stream"),
        (b"cache-control", b"no-cache"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": head, "more_body": True})

    loop = asyncio.get_running_loop()
    due = loop.time() + pacing.ttft_s
    first = True
    sent_deltas = 0
    for frame, tokens in frames:
        if tokens > 0:
            if not first and pacing.tokens_per_s > 0:
                due += tokens / pacing.tokens_per_s
            first = False
            if not await disconnect.sleep(due - loop.time()):
                return "cancelled"
        elif disconnect.happened:
            return "cancelled"
        if sent_deltas == fault_after:
            if fault == "stream-cut":
                return "stream-cut"  # returning without more_body=False aborts the connection
            error = ErrorEvent(ErrorDetail("overloaded_error", "Overloaded"))
            await send(
                {"type": "http.response.body", "body": _event(b"error", error), "more_body": False}
            )
            return "stream-error"
        await send({"type": "http.response.body", "body": frame, "more_body": True})
        if tokens > 0:
            if sent_deltas == 0 and on_first_token is not None:
                on_first_token()
            sent_deltas += 1
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    return "completed"
