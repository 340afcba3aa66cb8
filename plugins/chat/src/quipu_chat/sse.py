"""Server-sent events, framed as the WHATWG HTML standard parses them.

An event is ``event:``/``id:`` lines (optional), one ``data: `` line per line of the
payload, and a blank line that dispatches it; lines end with a real ``\\n``. A payload with
line breaks becomes several ``data:`` lines, which a parser joins back with ``\\n``.
Comments (``: keep-alive``) keep proxies and clients from timing out while the model is
slow to start; parsers ignore them.

The payloads are the original service's: ``{"type":"text","content":...}`` per text
delta, one final ``{"type":"done","metadata":{...}}``, or ``{"type":"error",...}``. They are
sent without an ``event:`` line by default, as the original did, so a browser
``EventSource.onmessage`` receives them; the ``type`` field tells them apart.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from typing import Any

import msgspec

from quipu_chat.schemas import AnswerUsage, TokenUsage

__all__ = [
    "SSE_HEADERS",
    "DoneEvent",
    "DoneMetadata",
    "ErrorEvent",
    "StreamEvent",
    "TextEvent",
    "sse_comment",
    "sse_event",
    "with_keepalive",
]

#: Response headers of an event stream (media type ``text/event-stream``).
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class TextEvent(msgspec.Struct, tag_field="type", tag="text", kw_only=True):
    """A piece of the answer's text: ``{"type":"text","content":"..."}``."""

    content: str


class DoneMetadata(msgspec.Struct, kw_only=True):
    """What the final event reports about the answer: the original's keys, then ours.

    ``plugin_used`` and ``skill`` are the key of the skill that answered; ``sources`` the
    titles of the knowledge documents used; ``confidence`` as in
    :mod:`quipu_chat.confidence`; ``usage`` as in :class:`quipu_chat.schemas.AnswerUsage`.
    """

    sources: list[str]
    confidence: float
    session_id: str
    llm_used: str = "anthropic"
    tokens_used: TokenUsage | None = None
    plugin_used: str | None = None
    skill: str | None = None
    usage: AnswerUsage | None = None
    confidence_reasons: list[str] = msgspec.field(default_factory=list)


class DoneEvent(msgspec.Struct, tag_field="type", tag="done", kw_only=True):
    """The last event of a successful answer: ``{"type":"done","metadata":{...}}``."""

    metadata: DoneMetadata


class ErrorEvent(msgspec.Struct, tag_field="type", tag="error", kw_only=True, omit_defaults=True):
    """The last event of a failed answer: ``{"type":"error","content":"...","code"?}``.

    ``content`` is for people (no internals); ``code`` a stable machine-readable reason
    such as ``llm_unavailable`` or ``session_forbidden``.
    """

    content: str
    code: str | None = None


StreamEvent = TextEvent | DoneEvent | ErrorEvent

_encoder = msgspec.json.Encoder()


def _single_line(name: str, value: str, forbidden: str) -> str:
    if any(ch in value for ch in forbidden):
        raise ValueError(f"SSE {name} may not contain line breaks or NUL: {value!r}")
    return value


def sse_event(
    data: bytes | str | msgspec.Struct,
    event: str | None = None,
    id: str | None = None,
    retry_ms: int | None = None,
) -> bytes:
    """One framed event.

    Args:
        data: A Struct (sent as compact JSON, which never contains a line break), or
            text/UTF-8 bytes (each of its lines becomes one ``data:`` line).
        event: The event type (``event:`` line); None sends none (type ``message``).
        id: The event id (``id:`` line), which a client sends back as ``Last-Event-ID``.
        retry_ms: Reconnection delay to ask of the client (``retry:`` line).

    Raises:
        ValueError: ``event`` or ``id`` contains a line break (or ``id`` a NUL).
    """
    if isinstance(data, msgspec.Struct):
        text = _encoder.encode(data).decode()
    elif isinstance(data, bytes):
        text = data.decode()
    else:
        text = data
    lines: list[str] = []
    if event is not None:
        lines.append("event: " + _single_line("event", event, "\r\n"))
    if id is not None:
        lines.append("id: " + _single_line("id", id, "\r\n\0"))
    if retry_ms is not None:
        lines.append(f"retry: {int(retry_ms)}")
    lines.extend("data: " + line for line in _LINE_BREAK.split(text))
    return ("\n".join(lines) + "\n\n").encode()


def sse_comment(text: str = "keep-alive") -> bytes:
    """A comment (``: text``), ignored by parsers; keeps an idle stream alive."""
    return ("".join(f": {line}\n" for line in _LINE_BREAK.split(text)) + "\n").encode()


async def _next(iterator: AsyncIterator[bytes]) -> bytes:
    return await anext(iterator)


async def with_keepalive(
    source: AsyncIterable[bytes], interval_s: float, *, comment: str = "keep-alive"
) -> AsyncIterator[bytes]:
    """Pass ``source`` through, adding :func:`sse_comment` after each silent ``interval_s``.

    The pending read is never cancelled by a keep-alive, only when the consumer stops
    (client gone): then ``source`` is cancelled and closed.
    """
    iterator = aiter(source)
    pending: asyncio.Task[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(_next(iterator))
            done, _ = await asyncio.wait({pending}, timeout=interval_s)
            if not done:
                yield sse_comment(comment)
                continue
            task, pending = pending, None
            try:
                item = task.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})
        closer: Any = getattr(iterator, "aclose", None)
        if closer is not None:
            result = closer()
            if isinstance(result, Awaitable):
                await result
