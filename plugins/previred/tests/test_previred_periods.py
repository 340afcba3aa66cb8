"""Period parsing and arithmetic."""

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from quipu_previred.indicators import (
    PeriodError,
    month_end,
    parse_period,
    period_label,
    shift_period,
)
from quipu_previred.periods import PERIOD_PATTERN


@pytest.mark.parametrize(
    ("text", "expected"), [("2025-07", (2025, 7)), ("2024-01", (2024, 1)), ("2026-12", (2026, 12))]
)
def test_valid(text: str, expected: tuple[int, int]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2025-13", "Mes inválido"),
        ("2025-00", "Mes inválido"),
        ("abc", "Formato de período inválido"),
        ("2025-7", "Formato de período inválido"),
        (" 2025-07", "Formato de período inválido"),
        ("2025-07-01", "Formato de período inválido"),
        ("1850-01", "Año fuera de rango"),
        (202507, "Esperado: texto YYYY-MM"),
        (None, "Esperado: texto YYYY-MM"),
    ],
)
def test_invalid(text: object, fragment: str) -> None:
    with pytest.raises(PeriodError, match=fragment):
        parse_period(text)


def test_period_error_is_a_value_error() -> None:
    assert issubclass(PeriodError, ValueError)


def test_arithmetic_and_labels() -> None:
    assert shift_period("2025-12", 1) == "2026-01"
    assert shift_period("2026-01", -13) == "2024-12"
    assert month_end("2024-02") == dt.date(2024, 2, 29)
    assert month_end("2025-11") == dt.date(2025, 11, 30)
    assert period_label("2026-02") == "febrero 2026"


@given(st.from_regex(r"[0-9]{4}-[0-9]{2}", fullmatch=True) | st.text(max_size=9))
def test_the_published_pattern_accepts_exactly_what_parse_period_does(text: str) -> None:
    """The OpenAPI schema states PERIOD_PATTERN; the handler runs parse_period: they agree."""
    try:
        parse_period(text)
        parsed = True
    except PeriodError:
        parsed = False
    assert (re.search(PERIOD_PATTERN, text) is not None) == parsed
