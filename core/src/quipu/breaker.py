"""The one circuit breaker of quipu, used by the cache's Redis tier and by the LLM gateway.

Two rules open it, either or both configured per breaker:

- ``failures``: that many failures in a row (Redis: a dead server fails every call).
- ``failure_ratio`` of at least ``min_calls`` outcomes within ``window_s`` (the LLM: an
  overloaded model fails some calls, not all).

and two ways close it again:

- ``cooldown_s``: after it, the breaker reads ``half_open`` and lets exactly one probe call
  through; its success closes the breaker, its failure reopens it (the LLM).
- no cooldown: the owner probes on its own and calls :meth:`CircuitBreaker.close` (Redis,
  whose background PING means no request ever waits on a dead server to find out).

Every change of state is handed to ``on_change`` at once, so health and metrics show it the
moment it happens.

Why our own module (measured with ``perf/bench_breaker.py``): ``aiobreaker`` had its last
release in 2021; ``pybreaker`` (kept up) and ``purgatory`` (async) open only on consecutive
failures, not on a failure ratio, and recover only by letting a request through after a
timeout, not by an out-of-band probe, so neither keeps the behaviour of both users. They
also cost more where it matters, before every Redis read of the cache: per call, about
0.5 µs (``purgatory``, breaker looked up once), 1.4 µs (``aiobreaker``) and 3.3 µs
(``pybreaker``, a lock per call) against 0.06 µs here, where the cache reads one attribute,
:attr:`CircuitBreaker.open`, and clears a counter after the GET.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

__all__ = ["PROBE_WAIT_S", "CircuitBreaker", "State"]

State = Literal["closed", "open", "half_open"]
#: What a caller refused while the half-open probe is in flight is told to wait.
PROBE_WAIT_S = 1.0


class CircuitBreaker:
    """Stops calls to a dependency that is failing, and lets them through once it is back.

    Args:
        failures: Consecutive failures that open it (None: this rule is off).
        failure_ratio: Share of failed calls that opens it (None: this rule is off)...
        min_calls: ...once at least this many calls ended...
        window_s: ...within the last ``window_s`` seconds.
        cooldown_s: Open this long, then half-open (one probe passes). None: stays open
            until :meth:`close`.
        clock: Monotonic seconds (tests pass their own).
        on_change: Called with the new state on every change, synchronously.

    ``open`` is a plain attribute, True while calls are refused: the cheapest check there
    is, for paths that must not pay for the breaker (:meth:`allow` also reserves the
    half-open probe).
    """

    __slots__ = (
        "_clock",
        "_failed_in_window",
        "_on_change",
        "_outcomes",
        "_probe_in_flight",
        "_state",
        "consecutive",
        "cooldown_s",
        "failure_ratio",
        "failures",
        "min_calls",
        "open",
        "opened_at",
        "window_s",
    )

    def __init__(
        self,
        *,
        failures: int | None = None,
        failure_ratio: float | None = None,
        min_calls: int = 1,
        window_s: float = 60.0,
        cooldown_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[State], None] | None = None,
    ) -> None:
        self.failures = None if failures is None else max(1, failures)
        self.failure_ratio = failure_ratio
        self.min_calls = min_calls
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._on_change = on_change
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._failed_in_window = 0  # failures among _outcomes, kept as they come and go
        self._state: State = "closed"
        self._probe_in_flight = False
        self.open = False
        """True while open (not half-open): calls are refused."""
        self.consecutive = 0
        """Failures in a row since the last success."""
        self.opened_at = 0.0
        """When it last opened, on ``clock``."""

    @property
    def state(self) -> State:
        """The current state (an open breaker past its cooldown reads half-open)."""
        if (
            self._state == "open"
            and self.cooldown_s is not None
            and self._clock() - self.opened_at >= self.cooldown_s
        ):
            self._set("half_open")
        return self._state

    def retry_after(self) -> float:
        """Seconds a refused caller should wait before trying again.

        Open: until the cooldown ends and a probe may pass (0 without a cooldown: the
        owner's probe decides). Half-open with the probe in flight: :data:`PROBE_WAIT_S`,
        since its outcome closes (or reopens) the breaker as soon as that one call ends.
        Otherwise 0: nothing is refused.
        """
        state = self.state
        if state == "open" and self.cooldown_s is not None:
            return max(0.0, self.cooldown_s - (self._clock() - self.opened_at))
        if state == "half_open" and self._probe_in_flight:
            return PROBE_WAIT_S
        return 0.0

    def allow(self) -> bool:
        """Whether a call may go through now (reserves the probe when half-open)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def succeeded(self) -> None:
        """A call went through: the fast path of ``record(True)`` for a closed breaker that
        counts only consecutive failures (one store)."""
        self.consecutive = 0
        if self.failure_ratio is not None or self._state != "closed":
            self._record(True)

    def record(self, success: bool) -> None:
        """Record the outcome of an allowed call (opens or closes the breaker as due)."""
        if success:
            self.consecutive = 0
        else:
            self.consecutive += 1
        self._record(success)

    def _record(self, success: bool) -> None:
        now = self._clock()
        if self._state == "half_open":
            self._probe_in_flight = False
            if success:
                self.close()
            else:
                self._open(now)
            return
        if self._state != "closed":
            return
        if not success and self.failures is not None and self.consecutive >= self.failures:
            self._open(now)
            return
        if self.failure_ratio is None:
            return
        outcomes = self._outcomes
        outcomes.append((now, success))
        if not success:
            self._failed_in_window += 1
        horizon = now - self.window_s
        while outcomes and outcomes[0][0] < horizon:
            if not outcomes.popleft()[1]:
                self._failed_in_window -= 1
        calls = len(outcomes)
        if calls >= self.min_calls and self._failed_in_window / calls >= self.failure_ratio:
            self._open(now)

    def release_probe(self) -> None:
        """Give back a reserved probe that never reached upstream (e.g. refused locally)."""
        self._probe_in_flight = False

    def trip(self) -> None:
        """Open now, whatever the counts say (a probe found the dependency gone)."""
        if self._state != "open":
            self._open(self._clock())

    def close(self) -> None:
        """Close now (the owner's probe found the dependency back): calls pass again."""
        self._forget()
        self.consecutive = 0
        self._set("closed")

    def _open(self, now: float) -> None:
        self.opened_at = now
        self._forget()
        self._set("open")

    def _forget(self) -> None:
        self._outcomes.clear()
        self._failed_in_window = 0

    def _set(self, state: State) -> None:
        if state != self._state:
            self._state = state
            self.open = state == "open"
            if self._on_change:
                self._on_change(state)
