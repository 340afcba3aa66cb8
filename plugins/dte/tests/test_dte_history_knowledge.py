"""Vendor history parsing and summary, knowledge documents, RUT and money helpers."""

from datetime import date
from decimal import Decimal

import msgspec
import pytest
from quipu_dte.errors import DteInputError
from quipu_dte.knowledge import knowledge_documents
from quipu_dte.money import fmt_amount, fmt_pct, round_pesos
from quipu_dte.rules import RuleConfig, VendorHistory, parse_history, summarize_history
from quipu_dte.rules.caf import add_months
from quipu_dte.rut import format_rut, parse_rut

ODOO_HISTORY = [
    {
        "tipo_dte": "33",
        "folio": "1001",
        "fecha_emision": "2025-09-30",
        "monto_total": 119000.0,
        "monto_neto": 100000.0,
        "monto_iva": 19000.0,
        "monto_exento": 0.0,
    },
    {"tipo_dte": "33", "folio": "1002", "fecha_emision": "2025-10-05", "monto_total": 238000.0},
    {"tipo_dte": "33", "folio": "1003", "fecha_emision": "2025-10-10", "monto_total": 59500.0},
    {"tipo_dte": "61", "folio": "20", "fecha_emision": "2025-10-11", "monto_total": 11900},
    {"error_code": "DTE_IVA_MISMATCH", "message": "IVA no cuadra", "estado": "rejected"},
]


def test_parse_odoo_history_list() -> None:
    history = parse_history(ODOO_HISTORY)
    assert len(history.documents) == 5
    first = history.documents[0]
    assert (first.tipo_dte, first.folio, first.fecha_emision) == (33, 1001, date(2025, 9, 30))
    assert first.monto_total == Decimal(119000)
    assert history.documents[4].folio is None


def test_parse_history_object_form_and_empty() -> None:
    history = parse_history({"rut_emisor": "76123456-0", "documents": ODOO_HISTORY[:1]})
    assert history.rut_emisor == "76123456-0"
    assert parse_history(None) == VendorHistory()
    assert parse_history([]) == VendorHistory()
    assert parse_history(history) is history


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ([{"folio": "abc"}], "history[0].folio"),
        ({"documents": [{"monto_total": "x"}]}, "history.documents[0].monto_total"),
        ("33", "history[0]"),
    ],
)
def test_history_errors(raw: object, path: str) -> None:
    with pytest.raises(DteInputError) as info:
        parse_history(raw)
    assert info.value.problems[0][0] == path


def test_summarize_history() -> None:
    summary = summarize_history(parse_history(ODOO_HISTORY))
    assert summary == {
        "documents": 5,
        "first_date": "2025-09-30",
        "last_date": "2025-10-11",
        "by_type": {
            "33": {
                "count": 3,
                "total_min": 59500,
                "total_median": 119000,
                "total_max": 238000,
                "last_date": "2025-10-10",
                "last_folio": 1003,
            },
            "61": {
                "count": 1,
                "total_min": 11900,
                "total_median": 11900,
                "total_max": 11900,
                "last_date": "2025-10-11",
                "last_folio": 20,
            },
        },
        "rejections": 1,
        "recent_error_codes": ["DTE_IVA_MISMATCH"],
    }
    assert msgspec.json.encode(summary)
    assert summarize_history(None)["documents"] == 0


def test_history_json_round_trip_as_struct() -> None:
    history = parse_history(ODOO_HISTORY)
    again = msgspec.json.decode(msgspec.json.encode(history), type=VendorHistory)
    assert again == history


def test_rule_config_from_json_refuses_typos() -> None:
    cfg = msgspec.json.decode(
        b'{"amount_tolerance": 2, "disabled_codes": ["DTE_DATE_OLD"]}', type=RuleConfig
    )
    assert cfg.amount_tolerance == 2
    assert "DTE_DATE_OLD" in cfg.disabled_codes
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"amount_tolerence": 2}', type=RuleConfig)


def test_knowledge_documents() -> None:
    docs = knowledge_documents()
    assert 3 <= len(docs) <= 5
    ids = [d[0] for d in docs]
    assert len(set(ids)) == len(ids)
    for doc_id, title, text in docs:
        assert title
        assert text.startswith(f"# {title}")
        assert "[SII-FORMATO" in text or "[SII-XSD" in text  # facts carry sources
        assert len(text) > 800, doc_id
    joined = " ".join(text for _, _, text in docs)
    for topic in ("CodRef", "IndTraslado", "IVA", "CAF", "MntTotal"):
        assert topic in joined


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("76354771-K", True),
        ("96790240-3", True),
        ("77879240-0", True),
        ("60910000-1", True),
        ("12.345.678-5", True),
        ("55555555-5", True),
        ("66666666-6", True),
        ("9.868.503-0", True),
        ("6824160-K", True),
        ("6824160-k", True),
        ("100000-4", True),
        ("06824160-K", True),
        ("76354771-9", False),
        ("6824160-0", False),
        ("12345678-9", False),
        ("12.345.678-K", False),
    ],
)
def test_rut_check_digit_table(raw: str, valid: bool) -> None:
    rut = parse_rut(raw)
    assert rut is not None
    assert rut.dv_ok is valid


@pytest.mark.parametrize("raw", ["1234567A-5", "123456789-0", "", "K", "--", "76354771-KK"])
def test_rut_bad_format(raw: str) -> None:
    assert parse_rut(raw) is None


def test_rut_range_and_format() -> None:
    assert parse_rut("1-9").in_sii_range is False  # type: ignore[union-attr]
    assert parse_rut("100000-4").in_sii_range is True  # type: ignore[union-attr]
    assert format_rut("76354771k") == "76.354.771-K"


def test_money_helpers() -> None:
    assert round_pesos(Decimal("0.5")) == 1  # half up, not banker's rounding
    assert round_pesos(Decimal("2.5")) == 3
    assert round_pesos(Decimal("146362.51")) == 146363
    assert fmt_amount(Decimal(146362)) == "146.362"
    assert fmt_amount(Decimal("8942.86")) == "8.942,86"
    assert fmt_amount(Decimal(-1234567)) == "-1.234.567"
    assert fmt_amount(Decimal(0)) == "0"
    assert fmt_pct(Decimal("20.5")) == "20,5%"


def test_add_months() -> None:
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2025, 6, 1), 6) == date(2025, 12, 1)
    assert add_months(date(9999, 12, 1), 6) == date.max
