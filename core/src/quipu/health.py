"""Dependency health, probed in the background so ``/health`` never waits on one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import msgspec

__all__ = ["DependencyState", "HealthMonitor", "Probe"]

log = logging.getLogger("quipu.health")

Status = Literal["up", "down", "degraded", "disabled"]


class DependencyState(msgspec.Struct, frozen=True, kw_only=True):
    """The last known state of one dependency."""

    status: Status
    detail: str = ""
    latency_ms: float | None = None
    checked_at: float = 0.0


Probe = Callable[[], Awaitable[DependencyState]]


class HealthMonitor:
    """Runs registered probes every ``interval_s`` and keeps their last result.

    Services may also push a state (the LLM breaker opening) with :meth:`report`, or
    register a ``current`` reader that :meth:`snapshot` calls on every read, so a
    breaker's state shows the moment it changes, not at the next probe.
    """

    def __init__(self, interval_s: float = 5.0, probe_timeout_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self.probe_timeout_s = probe_timeout_s
        self._probes: dict[str, Probe] = {}
        self._current: dict[str, Callable[[], DependencyState]] = {}
        self._states: dict[str, DependencyState] = {}
        self._task: asyncio.Task[None] | None = None
        self.probed_once = asyncio.Event()

    def register(
        self,
        name: str,
        probe: Probe,
        initial: DependencyState | None = None,
        *,
        current: Callable[[], DependencyState] | None = None,
    ) -> None:
        """Probe ``name`` with ``probe`` on every round.

        ``current``, when given, is what :meth:`snapshot` shows for ``name``: a cheap,
        I/O-free reader of a service's live state (a circuit breaker's), which the
        probe only feeds.
        """
        self._probes[name] = probe
        self._states[name] = initial or DependencyState(status="up", detail="not probed yet")
        if current is not None:
            self._current[name] = current

    def report(self, name: str, state: DependencyState) -> None:
        """Record a state pushed by a service."""
        self._states[name] = state

    def snapshot(self) -> dict[str, DependencyState]:
        """The current state of every dependency."""
        states = dict(self._states)
        for name, read in self._current.items():
            states[name] = read()
        return states

    def degraded_reasons(self) -> list[str]:
        """One line per dependency that is not fully working."""
        return [
            f"{name}: {state.detail or state.status}"
            for name, state in sorted(self.snapshot().items())
            if state.status in ("down", "degraded")
        ]

    async def probe_all(self) -> None:
        """Run every probe once, bounded by ``probe_timeout_s`` each."""

        async def one(name: str, probe: Probe) -> None:
            started = time.perf_counter()
            try:
                state = await asyncio.wait_for(probe(), self.probe_timeout_s)
            except TimeoutError:
                state = DependencyState(status="down", detail="probe timed out")
            except Exception as exc:  # a probe must never take the monitor down
                state = DependencyState(status="down", detail=f"{type(exc).__name__}: {exc}"[:200])
            if state.latency_ms is None and state.status == "up":
                state = msgspec.structs.replace(
                    state, latency_ms=round((time.perf_counter() - started) * 1000, 2)
                )
            self._states[name] = msgspec.structs.replace(state, checked_at=time.time())

        await asyncio.gather(*(one(n, p) for n, p in self._probes.items()))
        self.probed_once.set()

    async def _loop(self) -> None:
        while True:
            await self.probe_all()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        """Start probing in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="quipu-health")

    async def stop(self) -> None:
        """Stop probing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
