"""Support for extracting a month's indicators from Previred's PDF with an LLM.

The lead's code downloads the PDF and calls the model; this module owns the
deterministic parts on both sides of that call:

* :func:`pdf_text` turns untrusted PDF bytes into bounded plain text;
* :data:`RECORD_INDICATORS_TOOL` is the Anthropic tool whose ``input`` is the
  structured answer (numbers or ``null``, never a made-up ``0.0`` as the
  original prompt asked, original-ai-service.md §5.3);
* :func:`indicators_from_tool_input` validates that answer into
  :class:`~quipu_previred.model.Indicators` or raises with every problem.
"""

import io
from collections.abc import Mapping
from typing import Any, Final

from pypdf import PdfReader

from quipu_previred.flat import IndicatorsError, from_flat
from quipu_previred.keys import KEY_SPECS, SCALAR_KEYS, KeySpec
from quipu_previred.model import AFP_NAMES, Indicators
from quipu_previred.periods import parse_period
from quipu_previred.validation import CORE_KEYS, range_check

__all__ = [
    "RECORD_INDICATORS_TOOL",
    "TOOL_KEYS",
    "ExtractionError",
    "PdfTextError",
    "indicators_from_tool_input",
    "pdf_text",
]

#: Previred's monthly PDF is 1-3 pages and well under 1 MB; these bounds only
#: stop hostile or mistaken input from costing CPU or LLM tokens.
MAX_PDF_BYTES: Final = 10 * 1024 * 1024
MAX_PDF_PAGES: Final = 20
MAX_TEXT_CHARS: Final = 60_000


class PdfTextError(ValueError):
    """The bytes are not a readable PDF with extractable text."""


class ExtractionError(IndicatorsError):
    """The LLM's tool input does not form plausible indicators (``problems`` lists why)."""


def pdf_text(
    data: bytes,
    *,
    max_bytes: int = MAX_PDF_BYTES,
    max_pages: int = MAX_PDF_PAGES,
    max_chars: int = MAX_TEXT_CHARS,
) -> str:
    """Return the text of the first ``max_pages`` pages of a PDF, at most ``max_chars`` long.

    Raises :class:`PdfTextError` for oversized input, bytes that are not a PDF
    (an HTML error page served with status 200 is the usual case), encrypted
    or broken files, and PDFs without a text layer (scans).
    """
    if len(data) > max_bytes:
        raise PdfTextError(f"PDF demasiado grande: {len(data)} bytes (máximo {max_bytes})")
    # The PDF header may follow a few bytes of junk; readers accept it within 1 KiB.
    if b"%PDF-" not in data[:1024]:
        raise PdfTextError("El contenido no es un PDF (falta la cabecera %PDF-)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfTextError("PDF cifrado con contraseña")
        parts: list[str] = []
        size = 0
        for index, page in enumerate(reader.pages):
            if index >= max_pages or size >= max_chars:
                break
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text) + 1
    except PdfTextError:
        raise
    except Exception as exc:  # pypdf raises many exception types on damaged input
        raise PdfTextError(f"PDF ilegible: {type(exc).__name__}: {str(exc)[:200]}") from exc
    text = "\n".join(parts).strip()
    if not text:
        raise PdfTextError("El PDF no tiene texto extraíble (¿documento escaneado?)")
    return text[:max_chars]


_UNIT_HINTS: Final = {
    "CLP": "en pesos chilenos, sin separadores de miles ni signo $",
    "UF": "en UF",
    "%": "en porcentaje (1.88 significa 1,88 %)",
}


def _tool_keys() -> list[str]:
    # The document prints each AFP's dependent-worker rate (10 % + commission),
    # so ask for that; the commission is derived by from_flat.
    keys = [key for key in SCALAR_KEYS if key != "aporte_empleador_pct"]
    keys += [f"afp_{name}_pct" for name in AFP_NAMES]
    keys += [key for key in KEY_SPECS if key.startswith("asig_fam_")]
    return keys


#: Keys the tool input carries besides ``period``.
TOOL_KEYS: Final = tuple(_tool_keys())


def _property(spec: KeySpec) -> dict[str, Any]:
    return {
        "type": ["number", "null"],
        "description": f"{spec.description}, {_UNIT_HINTS[spec.unit]}. null si no aparece.",
    }


#: Anthropic tool definition (``tools=[RECORD_INDICATORS_TOOL]``, force it with
#: ``tool_choice={"type": "tool", "name": "record_indicators"}``).
RECORD_INDICATORS_TOOL: Final[dict[str, Any]] = {
    "name": "record_indicators",
    "description": (
        "Registra los indicadores previsionales de Previred de UN mes, copiados del "
        "documento tal como aparecen. Usa null para todo valor que el documento no "
        "muestre: nunca inventes ni uses 0 como relleno."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "period": {
                "type": "string",
                "pattern": r"^\d{4}-\d{2}$",
                "description": "Mes de remuneraciones del documento, YYYY-MM",
            },
            **{key: _property(KEY_SPECS[key]) for key in TOOL_KEYS},
        },
        "required": ["period", *TOOL_KEYS],
        "additionalProperties": False,
    },
}


def indicators_from_tool_input(data: Mapping[str, object], period: str) -> Indicators:
    """Validate the ``record_indicators`` tool input for ``period`` into Indicators.

    Checks, all reported together in one :class:`ExtractionError`: the input is
    an object with only known keys; the document's month is ``period``; every
    value is a number or null; aliases agree; :func:`range_check` passes and
    the core values (UF, UTM, UTA, IMM) are present. A ``0`` used as filler
    fails the bounds of every value that cannot be zero.
    """
    parse_period(period)
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        raise ExtractionError([f"la entrada de la herramienta no es un objeto: {kind}"])
    problems: list[str] = []
    document_period = data.get("period")
    if document_period is not None and document_period != period:
        problems.append(f"el documento es de {document_period}, se pidió {period}")
    # Other flat keys (aliases such as exvida_pct) are accepted; from_flat checks
    # that they agree and rejects unknown keys.
    values = {key: value for key, value in data.items() if key != "period"}
    try:
        ind = from_flat(values, period=period, origin="llm", strict=True)
    except IndicatorsError as exc:
        raise ExtractionError(problems + exc.problems) from exc
    problems += range_check(ind, require=CORE_KEYS)
    if problems:
        raise ExtractionError(problems)
    return ind
