"""Spanish knowledge documents on Previred's indicators, shipped as package data.

The chat knowledge base indexes them (``register_knowledge``) and the extraction prompt
carries the indicators guide as cacheable reference text. :func:`markdown_documents`
reads any package's documents the same way (the payroll plugin uses it too).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Final

__all__ = ["DOCUMENT_IDS", "knowledge_documents", "knowledge_text", "markdown_documents"]

#: Stable ids (file stems), overview first.
DOCUMENT_IDS: Final = (
    "indicadores_previsionales",
    "valores_2024_2026",
    "fuentes_y_actualizacion",
)


@functools.cache
def package_text(package: str, doc_id: str) -> str:
    """The Markdown text of ``<doc_id>.md`` in ``package``."""
    return resources.files(package).joinpath(f"{doc_id}.md").read_text(encoding="utf-8")


def markdown_documents(package: str, ids: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """``(id, title, markdown)`` of each document; the title is the first ``# `` heading."""
    documents = []
    for doc_id in ids:
        text = package_text(package, doc_id)
        title = next(
            (line[2:].strip() for line in text.splitlines() if line.startswith("# ")), doc_id
        )
        documents.append((doc_id, title, text))
    return documents


def knowledge_text(doc_id: str) -> str:
    """The Markdown text of one of this package's documents."""
    return package_text(__name__, doc_id)


def knowledge_documents() -> list[tuple[str, str, str]]:
    """``(id, title, markdown)`` of every Previred document."""
    return markdown_documents(__name__, DOCUMENT_IDS)
