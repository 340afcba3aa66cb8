"""A circuit breaker per model: open on a failure ratio, cool down, probe once."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from quipu.config import BreakerSection

__all__ = ["CircuitBreaker"]

State = Literal["closed", "open", "half_open"]
#: What a caller refused while the half-open probe is in flight is told to wait.
PROBE_WAIT_S = 1.0


class CircuitBreaker:
    """Counts outcomes in a sliding window and stops calls while a model is failing.

    - closed: calls pass; when at least ``min_calls`` ended in the last ``window_s`` and
      ``failure_ratio`` of them failed, it opens.
    - open: calls fail at once until ``cooldown_s`` has passed, then half-open.
    - half_open: exactly one probe call passes; success closes, failure reopens.
    """

    def __init__(
        self,
        config: BreakerSection,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[State], None] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._on_change = on_change
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._state: State = "closed"
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> State:
        """The current state (an open breaker past its cooldown reads half-open)."""
        if self._state == "open" and self._clock() - self._opened_at >= self.config.cooldown_s:
            self._set("half_open")
        return self._state

    def retry_after(self) -> float:
        """Seconds a refused caller should wait before trying again.

        Open: until the cooldown ends and a probe may pass. Half-open with the probe in
        flight: :data:`PROBE_WAIT_S`, since its outcome closes (or reopens) the breaker
        as soon as that one call ends. Otherwise 0: nothing is refused.
        """
        state = self.state
        if state == "open":
            return max(0.0, self.config.cooldown_s - (self._clock() - self._opened_at))
        if state == "half_open" and self._probe_in_flight:
            return PROBE_WAIT_S
        return 0.0

    def allow(self) -> bool:
        """Whether a call may go upstream now (reserves the probe when half-open)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def record(self, success: bool) -> None:
        """Record the outcome of an allowed call."""
        now = self._clock()
        if self._state == "half_open":
            self._probe_in_flight = False
            if success:
                self._outcomes.clear()
                self._set("closed")
            else:
                self._open(now)
            return
        self._outcomes.append((now, success))
        horizon = now - self.config.window_s
        while self._outcomes and self._outcomes[0][0] < horizon:
            self._outcomes.popleft()
        calls = len(self._outcomes)
        failures = sum(1 for _, ok in self._outcomes if not ok)
        if (
            self._state == "closed"
            and calls >= self.config.min_calls
            and failures / calls >= self.config.failure_ratio
        ):
            self._open(now)

    def release_probe(self) -> None:
        """Give back a reserved probe that never reached upstream (e.g. refused locally)."""
        self._probe_in_flight = False

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._outcomes.clear()
        self._set("open")

    def _set(self, state: State) -> None:
        if state != self._state:
            self._state = state
            if self._on_change:
                self._on_change(state)
