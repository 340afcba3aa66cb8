"""The AI review's reply handling and merge rules, without HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from dte_builders import TODAY, factura_33, flat_odoo
from hypothesis import given
from hypothesis import strategies as st
from quipu.llm import LlmResult, ToolUse, Usage
from quipu_dte.parse import parse_dte_data
from quipu_dte.review import AiReview, merge, parse_review, review_data, skip_reason
from quipu_dte.rules import ValidationReport, VendorHistory, parse_history, validate
from quipu_dte.schemas import AiInfo

USED = AiInfo(status="used")


def report_of(doc: dict[str, Any]) -> ValidationReport:
    return validate(parse_dte_data(doc).single, today=TODAY)


def reply(tool_input: Any, name: str = "record_review") -> LlmResult:
    return LlmResult(
        model="claude-sonnet-4-6",
        text="",
        tool_uses=(ToolUse("toolu_1", name, tool_input),),
        content=(),
        stop_reason="tool_use",
        usage=Usage(input_tokens=10, output_tokens=5),
        cost_usd=0.0001,
        attempts=1,
        duration_ms=1.0,
    )


def rejected() -> ValidationReport:
    doc = factura_33()
    doc["Encabezado"]["Totales"]["IVA"] = 1
    return report_of(doc)


def test_sanitises_what_the_model_sends() -> None:
    review = parse_review(
        reply(
            {
                "observations": [
                    {"code": "dte_iva_mismatch", "severity": "error", "message": "  IVA  raro "},
                    {"code": "", "message": "sin código", "path": "x" * 300},
                    {"code": "AI_OK", "message": ""},  # empty message: dropped
                ]
                + [{"code": "AI_MANY", "message": str(i)} for i in range(20)],
                "confidence_adjustment": 25,
                "needs_review": True,
                "recommendation": "send",
            }
        )
    )
    assert review.status == "used"
    codes = [o.code for o in review.observations]
    assert codes[:2] == ["AI_DTE_IVA_MISMATCH", "AI_OBSERVATION"]
    assert len(codes) == 10
    assert review.observations[0].message == "IVA raro"
    assert len(review.observations[1].path or "") == 200
    assert review.confidence_adjustment == 0.0  # cannot raise confidence
    assert parse_review(reply({"confidence_adjustment": -80})).confidence_adjustment == -50.0


@pytest.mark.parametrize(
    "bad",
    [
        reply({"observations": "muchas"}),
        reply({"needs_review": "quizás"}),
        reply({}, name="otra_herramienta"),
        reply([1, 2]),  # type: ignore[arg-type]
    ],
)
def test_a_reply_outside_the_schema_is_invalid(bad: LlmResult) -> None:
    review = parse_review(bad)
    assert (review.status, review.reason) == ("unavailable", "invalid_reply")


def test_rule_errors_cannot_be_cleared() -> None:
    report = rejected()
    ai = AiReview(status="used", confidence_adjustment=-30, needs_review=False)
    result = merge(report, USED, ai, required=False)
    assert result.recommendation == "reject"
    assert result.errors == list(report.errors)
    assert result.confidence == report.confidence  # errors are facts


def test_observations_turn_send_into_review_and_lower_confidence() -> None:
    report = report_of(factura_33())
    assert report.recommendation == "send"
    ai = parse_review(
        reply(
            {
                "observations": [{"code": "AI_X", "message": "m"}],
                "confidence_adjustment": -10,
                "needs_review": False,
            }
        )
    )
    result = merge(report, USED, ai, required=False)
    assert result.recommendation == "review"
    assert result.confidence <= 70
    assert result.warnings == ["AI_X: m"]
    assert result.findings[-1].source == "ai"


def test_needs_review_alone_adds_a_warning() -> None:
    ai = AiReview(status="used", needs_review=True)
    result = merge(report_of(factura_33()), USED, ai, required=False)
    assert result.recommendation == "review"
    assert result.warnings[0].startswith("AI_NEEDS_REVIEW: ")


def test_nothing_to_add_keeps_the_verdict() -> None:
    report = report_of(factura_33())
    result = merge(report, USED, AiReview(status="used"), required=True)
    assert (result.recommendation, result.confidence) == ("send", report.confidence)


@given(
    adjustment=st.floats(allow_nan=False, allow_infinity=False),
    needs_review=st.booleans(),
    observations=st.integers(min_value=0, max_value=3),
    required=st.booleans(),
    unavailable=st.booleans(),
)
def test_the_ai_never_raises_the_verdict(
    adjustment: float, needs_review: bool, observations: int, required: bool, unavailable: bool
) -> None:
    rank = {"send": 0, "review": 1, "reject": 2}
    for report in (REPORTS["send"], REPORTS["reject"]):
        review = parse_review(
            reply(
                {
                    "observations": [{"code": "c", "message": "m"}] * observations,
                    "confidence_adjustment": adjustment,
                    "needs_review": needs_review,
                }
            )
        )
        info = AiInfo(status="unavailable", reason="overloaded") if unavailable else USED
        result = merge(report, info, None if unavailable else review, required=required)
        assert rank[result.recommendation] >= rank[report.recommendation]
        assert result.errors == list(report.errors)
        assert (result.recommendation == "reject") == bool(result.errors)
        if result.recommendation != "reject":
            assert (result.recommendation == "send") == (not result.warnings)
        assert 0 <= result.confidence <= 100
        if result.recommendation != "reject":
            assert result.confidence <= report.confidence


REPORTS = {"send": report_of(factura_33()), "reject": rejected()}


def test_skip_reasons() -> None:
    flat = parse_dte_data(flat_odoo()).single
    full = parse_dte_data(factura_33()).single
    empty = VendorHistory()
    some = parse_history([{"tipo_dte": 33, "folio": 1}])
    clean_flat = validate(flat, today=TODAY)
    clean_full = validate(full, today=TODAY)

    def reason(mode: str, doc: Any, report: Any, history: Any, required: bool = False) -> Any:
        return skip_reason(mode, required=required, doc=doc, report=report, history=history)

    assert reason("off", full, clean_full, some) == "disabled"
    assert reason("auto", flat, clean_flat, empty) == "not_needed"
    assert reason("auto", flat, clean_flat, some) is None  # history to compare against
    assert reason("auto", full, clean_full, empty) is None  # lines and giro to compare
    assert reason("auto", flat, clean_flat, empty, required=True) is None
    assert reason("auto", full, rejected(), some) == "rules_conclusive"
    assert reason("always", full, rejected(), empty) is None


def test_review_data_is_json_ready_and_bounded() -> None:
    import msgspec
    from dte_builders import factura_lineas

    doc = parse_dte_data(factura_lineas(60)).single
    data = review_data(doc, validate(doc, today=TODAY), {"documents": 0}, TODAY, "America/Santiago")
    assert set(data) == {"context", "document", "findings", "history"}
    assert "present" not in data["document"]
    msgspec.json.encode(data)
    long = msgspec.structs.replace(doc, detalle=doc.detalle * 3)
    data = review_data(long, validate(doc, today=TODAY), {}, TODAY, "America/Santiago")
    assert len(data["document"]["detalle"]) == 100
    assert data["document"]["detalle_total_lineas"] == 180
