"""PDF text extraction and validation of the LLM's record_indicators tool input."""

from decimal import Decimal
from typing import Any

import pytest
from fpdf import FPDF
from quipu_previred.extract import (
    RECORD_INDICATORS_TOOL,
    TOOL_KEYS,
    ExtractionError,
    PdfTextError,
    indicators_from_tool_input,
    pdf_text,
)
from quipu_previred.indicators import ERP_KEYS, KEY_SPECS, PeriodError


def make_pdf(*pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


PREVIRED_PAGE = [
    "INDICADORES PREVISIONALES - JULIO 2025",
    "Valor UF al 31/07/2025: $ 39.179,01",
    "UTM julio 2025: $ 68.923   UTA: $ 827.076",
    "Tope imponible AFP: 87,8 UF   Seguro de cesantia: 131,9 UF",
    "Renta minima imponible: $ 529.000",
]


def test_pdf_text_reads_a_generated_pdf() -> None:
    text = pdf_text(make_pdf(PREVIRED_PAGE, ["Tasa AFP Capital 11,44%"]))
    assert "JULIO 2025" in text
    assert "39.179,01" in text
    assert "AFP Capital 11,44%" in text


def test_pdf_text_bounds_pages_and_characters() -> None:
    data = make_pdf(["page one"], ["page two"], ["page three"])
    assert "page two" not in pdf_text(data, max_pages=1)
    assert len(pdf_text(make_pdf(PREVIRED_PAGE), max_chars=20)) == 20


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"<html><body>Not found</body></html>", "no es un PDF"),
        (b"", "no es un PDF"),
        (b"%PDF-1.4\n garbage that is not a pdf", "PDF"),
    ],
)
def test_pdf_text_refuses_non_pdf(data: bytes, fragment: str) -> None:
    with pytest.raises(PdfTextError, match=fragment):
        pdf_text(data)


def test_pdf_text_refuses_oversized_input() -> None:
    with pytest.raises(PdfTextError, match="demasiado grande"):
        pdf_text(b"%PDF-" + b"0" * 100, max_bytes=50)


def test_pdf_without_text_layer() -> None:
    pdf = FPDF()
    pdf.add_page()
    with pytest.raises(PdfTextError, match=r"sin texto|no tiene texto"):
        pdf_text(bytes(pdf.output()))


def test_tool_schema_mirrors_the_flat_keys() -> None:
    schema = RECORD_INDICATORS_TOOL["input_schema"]
    assert RECORD_INDICATORS_TOOL["name"] == "record_indicators"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"period", *TOOL_KEYS}
    assert set(TOOL_KEYS) <= set(KEY_SPECS)
    # Every ERP key is either asked for or derived from an asked key.
    derived = {"exvida_pct"}
    assert {key for key in ERP_KEYS if key not in TOOL_KEYS} <= derived
    for key in TOOL_KEYS:
        assert schema["properties"][key]["type"] == ["number", "null"]


def july_tool_input() -> dict[str, Any]:
    answer: dict[str, Any] = dict.fromkeys(TOOL_KEYS)
    answer.update(
        period="2025-07",
        uf=39179.01,
        utm=68923,
        uta=827076,
        sueldo_minimo=529000,
        afp_tope_uf=87.8,
        salud_tope_uf=87.8,
        afc_tope_uf=131.9,
        sis_pct=1.88,
        afp_capital_pct=11.44,
        afp_uno_pct=10.49,
        afc_trabajador_indefinido=0.6,
        afc_empleador_indefinido=2.4,
        afc_trabajador_plazo_fijo=0,
        afc_empleador_plazo_fijo=3,
        fonasa_pct=7,
    )
    return answer


def test_indicators_from_tool_input() -> None:
    ind = indicators_from_tool_input(july_tool_input(), "2025-07")
    assert ind.uf == Decimal("39179.01")
    assert ind.commission("Capital") == Decimal("1.44")
    assert ind.origin == "llm"
    assert ind.sueldo_minimo_menores_mayores is None


def test_tool_input_problems_are_listed_together() -> None:
    answer = july_tool_input() | {"period": "2025-06", "uf": 3917901, "fonasa_pct": 0.07}
    with pytest.raises(ExtractionError) as info:
        indicators_from_tool_input(answer, "2025-07")
    problems = info.value.problems
    assert "el documento es de 2025-06, se pidió 2025-07" in problems
    assert any(p.startswith("uf=3917901 fuera de rango") for p in problems)
    assert any(p.startswith("fonasa_pct=0.07 fuera de rango") for p in problems)


def test_tool_input_with_non_numbers_or_missing_core_values() -> None:
    with pytest.raises(ExtractionError, match="uf: 'n/a' no es un número"):
        indicators_from_tool_input(july_tool_input() | {"uf": "n/a"}, "2025-07")
    with pytest.raises(ExtractionError, match="falta utm"):
        indicators_from_tool_input(july_tool_input() | {"utm": None}, "2025-07")
    with pytest.raises(ExtractionError, match="clave desconocida"):
        indicators_from_tool_input(july_tool_input() | {"uf_hoy": 1}, "2025-07")
    with pytest.raises(ExtractionError, match="no es un objeto"):
        indicators_from_tool_input([1, 2], "2025-07")  # type: ignore[arg-type]
    with pytest.raises(PeriodError):
        indicators_from_tool_input(july_tool_input(), "julio")
