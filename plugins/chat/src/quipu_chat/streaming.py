"""The body of ``/api/chat/message/stream``: an answer as server-sent events.

The answer is produced by a task of its own, which puts framed events on a queue; the
response body reads the queue. Keeping the model call out of the response's own task is
what makes a client that goes away cancel it cleanly: the server cancels the body (Litestar
cancels it on ``http.disconnect``), the body's ``finally`` cancels the producer once, and
the producer's model stream closes its upstream connection and records the usage so far
(:class:`quipu.llm.streaming.LlmStream`) without being cancelled again on the way.

Events: one ``{"type":"text","content":...}`` per text delta (those already queued when the
body is written leave together, in one chunk), then exactly one of
``{"type":"done","metadata":{...}}`` or ``{"type":"error","content":...,"code":...}``;
:func:`quipu_chat.sse.with_keepalive` adds ``: keep-alive`` comments while nothing comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from quipu.api import LlmRequestTooLarge, LlmUnavailable, LlmUpstreamError

from quipu_chat.session_base import SessionForbidden, SessionNotFound
from quipu_chat.sse import DoneEvent, DoneMetadata, ErrorEvent, TextEvent, sse_event

__all__ = ["Producer", "answer_events", "error_event"]

log = logging.getLogger("quipu.chat.stream")

#: ``async (emit) -> DoneMetadata``: produces the answer, passing each text delta to emit.
Producer = Callable[[Callable[[str], None]], Awaitable[DoneMetadata]]


def error_event(exc: BaseException) -> ErrorEvent:
    """The ``error`` event for a failure: words for people, a stable ``code`` for programs."""
    if isinstance(exc, LlmUnavailable):
        return ErrorEvent(content=str(exc.detail), code="llm_unavailable")
    if isinstance(exc, LlmRequestTooLarge):
        return ErrorEvent(content=str(exc.detail), code="request_too_large")
    if isinstance(exc, LlmUpstreamError):
        return ErrorEvent(content=str(exc.detail), code="llm_error")
    if isinstance(exc, SessionForbidden):
        return ErrorEvent(content=str(exc), code="session_forbidden")
    if isinstance(exc, SessionNotFound):
        return ErrorEvent(content=str(exc), code="session_not_found")
    return ErrorEvent(
        content="the assistant failed unexpectedly; try again in a moment", code="internal"
    )


async def answer_events(produce: Producer) -> AsyncIterator[bytes]:
    """Framed events of one answer; stopping early cancels ``produce``."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def emit(text: str) -> None:
        if text:
            queue.put_nowait(sse_event(TextEvent(content=text)))

    async def run() -> None:
        try:
            metadata = await produce(emit)
            queue.put_nowait(sse_event(DoneEvent(metadata=metadata)))
        except Exception as exc:  # a cancellation (client gone) is not one: nobody reads
            event = error_event(exc)
            if event.code == "internal":
                log.exception("chat stream failed")
            else:
                log.warning("chat stream ended with an error: %s", event.code)
            queue.put_nowait(sse_event(event))
        finally:
            queue.put_nowait(None)

    task = asyncio.get_running_loop().create_task(run())
    try:
        while (item := await queue.get()) is not None:
            # Events already waiting go out in one body chunk: one send per chunk is most of
            # a fast answer's cost, and nothing waits (only what is queued is taken).
            ended = False
            while not queue.empty():
                more = queue.get_nowait()
                if more is None:
                    ended = True
                    break
                item += more
            yield item
            if ended:
                break
    finally:
        if not task.done():
            log.info("chat stream: client gone, cancelling the answer")
            task.cancel()
            # Wait a little for the producer's clean-up; never let it hold up the server.
            with contextlib.suppress(BaseException):
                await asyncio.wait({task}, timeout=2.0)
