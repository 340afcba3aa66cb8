"""Handlers of ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``."""

from __future__ import annotations

import time

import msgspec

from quipu.testing.emulator.asgi import (
    Disconnect,
    Headers,
    Receive,
    Send,
    base_headers,
    new_id,
    rate_limit_headers,
    send_error,
    send_json,
)
from quipu.testing.emulator.delivery import Pacing, send_json_message, send_stream
from quipu.testing.emulator.faults import FAULT_HEADER, FAULTS, HTTP_FAULTS
from quipu.testing.emulator.protocol import (
    CacheCreation,
    CountTokensRequest,
    Message,
    MessagesRequest,
    TokenCount,
    Usage,
)
from quipu.testing.emulator.replies import plan_reply
from quipu.testing.emulator.scripts import PromptView
from quipu.testing.emulator.state import EmulatorState, RequestRecord
from quipu.testing.emulator.validation import decode, invalid, prepare

__all__ = ["CLIENT_CLOSED", "Call", "count_tokens", "create_message"]

CLIENT_CLOSED = 499
"""Status logged when the client left before any answer was sent (nginx's convention)."""


class Call(msgspec.Struct, frozen=True):
    """One ``/v1`` request after auth and version checks."""

    state: EmulatorState
    receive: Receive
    send: Send
    headers: dict[str, str]
    body: bytes
    api_key: str
    version: str
    request_id: str
    record: RequestRecord


async def count_tokens(call: Call) -> int:
    """Answer ``{"input_tokens": n}``; no cache effect, no faults. Returns the status."""
    state = call.state
    request = decode(call.body, CountTokensRequest)
    prepared = prepare(state.config, state.models, request, call.version)
    await send_json(
        call.send, 200, TokenCount(prepared.input_tokens), base_headers(call.request_id)
    )
    call.record.outcome = "completed"
    return 200


def _pick_fault(call: Call) -> str | None:
    requested = call.headers.get(FAULT_HEADER)
    if requested:
        if requested not in FAULTS:
            raise invalid(f"{FAULT_HEADER}: unknown fault {requested!r}; known: {sorted(FAULTS)}")
        return requested
    return call.state.faults.pick()


async def _send_http_fault(call: Call, fault: str) -> int:
    spec = HTTP_FAULTS[fault]
    extra: Headers = []
    if spec.retry_after:
        extra.append((b"retry-after", str(call.state.config.retry_after_s).encode()))
    if spec.should_retry is not None:
        extra.append((b"x-should-retry", b"true" if spec.should_retry else b"false"))
    await send_error(
        call.send,
        spec.status,
        spec.error_type,
        spec.message,
        call.request_id,
        extra_headers=extra,
        details=spec.details,
    )
    call.record.outcome = "error"
    return spec.status


def _mark_first_token(record: RequestRecord) -> None:
    record.first_token_ms = (time.time() - record.received_at) * 1000


async def create_message(call: Call) -> int:
    """Validate, apply faults, the prompt cache and scripts, then reply. Returns the status."""
    state, record = call.state, call.record
    request = decode(call.body, MessagesRequest)
    prepared = prepare(state.config, state.models, request, call.version, request.max_tokens)
    record.stream = request.stream
    record.fault = fault = _pick_fault(call)
    # Without a stream, the closest equivalent of a mid-stream error event is the 529 it
    # stands for (gateway-anchors A.4).
    http_fault = "529" if fault == "stream-error" and not request.stream else fault
    if http_fault in HTTP_FAULTS:
        return await _send_http_fault(call, http_fault)

    config = state.config
    disconnect = Disconnect(call.receive)
    try:
        if fault == "timeout" and not await disconnect.sleep(config.hang_s):
            record.outcome = "cancelled"
            return CLIENT_CLOSED
        cached = state.cache.apply(
            call.api_key, prepared.model_id, prepared.segments, prepared.cache_min_tokens
        )
        view = PromptView.of(request)
        rule = state.scripts.match(view)
        if rule is not None:
            record.script = rule.name or "unnamed"
        reply = plan_reply(request, view, rule, config.reply_words, config.tool_seed)
        usage = Usage(
            input_tokens=prepared.input_tokens - cached.read - cached.written,
            cache_creation_input_tokens=cached.written,
            cache_read_input_tokens=cached.read,
            cache_creation=CacheCreation(cached.write_5m, cached.write_1h),
            output_tokens=reply.output_tokens,
        )
        ttft_ms = config.slow_first_token_ms if fault == "slow-first-token" else config.ttft_ms
        pacing = Pacing(ttft_ms / 1000, config.tokens_per_s)
        # Aliases come back resolved to the dated id, as the real API does.
        model = prepared.model_id
        message_id = new_id("msg_01", 22)
        if request.stream:
            record.outcome = await send_stream(
                call.send,
                disconnect,
                message_id=message_id,
                model=model,
                usage=usage,
                reply=reply,
                pacing=pacing,
                request_id=call.request_id,
                extra=rate_limit_headers(),
                fault=fault,
                on_first_token=lambda: _mark_first_token(record),
            )
        else:
            message = Message(
                id=message_id,
                model=model,
                content=reply.blocks,
                stop_reason=reply.stop_reason,
                stop_sequence=reply.stop_sequence,
                usage=usage,
            )
            record.outcome = await send_json_message(
                call.send,
                disconnect,
                message,
                pacing,
                call.request_id,
                rate_limit_headers(),
                cut=fault == "stream-cut",
            )
            if record.outcome == "cancelled":
                return CLIENT_CLOSED
        return 200
    finally:
        disconnect.close()
