"""Spanish knowledge documents on the liquidación de sueldo, shipped as package data.

The chat knowledge base indexes them (``register_knowledge``) and the AI review prompt
carries the liquidación guide as cacheable reference text.
"""

from __future__ import annotations

from typing import Final

from quipu_previred.knowledge import markdown_documents, package_text

__all__ = ["DOCUMENT_IDS", "knowledge_documents", "knowledge_text"]

#: Stable ids (file stems), overview first.
DOCUMENT_IDS: Final = (
    "calculo_liquidacion",
    "cotizaciones_topes_afc_salud",
    "impuesto_unico",
    "gratificacion_asignacion_familiar",
    "validacion_de_liquidaciones",
)


def knowledge_text(doc_id: str) -> str:
    """The Markdown text of one document."""
    return package_text(__name__, doc_id)


def knowledge_documents() -> list[tuple[str, str, str]]:
    """``(id, title, markdown)`` of every payroll document."""
    return markdown_documents(__name__, DOCUMENT_IDS)
