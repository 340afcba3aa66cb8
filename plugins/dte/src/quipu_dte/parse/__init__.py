"""One entry point for the three DTE input forms.

* flat Odoo form: ``{"tipo_dte": "33", "folio": "12345", "monto_total": 119000.0, ...}``
* XML: ``{"dte_xml": "<EnvioDTE ...>…</EnvioDTE>"}`` (DTE, EnvioDTE or EnvioBOLETA)
* JSON with SII element names: ``{"Encabezado": {...}, "Detalle": [...], ...}``
  (optionally wrapped in ``Documento``, ``DTE``, ``SetDTE`` or ``EnvioDTE``)
"""

from collections.abc import Mapping
from typing import Any, Final

from quipu_dte.errors import DteInputError
from quipu_dte.model import DteDocument, Envelope, ParsedDocuments, SourceKind
from quipu_dte.parse.envelope import build_envelope, split_documents
from quipu_dte.parse.flat import FLAT_FIELD_PATHS, parse_flat
from quipu_dte.parse.sii import SII_TOP_KEYS, build_document
from quipu_dte.parse.xml import xml_to_dict

__all__ = ["FLAT_FIELD_PATHS", "DteInputError", "ParsedDocuments", "parse_dte_data"]

# Any SII element name at the top level means the SII-named JSON form, so that
# a document missing its Encabezado is told so instead of being read as flat.
_SII_HINTS: Final = SII_TOP_KEYS | {
    "Detalle",
    "DscRcgGlobal",
    "Referencia",
    "TED",
    "CAF",
    "IdDoc",
    "Emisor",
    "Receptor",
    "Totales",
}


def _from_sii_dict(data: Mapping[str, Any], base: str, source: SourceKind) -> ParsedDocuments:
    bodies, caratula, problems = split_documents(data, base)
    if problems:
        raise DteInputError(problems)
    documents: list[DteDocument] = []
    all_problems: list[tuple[str, str]] = []
    for body, path in bodies:
        doc_base = f"{base}.{path}" if path else base
        document, doc_problems = build_document(body, base=doc_base, source=source)
        all_problems.extend(doc_problems)
        if document is not None:
            documents.append(document)
    envelope: Envelope | None = None
    if caratula is not None:
        envelope, env_problems = build_envelope(caratula, f"{base}.SetDTE.Caratula")
        all_problems.extend(env_problems)
    if all_problems or not documents:
        raise DteInputError(all_problems or [(base, "no DTE found in the input")])
    return ParsedDocuments(source=source, documents=tuple(documents), envelope=envelope)


def _parse(dte_data: Any) -> ParsedDocuments:
    if not isinstance(dte_data, Mapping):
        raise DteInputError(
            [("dte_data", f"expected an object, got {type(dte_data).__name__}; send a JSON object")]
        )
    if not dte_data:
        raise DteInputError([("dte_data", "empty; send tipo_dte, folio, montos… or dte_xml")])
    if "dte_xml" in dte_data:
        tree, problems = xml_to_dict(dte_data["dte_xml"])
        if tree is None:
            raise DteInputError(problems)
        return _from_sii_dict(tree, "dte_xml", "xml")
    if any(key in _SII_HINTS for key in dte_data):
        return _from_sii_dict(dte_data, "dte_data", "json")
    document = parse_flat(dte_data)
    return ParsedDocuments(source="flat", documents=(document,))


def parse_dte_data(dte_data: Any) -> ParsedDocuments:
    """Parse any accepted DTE input into normalised documents.

    Raises :class:`DteInputError` (and nothing else) when the input cannot be
    read: wrong types, non-numeric amounts, bad dates, malformed or unsafe XML,
    missing ``tipo_dte``. A readable document with wrong *content* (bad RUT,
    wrong IVA, missing required SII fields) parses fine; the rule engine
    reports those.
    """
    try:
        return _parse(dte_data)
    except DteInputError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, RecursionError) as exc:
        # Safety net: the readers above validate every value they touch, so
        # reaching this is a bug; still, callers are promised one exception type.
        raise DteInputError(
            [("dte_data", f"could not read the document ({type(exc).__name__})")]
        ) from exc
