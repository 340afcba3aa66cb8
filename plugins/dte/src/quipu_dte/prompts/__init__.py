"""The DTE plugin's prompts: the AI review and the purchase-order tie-break.

The stable instructions are package data (``review.md``, ``match_tiebreak.md``); the rule
catalogue summary is generated from :data:`quipu_dte.rules.CATALOGUE`, so the model always
sees the codes the engine can report. Both prompts are long enough to pass the model's
minimum cacheable prefix: repeated calls pay the cached-read rate for them.

Request data (document, findings, history, purchase orders) only ever fills the
``user_template`` placeholders, which the LLM gateway wraps in ``<data>`` elements.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from quipu.api import PromptTemplate

__all__ = [
    "MATCH_PROMPT",
    "MATCH_PROMPT_VERSION",
    "REVIEW_PROMPT",
    "REVIEW_PROMPT_VERSION",
    "catalogue_summary",
    "prompt_templates",
]

REVIEW_PROMPT: Final = "review"
#: Bump when the wording of the review prompt or its tool changes (it is part of the
#: cache key of AI reviews, so cached reviews of the old prompt are not served).
REVIEW_PROMPT_VERSION: Final = "1"
MATCH_PROMPT: Final = "match_tiebreak"
MATCH_PROMPT_VERSION: Final = "1"

REVIEW_USER_TEMPLATE: Final = """\
Revisa este DTE recibido y registra tu revisión con la herramienta record_review.

Contexto de la validación:
{context}

Documento normalizado:
{document}

Hallazgos del motor de reglas (definitivos):
{findings}

Resumen del historial del proveedor:
{history}
"""

MATCH_USER_TEMPLATE: Final = """\
Desempata entre las órdenes de compra candidatas para esta factura y registra tu \
decisión con la herramienta choose_po.

Contexto:
{context}

Factura recibida:
{invoice}

Órdenes de compra empatadas:
{candidates}
"""


def _text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def catalogue_summary() -> str:
    """The rule catalogue as a Markdown list (code, severity, meaning, source)."""
    from quipu_dte.rules import CATALOGUE, RULESET_VERSION

    lines = [
        f"# Catálogo de reglas del motor determinista (versión {RULESET_VERSION})",
        "",
        "Estos son todos los códigos que las reglas pueden informar. Los de severidad "
        "error son hechos verificados: implican rechazo. Los de severidad warning son "
        "advertencias de las reglas. Tus observaciones usan códigos propios que empiezan "
        "con AI_ y nunca repiten estos.",
        "",
    ]
    for info in CATALOGUE.values():
        lines.append(f"- {info.code} ({info.severity}): {info.meaning} [{info.source}]")
    return "\n".join(lines) + "\n"


@cache
def prompt_templates() -> tuple[PromptTemplate, ...]:
    """The two prompt templates the plugin registers."""
    from quipu.api import PromptTemplate

    from quipu_dte.knowledge import knowledge_documents

    types_doc = next(text for doc_id, _, text in knowledge_documents() if doc_id == "tipos-dte")
    return (
        PromptTemplate(
            name=REVIEW_PROMPT,
            version=REVIEW_PROMPT_VERSION,
            system_blocks=(_text("review.md"), catalogue_summary()),
            user_template=REVIEW_USER_TEMPLATE,
            max_tokens=1024,
        ),
        PromptTemplate(
            name=MATCH_PROMPT,
            version=MATCH_PROMPT_VERSION,
            system_blocks=(_text("match_tiebreak.md"),),
            knowledge_blocks=(types_doc,),
            user_template=MATCH_USER_TEMPLATE,
            max_tokens=400,
        ),
    )
