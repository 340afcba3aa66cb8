"""What the LLM gateway raises; each maps to a clear HTTP answer if a plugin lets it through."""

from __future__ import annotations

import math

from litestar.exceptions import HTTPException
from litestar.status_codes import (
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_502_BAD_GATEWAY,
    HTTP_503_SERVICE_UNAVAILABLE,
)

__all__ = [
    "LlmError",
    "LlmRequestTooLarge",
    "LlmUnavailable",
    "LlmUpstreamError",
    "retry_after_seconds",
]


def retry_after_seconds(wait_s: float) -> int:
    """The whole seconds a client is told to wait: rounded up (never early), at least 1.

    Both the ``Retry-After`` header and any "retry in N s" text take their N from this,
    so the two always agree.
    """
    return max(1, math.ceil(wait_s))


class LlmError(HTTPException):
    """Base of the gateway's errors."""

    status_code = HTTP_502_BAD_GATEWAY


class LlmUnavailable(LlmError):
    """No call was made: no API key, breaker open, or the company's budget is spent.

    Plugins turn it into a graceful result (a rule-based verdict); left alone it answers
    503 with ``Retry-After``.

    Attributes:
        reason: ``not_configured`` | ``breaker_open`` | ``budget_exhausted``.
        retry_after_s: When trying again makes sense, if known; ``Retry-After`` is
            :func:`retry_after_seconds` of it (say the same figure in ``detail``).
    """

    status_code = HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, reason: str, detail: str, retry_after_s: float | None = None) -> None:
        headers = (
            {"Retry-After": str(retry_after_seconds(retry_after_s))}
            if retry_after_s is not None
            else None
        )
        super().__init__(detail=detail, headers=headers)
        self.reason = reason
        self.retry_after_s = retry_after_s


class LlmRequestTooLarge(LlmError):
    """Refused before sending: over the token or estimated-cost limit (413)."""

    status_code = HTTP_413_REQUEST_ENTITY_TOO_LARGE


class LlmUpstreamError(LlmError):
    """The model could not answer: retries spent, deadline passed, or a non-retryable error.

    Attributes:
        kind: ``timeout`` | ``overloaded`` | ``rate_limited`` | ``server_error`` |
            ``connection`` | ``bad_request`` | ``stream_interrupted`` | ``other``.
    """

    def __init__(self, kind: str, detail: str, status_code: int | None = None) -> None:
        super().__init__(detail=detail, status_code=status_code or HTTP_502_BAD_GATEWAY)
        self.kind = kind
