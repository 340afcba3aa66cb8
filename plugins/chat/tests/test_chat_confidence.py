"""Confidence: every point explained; the response-cache rule."""

from __future__ import annotations

import pytest
from quipu_chat.confidence import (
    Evidence,
    assess_answer,
    confidence,
    is_cacheable,
    is_stateless,
)


@pytest.mark.parametrize(
    ("evidence", "score"),
    [
        (Evidence(), 40),
        (Evidence(passages=1), 70),
        (Evidence(passages=2), 80),
        (Evidence(passages=3), 85),
        (Evidence(passages=10), 85),
        (Evidence(tool_ok=1), 65),
        (Evidence(tool_ok=5), 75),
        (Evidence(passages=1, tool_ok=1), 95),
        (Evidence(passages=3, tool_ok=3), 100),
        (Evidence(passages=3, tool_ok=1, tool_failed=1), 50),
        (Evidence(passages=1, tool_failed=2), 20),
        (Evidence(passages=3, hedged=True), 60),
        (Evidence(passages=3, declined=True), 20),
        (Evidence(passages=3, stop_reason="max_tokens"), 55),
        (Evidence(passages=3, tool_ok=2, stop_reason="tool_use"), 40),
        (Evidence(passages=3, stop_reason="refusal"), 0),
        (Evidence(passages=3, stop_reason=None), 0),
        (Evidence(passages=1, stop_reason="something_new"), 60),
        (Evidence(tool_failed=3, hedged=True), 0),
    ],
)
def test_scores(evidence: Evidence, score: int) -> None:
    assert confidence(evidence).score == score


def test_every_point_has_a_reason() -> None:
    result = confidence(Evidence(passages=2, tool_ok=1, tool_failed=1, hedged=True))
    assert result.reasons == (
        "+40 answered",
        "+40 2 knowledge passage(s)",
        "+25 1 tool result(s)",
        "-25 1 failed tool call(s)",
        "-25 answer hedges",
    )
    assert result.score == 50  # 55, capped at 50 by the failed tool


@pytest.mark.parametrize(
    ("text", "hedged", "declined"),
    [
        ("La nota de crédito debe referenciar la factura (CodRef 1).", False, False),
        ("Quizás debas revisar el CAF.", True, False),
        ("No estoy seguro, pero TAL VEZ sea el folio.", True, False),
        ("No tengo información sobre ese trámite.", False, True),
        ("Eso está fuera de mi alcance.", False, True),
        ("El tal vezón no existe; la posiblemente-es prueba.", True, False),
        ("Una cotización posible no es un problema.", False, False),
    ],
)
def test_assess_answer(text: str, hedged: bool, declined: bool) -> None:
    assert assess_answer(text) == (hedged, declined)


def test_stateless_and_cacheable() -> None:
    assert is_stateless(prior_messages=0, tool_calls=0, context=None)
    assert is_stateless(
        prior_messages=0, tool_calls=0, context={"company_name": "Acme", "module": "account"}
    )
    assert not is_stateless(prior_messages=2, tool_calls=0, context=None)
    assert not is_stateless(prior_messages=0, tool_calls=1, context=None)
    assert not is_stateless(prior_messages=0, tool_calls=0, context={"active_record_data": {}})
    assert not is_stateless(prior_messages=0, tool_calls=0, context={"user": {"name": "J"}})
    assert is_cacheable(85, stateless=True)
    assert not is_cacheable(80, stateless=True)  # strictly above 80
    assert not is_cacheable(100, stateless=False)
    assert is_cacheable(confidence(Evidence(passages=3)).score, stateless=True)
    assert not is_cacheable(confidence(Evidence(passages=2)).score, stateless=True)
