"""RUTs, e-mails and personal ``extra`` fields are masked in logs at INFO and above."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from quipu.observability.logs import (
    JsonFormatter,
    PiiMaskingFilter,
    configure_logging,
    mask_pii,
)


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing JSON lines through the masking filter into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PiiMaskingFilter())
    logger = logging.getLogger("quipu.test.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, buffer
    logger.removeHandler(handler)
    logger.propagate = True


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("RUT 12.345.678-5", "RUT **.***.678-5"),
        ("rut 12345678-5.", "rut *****678-5."),
        ("1.234.567-K y 7654321-k", "*.***.567-K y ****321-k"),
        ("documento 76354771-K/33/12345", "documento *****771-K/33/12345"),
        ("escribir a ana.perez+rrhh@acme.cl", "escribir a ***@acme.cl"),
        # Not RUTs: dates, ids, longer numbers, a check digit of two characters.
        ("2025-10-20 folio 123-4", "2025-10-20 folio 123-4"),
        (
            "f1f8b92d-34db-4f51 12.345.678-55 123456789-1",
            "f1f8b92d-34db-4f51 12.345.678-55 123456789-1",
        ),
    ],
)
def test_mask_pii(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


def test_info_lines_are_masked_in_message_arguments_extras_and_tracebacks(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = logged
    logger.info("slip of %s checked", "12.345.678-5", extra={"employee_name": "Ana Pérez"})
    logger.warning(
        "mail", extra={"email": "ana@acme.cl", "note": "contact 9876543-2", "plugin": "payroll"}
    )
    try:
        raise ValueError("RUT 12.345.678-5 inválido")
    except ValueError:
        logger.exception("parsing failed")
    info, warning, error = lines(buffer)
    assert info["msg"] == "slip of **.***.678-5 checked"
    assert info["employee_name"] == "***"
    assert (warning["email"], warning["note"], warning["plugin"]) == (
        "***",
        "contact ****543-2",
        "payroll",
    )
    assert "12.345.678-5" not in str(error["exc"])
    assert "**.***.678-5" in str(error["exc"])


def test_debug_lines_are_left_alone(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    logger.debug("slip of %s", "12.345.678-5", extra={"nombre": "Ana"})
    (line,) = lines(buffer)
    assert line["msg"] == "slip of 12.345.678-5"
    assert line["nombre"] == "Ana"


@pytest.mark.parametrize(("env", "masking"), [(None, True), ("1", False)])
def test_quipu_log_pii_turns_masking_off(
    monkeypatch: pytest.MonkeyPatch, env: str | None, masking: bool
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    if env is None:
        monkeypatch.delenv("QUIPU_LOG_PII", raising=False)
    else:
        monkeypatch.setenv("QUIPU_LOG_PII", env)
    try:
        configure_logging("json")
        (handler,) = [h for h in root.handlers if getattr(h, "_quipu", False)]
        assert any(isinstance(f, PiiMaskingFilter) for f in handler.filters) is masking
    finally:
        for extra in [h for h in root.handlers if h not in saved[0]]:
            root.removeHandler(extra)
        root.setLevel(saved[1])
