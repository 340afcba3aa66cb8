"""The shared circuit breaker: both rules that open it, both ways it closes again."""

from __future__ import annotations

from quipu.breaker import PROBE_WAIT_S, CircuitBreaker, State


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_consecutive_failures_open_it_and_only_close_tells_it_to_close() -> None:
    changes: list[State] = []
    breaker = CircuitBreaker(failures=3, on_change=changes.append)
    breaker.record(False)
    breaker.record(False)
    breaker.succeeded()  # a success in between starts the count again
    breaker.record(False)
    breaker.record(False)
    assert not breaker.open
    assert breaker.consecutive == 2
    breaker.record(False)
    assert breaker.open
    assert breaker.state == "open"
    assert not breaker.allow()
    assert breaker.retry_after() == 0.0  # no cooldown: the owner's probe decides
    breaker.close()
    assert (breaker.open, breaker.state, breaker.consecutive) == (False, "closed", 0)
    assert changes == ["open", "closed"]


def test_trip_opens_at_once_and_once() -> None:
    changes: list[State] = []
    breaker = CircuitBreaker(failures=5, on_change=changes.append)
    breaker.trip()
    breaker.trip()
    assert breaker.open
    assert changes == ["open"]


def test_failure_ratio_cooldown_and_a_single_probe() -> None:
    clock = Clock()
    changes: list[State] = []
    breaker = CircuitBreaker(
        failure_ratio=0.5,
        min_calls=4,
        window_s=10,
        cooldown_s=2,
        clock=clock,
        on_change=changes.append,
    )
    for ok in (True, False, True):
        breaker.record(ok)
    assert breaker.state == "closed"  # 3 calls: under min_calls
    breaker.record(False)  # 2 of 4 failed
    assert breaker.state == "open"
    assert breaker.retry_after() == 2
    clock.now += 1.5
    assert breaker.retry_after() == 0.5
    clock.now += 0.5
    assert breaker.state == "half_open"
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # nobody else meanwhile
    assert breaker.retry_after() == PROBE_WAIT_S
    breaker.record(False)
    assert breaker.state == "open"
    clock.now += 2
    assert breaker.allow()
    breaker.record(True)
    assert breaker.state == "closed"
    assert changes == ["open", "half_open", "open", "half_open", "closed"]


def test_old_outcomes_leave_the_window() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_ratio=0.5, min_calls=2, window_s=10, clock=clock)
    breaker.record(False)
    clock.now += 11
    breaker.record(True)
    breaker.record(False)
    assert breaker.state == "open"  # 1 of 2 within the window
    breaker = CircuitBreaker(failure_ratio=0.6, min_calls=2, window_s=10, clock=clock)
    breaker.record(False)
    clock.now += 11
    breaker.record(True)
    breaker.record(True)
    breaker.record(False)
    assert breaker.state == "closed"  # the old failure no longer counts: 1 of 3


def test_a_released_probe_lets_the_next_caller_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_ratio=1.0, min_calls=1, cooldown_s=1, clock=clock)
    breaker.record(False)
    clock.now += 1
    assert breaker.allow()
    breaker.release_probe()  # refused locally, never sent
    assert breaker.allow()
