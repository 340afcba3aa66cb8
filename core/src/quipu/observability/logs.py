"""Structured logs: JSON in production, readable lines in development, request id in both.

The request id is carried in a context variable set by the request middleware, so any
``logging`` call made while handling a request carries it without being passed around.
Message content and personal data are never logged at info level by quipu's own code,
and as a second line of defence :class:`PiiMaskingFilter` masks, at INFO and above, what
looks personal in any line (quipu's, a plugin's or a library's): RUT-shaped strings
(``12.345.678-5`` → ``**.***.678-5``), e-mail addresses, and the values of personal
fields passed as ``extra`` (names, e-mails, RUTs). ``QUIPU_LOG_PII=1`` turns it off for
debugging; DEBUG records are never masked (debug logging is an explicit choice).
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import time
from typing import Any, Literal

import msgspec

__all__ = ["PERSONAL_FIELDS", "REQUEST_ID_VAR", "PiiMaskingFilter", "configure_logging", "mask_pii"]

REQUEST_ID_VAR: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "quipu_request_id", default=None
)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


#: ``extra`` fields whose values are personal data, masked whole at INFO and above.
PERSONAL_FIELDS = frozenset(
    {
        "nombre",
        "full_name",
        "first_name",
        "last_name",
        "employee_name",
        "partner_name",
        "user_name",
        "username",
        "login",
        "email",
        "correo",
        "phone",
        "telefono",
        "address",
        "direccion",
        "rut",
        "rut_trabajador",
        "employee_rut",
    }
)
# 12.345.678-5, 1.234.567-K, 12345678-5 (7 or 8 digits), not inside a longer token.
_RUT = re.compile(r"(?<![\w.-])(\d{1,2}\.\d{3}\.|\d{4,5})(\d{3})-([\dkK])(?![\w-])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")


def _rut(match: re.Match[str]) -> str:
    head = re.sub(r"\d", "*", match.group(1))
    return f"{head}{match.group(2)}-{match.group(3)}"


def mask_pii(text: str) -> str:
    """``text`` with RUT-shaped strings and e-mail addresses masked."""
    if "-" in text:
        text = _RUT.sub(_rut, text)
    if "@" in text:
        text = _EMAIL.sub(r"***@\1", text)
    return text


class PiiMaskingFilter(logging.Filter):
    """Masks personal data in records at INFO and above (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return True
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        for key, value in list(vars(record).items()):
            if key in _STANDARD or key.startswith("_") or value is None:
                continue
            if key.lower() in PERSONAL_FIELDS:
                setattr(record, key, "***")
            elif isinstance(value, str):
                setattr(record, key, mask_pii(value))
        exception = _exception_text(_TRACEBACKS, record)
        if exception:
            record.exc_text = mask_pii(exception)
        return True


_TRACEBACKS = logging.Formatter()


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The record's traceback text: the one already made (maybe masked), else made now."""
    if record.exc_text:
        return record.exc_text
    if record.exc_info:
        return formatter.formatException(record.exc_info)
    return None


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
        exception = _exception_text(self, record)
        if exception:
            entry["exc"] = exception
        return msgspec.json.encode(entry, enc_hook=str).decode()


class ConsoleFormatter(logging.Formatter):
    """``12:00:01 INFO quipu.cache [req 1a2b] message``."""

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{stamp} {record.levelname:<7} {record.name}"
        line += f" [req {rid[:8]}] " if rid else " "
        line += record.getMessage()
        exception = _exception_text(self, record)
        if exception:
            line += "\n" + exception
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
    if os.environ.get("QUIPU_LOG_PII") != "1":
        handler.addFilter(PiiMaskingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_quipu", False):
            root.removeHandler(existing)
    handler._quipu = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
