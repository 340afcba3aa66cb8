"""Spanish knowledge documents on DTE rules, shipped as package data.

Each Markdown file states facts with their source in brackets (the short names
of domain-chile.md). The AI review and chat plugins index them.
"""

from importlib import resources
from typing import Final

__all__ = ["DOCUMENT_IDS", "knowledge_documents"]

#: Stable ids (file stems) in reading order: overview first, then details.
DOCUMENT_IDS: Final = (
    "tipos-dte",
    "iva-y-totales",
    "notas-credito-debito",
    "guias-despacho",
    "rechazos-comunes",
)


def knowledge_documents() -> list[tuple[str, str, str]]:
    """Return ``(id, title, markdown_text)`` for every knowledge document.

    The title is the first ``# `` heading of the file.
    """
    root = resources.files(__name__)
    documents = []
    for doc_id in DOCUMENT_IDS:
        text = root.joinpath(f"{doc_id}.md").read_text(encoding="utf-8")
        title = next(
            (line[2:].strip() for line in text.splitlines() if line.startswith("# ")), doc_id
        )
        documents.append((doc_id, title, text))
    return documents
