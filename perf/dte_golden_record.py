"""pytest plugin: record every DTE input the test suite validates, for perf/dte_golden.py.

Usage (from the repository root)::

    PYTHONPATH=perf DTE_GOLDEN_RECORD=/tmp/dte_inputs.pickle \
        .venv/bin/pytest -p dte_golden_record plugins/dte -q

Records the raw ``(dte_data, history)`` of every :func:`quipu_dte.service.read_inputs`
call and the ``(doc, today, history, config)`` of every rule-engine run, in the test
process only (batch worker processes see the same inputs through single calls too).
"""

from __future__ import annotations

import contextlib
import copy
import os
import pickle
from typing import Any

import pytest

_RAW: list[tuple[Any, Any]] = []
_VALIDATIONS: list[tuple[Any, Any, Any, Any]] = []


def pytest_configure(config: pytest.Config) -> None:
    """Wrap the entry points once, before any test imports them by name."""
    from quipu_dte import service
    from quipu_dte.rules import engine

    read_inputs, ctx_class = service.read_inputs, engine.Ctx

    def recording_read_inputs(dte_data: Any, history: Any) -> Any:
        # An input that cannot be copied is simply not recorded.
        with contextlib.suppress(Exception):
            _RAW.append(copy.deepcopy((dte_data, history)))  # as sent, before parsing
        return read_inputs(dte_data, history)

    def recording_ctx(doc: Any, today: Any, history: Any, rules: Any) -> Any:
        with contextlib.suppress(Exception):
            _VALIDATIONS.append(copy.deepcopy((doc, today, history, rules)))
        return ctx_class(doc, today, history, rules)

    service.read_inputs = recording_read_inputs  # type: ignore[assignment]
    engine.Ctx = recording_ctx  # type: ignore[assignment,misc]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Write what was recorded."""
    target = os.environ.get("DTE_GOLDEN_RECORD")
    if target:
        with open(target, "wb") as out:
            pickle.dump({"raw": _RAW, "validations": _VALIDATIONS}, out)
