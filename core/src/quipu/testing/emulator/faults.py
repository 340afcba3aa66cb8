"""Fault injection: per request via the ``x-emulator-fault`` header, or scheduled.

Faults apply to ``POST /v1/messages`` only (never to ``count_tokens``, models or control).
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal, get_args

import msgspec

__all__ = ["FAULTS", "FAULT_HEADER", "HTTP_FAULTS", "Fault", "FaultPlan", "FaultRule", "HttpFault"]

FAULT_HEADER = "x-emulator-fault"

Fault = Literal[
    "429",
    "429-no-retry-after",
    "429-spend-limit",
    "500",
    "504",
    "529",
    "529-no-retry",
    "timeout",
    "stream-error",
    "stream-cut",
    "slow-first-token",
]
FAULTS: frozenset[str] = frozenset(get_args(Fault))


class HttpFault(msgspec.Struct, frozen=True, kw_only=True):
    """An error answer instead of a reply."""

    status: int
    error_type: str
    message: str
    retry_after: bool = False
    should_retry: bool | None = None
    """Value of ``x-should-retry``; None leaves the header out."""
    details: dict[str, Any] | None = None


HTTP_FAULTS: dict[str, HttpFault] = {
    "429": HttpFault(
        status=429,
        error_type="rate_limit_error",
        message="Number of request tokens has exceeded your per-minute rate limit (emulated)",
        retry_after=True,
        should_retry=True,
    ),
    # Same error without the header, so clients must fall back to their own backoff.
    "429-no-retry-after": HttpFault(
        status=429,
        error_type="rate_limit_error",
        message="Rate limited (emulated, no retry-after)",
    ),
    # Tier spend cap: 429 without retry-after; waiting does not help (gateway-anchors A.5).
    "429-spend-limit": HttpFault(
        status=429,
        error_type="rate_limit_error",
        message="You have reached your API usage limit (emulated)",
        should_retry=False,
        details={"error_code": "enforced_spend_limit_reached"},
    ),
    "500": HttpFault(
        status=500, error_type="api_error", message="Internal server error", should_retry=True
    ),
    "504": HttpFault(
        status=504, error_type="timeout_error", message="Request timed out", should_retry=True
    ),
    "529": HttpFault(
        status=529,
        error_type="overloaded_error",
        message="Overloaded",
        retry_after=True,
        should_retry=True,
    ),
    "529-no-retry": HttpFault(
        status=529, error_type="overloaded_error", message="Overloaded", should_retry=False
    ),
}


class FaultRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A scheduled fault.

    ``count`` only: the next ``count`` requests. ``rate`` only: each request with that
    probability, until reset. Both: with that probability, at most ``count`` times.
    Neither: every request until reset.
    """

    fault: Fault
    count: Annotated[int, msgspec.Meta(ge=1)] | None = None
    rate: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None


class FaultPlan:
    """Scheduled faults, checked in order; the first that fires wins."""

    def __init__(self, seed: int | None = None) -> None:
        self._rules: list[tuple[FaultRule, int | None]] = []
        self._rng = random.Random(seed)  # not for security: reproducible fault rates

    def add(self, rules: list[FaultRule], *, replace: bool = False, seed: int | None = None) -> int:
        """Append (or replace with) ``rules``; reseed when ``seed`` is given."""
        if replace:
            self._rules.clear()
        if seed is not None:
            self._rng.seed(seed)
        self._rules.extend((rule, rule.count) for rule in rules)
        return len(self._rules)

    def clear(self, seed: int | None = None) -> None:
        """Drop every rule and reseed."""
        self._rules.clear()
        self._rng.seed(seed)

    def snapshot(self) -> list[dict[str, Any]]:
        """Active rules with their remaining counts."""
        return [
            {"rule": msgspec.to_builtins(rule), "remaining": left} for rule, left in self._rules
        ]

    def pick(self) -> str | None:
        """The fault for the next request, or None."""
        for position, (rule, left) in enumerate(self._rules):
            if rule.rate is not None and self._rng.random() >= rule.rate:
                continue
            if left is not None:
                if left <= 1:
                    del self._rules[position]
                else:
                    self._rules[position] = (rule, left - 1)
            return rule.fault
        return None
