"""Request-scoped values every layer shares: the request id and ``Server-Timing`` entries.

The layer that sets them on every response is :class:`quipu.edge.PlatformLayer`.
"""

from __future__ import annotations

from typing import Any

from litestar.types import Scope

__all__ = ["REQUEST_ID", "REQUEST_ID_HEADER", "STARTED", "TIMINGS", "add_timing"]

REQUEST_ID_HEADER = "x-request-id"
#: ``scope["state"]`` key holding ``Server-Timing`` entries added while handling.
TIMINGS = "quipu.timings"
#: ``scope["state"]`` key holding the request id.
REQUEST_ID = "quipu.request_id"
#: ``scope["state"]`` key holding the request's arrival (``time.perf_counter()``), so the
#: LLM overhead quipu reports counts its own layers too (``quipu.llm.timing``).
STARTED = "quipu.started"


def add_timing(scope: Scope | dict[str, Any], name: str, dur_ms: float, desc: str = "") -> None:
    """Add a ``Server-Timing`` entry (e.g. ``cache;dur=0.1;desc="l1 hit"``) to the response."""
    state = scope.setdefault("state", {})
    entry = f"{name};dur={dur_ms:.2f}" + (f';desc="{desc}"' if desc else "")
    state.setdefault(TIMINGS, []).append(entry)
