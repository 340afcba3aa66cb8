"""Structured logs: JSON in production, readable lines in development, request id in both.

The request id is carried in a context variable set by the request middleware, so any
``logging`` call made while handling a request carries it without being passed around.
Message content and personal data are never logged at info level by quipu's own code.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from typing import Any, Literal

import msgspec

__all__ = ["REQUEST_ID_VAR", "configure_logging"]

REQUEST_ID_VAR: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "quipu_request_id", default=None
)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID_VAR.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


class ConsoleFormatter(logging.Formatter):
    """``12:00:01 INFO quipu.cache [req 1a2b] message``."""

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{stamp} {record.levelname:<7} {record.name}"
        line += f" [req {rid[:8]}] " if rid else " "
        line += record.getMessage()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    fmt: Literal["auto", "json", "console"] = "auto", level: int = logging.INFO
) -> None:
    """Set up the root logger once per process.

    ``auto`` writes JSON when stderr is not a terminal (containers, Granian workers under a
    supervisor) and readable lines on a terminal.
    """
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_quipu", False):
            root.removeHandler(existing)
    handler._quipu = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
