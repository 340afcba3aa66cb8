"""Property tests of the parsers the plugins' suites did not cover: RUTs and periods.

(The DTE XML/JSON parsers and slips have theirs in ``plugins/dte/tests/test_dte_parse_fuzz.py``,
``test_dte_properties.py`` and ``plugins/payroll/tests/test_payroll_properties.py``.)
"""

from __future__ import annotations

import calendar

from hypothesis import given, settings
from hypothesis import strategies as st
from quipu.observability.logs import mask_pii
from quipu_dte.rut import check_digit, format_rut, parse_rut
from quipu_previred.periods import (
    PeriodError,
    format_period,
    month_end,
    parse_period,
    shift_period,
)

BODIES = st.integers(min_value=1, max_value=99_999_999)
PERSON_BODIES = st.integers(min_value=1_000_000, max_value=99_999_999)
MONTHS = st.tuples(st.integers(1990, 2100), st.integers(1, 12))


@settings(max_examples=300)
@given(BODIES)
def test_a_rut_round_trips_through_every_spelling(body: int) -> None:
    dv = check_digit(body)
    canonical = f"{body}-{dv}"
    printed = format_rut(canonical)
    assert printed is not None
    spellings = [canonical, printed, f"  {printed.lower()} ", f"000{body}{dv}", f"CL{canonical}"]
    for spelling in spellings:
        rut = parse_rut(spelling)
        assert rut is not None, spelling
        assert (rut.body, rut.dv, rut.dv_ok, rut.canonical) == (body, dv, True, canonical)


@given(BODIES, st.sampled_from("0123456789K"))
def test_a_wrong_check_digit_is_always_noticed(body: int, dv: str) -> None:
    rut = parse_rut(f"{body}-{dv}")
    assert rut is not None
    assert rut.dv_ok is (dv == check_digit(body))


@settings(max_examples=300)
@given(st.text(max_size=24))
def test_parse_rut_never_raises_and_stays_in_eight_digits(text: str) -> None:
    rut = parse_rut(text)
    if rut is not None:
        assert 0 <= rut.body <= 99_999_999
        assert rut.dv in "0123456789K"


@given(PERSON_BODIES)
def test_every_person_rut_is_masked_in_logs(body: int) -> None:
    canonical = f"{body}-{check_digit(body)}"
    printed = format_rut(canonical)
    assert printed is not None
    line = f"liquidación de {printed} ({canonical}) revisada"
    masked = mask_pii(line)
    assert printed not in masked
    assert canonical not in masked
    assert canonical[-5:] in masked  # the last digits and check digit stay, for support


@given(MONTHS)
def test_a_period_has_one_spelling(month: tuple[int, int]) -> None:
    text = format_period(*month)
    assert parse_period(text) == month
    assert month_end(text).day == calendar.monthrange(*month)[1]


@given(MONTHS, st.integers(-600, 600))
def test_shifting_periods_is_reversible(month: tuple[int, int], months: int) -> None:
    text = format_period(*month)
    try:
        moved = shift_period(text, months)
        back = shift_period(moved, -months)
    except PeriodError:  # shifted outside 1990-2100
        return
    assert back == text


@settings(max_examples=500)
@given(st.text(max_size=12) | st.from_regex(r"\A\d{4}-\d{2}\Z"))
def test_whatever_parses_is_the_canonical_spelling(text: str) -> None:
    """A period is a cache key and a Redis key: exactly one text per month."""
    try:
        year, month = parse_period(text)
    except PeriodError:
        return
    assert format_period(year, month) == text
