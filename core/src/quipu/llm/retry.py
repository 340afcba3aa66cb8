"""Which upstream failures to retry, and how long to wait before the next attempt."""

from __future__ import annotations

import email.utils
import random
import time
from typing import Any

from quipu.config import RetrySection

__all__ = ["Failure", "classify", "next_delay"]

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class Failure:
    """An upstream failure, classified once."""

    __slots__ = ("counts_for_breaker", "kind", "retry_after_s", "retryable", "status")

    def __init__(
        self,
        kind: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after_s: float | None = None,
        counts_for_breaker: bool = True,
    ) -> None:
        self.kind = kind
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s
        self.counts_for_breaker = counts_for_breaker


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def classify(exc: BaseException) -> Failure:
    """Classify an SDK exception: kind, whether to retry, server-advised delay."""
    import anthropic  # the SDK costs ~1 s to import: only once a call has failed

    if isinstance(exc, anthropic.APITimeoutError):
        return Failure("timeout", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return Failure("connection", retryable=True)
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        headers = exc.response.headers if exc.response is not None else None
        retry_after = _retry_after(headers)
        should = headers.get("x-should-retry") if headers is not None else None
        retryable = status in RETRY_STATUSES
        if should == "false":
            retryable = False
        elif should == "true":
            retryable = True
        if status == 429 and retry_after is None:
            # A 429 without retry-after is a spend cap, not a burst: waiting will not help.
            retryable = False
        kind = {429: "rate_limited", 529: "overloaded", 408: "timeout", 504: "timeout"}.get(
            status, "server_error" if status >= 500 else "bad_request"
        )
        # Client errors say nothing about the model's health.
        counts = status >= 500 or status in (408, 429)
        return Failure(
            kind,
            retryable=retryable,
            status=status,
            retry_after_s=retry_after,
            counts_for_breaker=counts,
        )
    if _is_transport_error(exc):
        # The SDK lets a connection dropped mid-body through unwrapped.
        return Failure("connection", retryable=True)
    return Failure("other", retryable=False, counts_for_breaker=False)


def _is_transport_error(exc: BaseException) -> bool:
    import httpx2  # the anthropic SDK's HTTP stack

    return isinstance(exc, httpx2.TransportError)


def next_delay(attempt: int, failure: Failure, config: RetrySection) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    The server's ``retry-after`` wins when given; otherwise exponential backoff with
    full jitter, capped at ``max_delay_s``.
    """
    if failure.retry_after_s is not None:
        return min(failure.retry_after_s, 60.0)
    ceiling = min(config.max_delay_s, config.base_delay_s * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)
