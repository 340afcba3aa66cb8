"""Minimal ASGI plumbing: types, body reading, JSON/error answers, ids, disconnect watch."""

from __future__ import annotations

import asyncio
import contextlib
import random
import string
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

from quipu.testing.emulator.protocol import ErrorBody, ErrorDetail

__all__ = [
    "ORGANIZATION_ID",
    "ASGIApp",
    "BodyTooLarge",
    "Disconnect",
    "Headers",
    "Receive",
    "Scope",
    "Send",
    "base_headers",
    "new_id",
    "rate_limit_headers",
    "read_body",
    "send_error",
    "send_json",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

_encoder = msgspec.json.Encoder()
_ALPHABET = string.ascii_letters + string.digits
_ids = random.Random()  # ids only need to be unique-looking, not secret
ORGANIZATION_ID = b"6b0f2c1e-1c1d-4e8a-9a7e-0e3a1a7b9c5d"


def new_id(prefix: str, length: int = 24) -> str:
    """An id shaped like Anthropic's (``req_011...``, ``msg_01...``, ``toolu_01...``)."""
    return prefix + "".join(_ids.choices(_ALPHABET, k=length))


def base_headers(request_id: str, content_type: bytes = b"application/json") -> Headers:
    """Headers on every ``/v1`` answer (gateway-anchors A.1)."""
    return [
        (b"content-type", content_type),
        (b"request-id", request_id.encode()),
        (b"anthropic-organization-id", ORGANIZATION_ID),
    ]


_reset_cache: tuple[int, bytes] = (0, b"")


def rate_limit_headers() -> Headers:
    """Static but well-formed ``anthropic-ratelimit-*`` headers; reset is RFC 3339."""
    global _reset_cache
    second = int(time.time())
    if _reset_cache[0] != second:  # formatting once per second keeps this off the hot path
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second + 60)).encode()
        _reset_cache = (second, stamp)
    reset = _reset_cache[1]
    headers: Headers = []
    for kind, limit in (
        (b"requests", b"4000"),
        (b"tokens", b"2000000"),
        (b"input-tokens", b"2000000"),
        (b"output-tokens", b"400000"),
    ):
        prefix = b"anthropic-ratelimit-" + kind
        headers += [
            (prefix + b"-limit", limit),
            (prefix + b"-remaining", limit),
            (prefix + b"-reset", reset),
        ]
    return headers


class BodyTooLarge(Exception):
    """The request body exceeded the configured maximum."""


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None if the client disconnected first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_json(send: Send, status: int, payload: Any, headers: Headers) -> None:
    """One complete JSON answer."""
    body = _encoder.encode(payload)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_error(
    send: Send,
    status: int,
    error_type: str,
    message: str,
    request_id: str,
    *,
    extra_headers: Headers | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """An Anthropic error body (gateway-anchors A.5)."""
    payload = ErrorBody(ErrorDetail(error_type, message, details), request_id)
    await send_json(send, status, payload, base_headers(request_id) + (extra_headers or []))


class Disconnect:
    """Watches ``receive`` for ``http.disconnect`` once the body has been read.

    Granian does not fail ``send`` after the client has gone (it only logs), so the only
    reliable signal of a cancelled stream is the ``http.disconnect`` message.
    """

    def __init__(self, receive: Receive) -> None:
        self.event = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.event.set()

    @property
    def happened(self) -> bool:
        """True once the client has disconnected."""
        return self.event.is_set()

    async def sleep(self, seconds: float) -> bool:
        """Sleep ``seconds``; return False early if the client disconnects meanwhile."""
        if self.event.is_set():
            return False
        if seconds <= 0:
            return True
        if seconds < 0.05:
            # Short pacing sleeps: a plain sleep is cheaper than a wait_for task; the caller
            # checks `happened` after it anyway.
            await asyncio.sleep(seconds)
            return not self.event.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), seconds)
        return not self.event.is_set()

    def close(self) -> None:
        """Stop watching (the response is finished)."""
        self._task.cancel()
