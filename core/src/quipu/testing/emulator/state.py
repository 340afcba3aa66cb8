"""Mutable emulator state: current config, scripts, faults, prompt cache and request log.

One instance per app. Granian runs the app in a single worker with one event loop, so plain
Python objects are safe here without locks.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any

import msgspec

from quipu.testing.emulator.config import INSTANCE_ENV_VAR, EmulatorConfig, model_index
from quipu.testing.emulator.faults import FaultPlan
from quipu.testing.emulator.models import ModelSpec
from quipu.testing.emulator.prompt_cache import PromptCache
from quipu.testing.emulator.scripts import ScriptBook

__all__ = ["EmulatorState", "RequestLog", "RequestRecord"]


class RequestRecord(msgspec.Struct, kw_only=True):
    """What the emulator saw and did for one ``/v1/*`` request.

    ``outcome`` is one of ``pending``, ``completed``, ``error`` (an HTTP error answer,
    injected or not), ``cancelled`` (client went away before the end), ``stream-error`` and
    ``stream-cut`` (mid-stream faults).
    """

    seq: int
    received_at: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any = None
    status: int = 0
    stream: bool = False
    fault: str | None = None
    script: str | None = None
    outcome: str = "pending"
    duration_ms: float = 0.0
    first_token_ms: float | None = None
    """Streams: milliseconds from arrival to the first content delta leaving the emulator."""


class RequestLog:
    """Bounded log of the last ``size`` requests plus running totals."""

    def __init__(self, size: int) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=size)
        self.count = 0

    def resize(self, size: int) -> None:
        """Keep the newest records when the configured size changes."""
        if size != self._records.maxlen:
            self._records = deque(self._records, maxlen=size)

    def clear(self) -> None:
        """Forget everything, totals included."""
        self._records.clear()
        self.count = 0

    def new(self, method: str, path: str, query: str, headers: dict[str, str]) -> RequestRecord:
        """Create and keep the record of a request that just arrived."""
        self.count += 1
        record = RequestRecord(
            seq=self.count,
            received_at=time.time(),
            method=method,
            path=path,
            query=query,
            headers=headers,
        )
        self._records.append(record)
        return record

    def view(self, limit: int) -> dict[str, Any]:
        """JSON-ready summary: totals and the newest ``limit`` records, oldest first."""
        records = list(self._records)
        outcomes: dict[str, int] = {}
        for record in records:
            outcomes[record.outcome] = outcomes.get(record.outcome, 0) + 1
        return {
            "count": self.count,
            "outcomes": outcomes,
            "requests": [_decoded(record) for record in (records[-limit:] if limit > 0 else [])],
        }


def _decoded(record: RequestRecord) -> RequestRecord:
    """A copy whose raw body bytes are parsed JSON (or text when not JSON)."""
    body = record.body
    if not isinstance(body, bytes):
        return record
    value: Any
    if not body:
        value = None
    else:
        try:
            value = msgspec.json.decode(body)
        except msgspec.DecodeError:
            value = body.decode("utf-8", "replace")
    return msgspec.structs.replace(record, body=value)


class EmulatorState:
    """Everything the handlers share."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.initial_config = config
        self.config = config
        self.models: dict[str, ModelSpec] = model_index(config.models)
        self.clock_offset = 0.0
        self.scripts = ScriptBook()
        self.faults = FaultPlan(config.fault_seed)
        self.cache = PromptCache(self.now)
        self.log = RequestLog(config.request_log_size)
        self.started_at = time.monotonic()
        self.instance = os.environ.get(INSTANCE_ENV_VAR, "")

    def now(self) -> float:
        """Monotonic clock shifted by ``/_emulator/clock`` so tests can expire cache TTLs."""
        return time.monotonic() + self.clock_offset

    def set_config(self, config: EmulatorConfig) -> None:
        """Swap the config and refresh what is derived from it."""
        self.config = config
        self.models = model_index(config.models)
        self.log.resize(config.request_log_size)

    def reset(self) -> None:
        """Back to the state at startup: initial config, no rules, empty cache and log."""
        self.set_config(self.initial_config)
        self.clock_offset = 0.0
        self.scripts.clear()
        self.faults.clear(self.initial_config.fault_seed)
        self.cache.clear()
        self.log.clear()
