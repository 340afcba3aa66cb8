"""How long each request spent in the model, and how long quipu spent around it.

``llm`` is the time of the HTTP exchange with the API (request bytes out, reply bytes
in); ``overhead`` is quipu's own time around it: from the moment the request's
handler asked for the gateway (or the previous model call ended) until the call started,
plus from the reply until the gateway returned. Both are added to the response's
``Server-Timing`` (``llm;dur=…, overhead;dur=…``) when the call runs for an HTTP request,
and each call's overhead is observed in ``quipu_llm_overhead_seconds``, as LiteLLM's
``x-litellm-overhead-duration-ms`` and TensorZero's overhead metric do
(gateway-anchors B.1, B.4).

The request is known through :func:`bind`, which ``PluginContext.llm_for(request)`` calls
with the request handing out the gateway. The clock lives in ``scope["state"]`` and in a
context variable, so a call made from a task the handler spawned (the cache's
single-flight fill, a batch's gather) still finds it.
"""

from __future__ import annotations

import contextvars
import time
from typing import Any

from quipu.observability.middleware import STARTED

__all__ = ["LlmClock", "bind", "current"]

STATE_KEY = "quipu.llm.clock"
#: ``scope["state"]`` key the platform layer sets to the request's ``perf_counter`` start.
STARTED_KEY = STARTED
_CURRENT: contextvars.ContextVar[LlmClock | None] = contextvars.ContextVar(
    "quipu_llm_clock", default=None
)


class LlmClock:
    """The model time and quipu's time around it, for one request."""

    __slots__ = ("_entries", "_list", "_scope", "calls", "llm_s", "mark", "overhead_s")

    def __init__(self, scope: Any, started: float) -> None:
        self._scope = scope
        self._entries: list[int] | None = None
        self._list: list[str] | None = None
        self.mark = started
        self.llm_s = 0.0
        self.overhead_s = 0.0
        self.calls = 0

    def before_call(self, now: float) -> float:
        """The overhead since the last mark, up to a call starting ``now``; moves the mark."""
        spent = max(0.0, now - self.mark)
        self.mark = now
        return spent

    def after_call(self, llm_s: float, overhead_s: float, now: float) -> None:
        """Record one finished call and publish the totals in ``Server-Timing``."""
        self.calls += 1
        self.llm_s += llm_s
        self.overhead_s += overhead_s
        self.mark = now
        self._publish()

    def _publish(self) -> None:
        if self._scope is None:
            return
        from quipu.observability.middleware import TIMINGS, add_timing

        state = self._scope.setdefault("state", {})
        before = state.get(TIMINGS)
        start = len(before) if before is not None else 0
        add_timing(self._scope, "llm", self.llm_s * 1000, f"{self.calls} model call(s)")
        add_timing(self._scope, "overhead", self.overhead_s * 1000, "quipu around the model")
        timings: list[str] = state[TIMINGS]
        new = timings[start:]
        if self._entries is not None and timings is self._list:
            # A later call: put the new totals where the first ones were (other entries,
            # e.g. the cache's, may have been added since), and drop the appended copies.
            del timings[start:]
            for index, entry in zip(self._entries, new, strict=True):
                timings[index] = entry
        else:
            self._entries = [start, start + 1]
            self._list = timings


def bind(scope: Any) -> LlmClock:
    """The clock of the request ``scope`` (made on first use) made current for its calls."""
    state = scope.setdefault("state", {})
    clock: LlmClock | None = state.get(STATE_KEY)
    if clock is None:
        clock = LlmClock(scope, state.get(STARTED_KEY) or time.perf_counter())
        state[STATE_KEY] = clock
    _CURRENT.set(clock)
    return clock


def current() -> LlmClock:
    """The current request's clock; outside a request, a fresh one that publishes nowhere."""
    clock = _CURRENT.get()
    return clock if clock is not None else LlmClock(None, time.perf_counter())
