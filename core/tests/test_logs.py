"""Structured logs carry the request id; JSON lines parse."""

from __future__ import annotations

import json
import logging

from quipu.observability.logs import (
    REQUEST_ID_VAR,
    ConsoleFormatter,
    JsonFormatter,
    _RequestIdFilter,
)


def record(message: str, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("quipu.test", logging.INFO, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(rec, key, value)
    _RequestIdFilter().filter(rec)
    return rec


def test_json_line_has_request_id_and_extras() -> None:
    token = REQUEST_ID_VAR.set("req-123")
    try:
        line = JsonFormatter().format(record("cache miss", policy="dte.validation"))
    finally:
        REQUEST_ID_VAR.reset(token)
    entry = json.loads(line)
    assert entry["msg"] == "cache miss"
    assert entry["request_id"] == "req-123"
    assert entry["policy"] == "dte.validation"
    assert entry["level"] == "info"


def test_console_line_outside_a_request() -> None:
    line = ConsoleFormatter().format(record("started"))
    assert line.endswith("INFO    quipu.test started")
