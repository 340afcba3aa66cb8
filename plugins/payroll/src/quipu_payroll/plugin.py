"""Plugin hooks: thin declarations; the work is in routes, review and skills."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from quipu.api import CachePolicy, PluginContext, PromptTemplate, hookimpl

from quipu_payroll.config import PayrollConfig

if TYPE_CHECKING:
    from quipu_chat.records import ChatSkill, KnowledgeDocument

# Light on purpose: quipu imports this module at start-up in every process (CLI included);
# routes, the review (LLM client) and skills load inside the hooks.


@hookimpl
def register_config_schema() -> type[PayrollConfig]:
    """``[plugins.payroll]``: see :class:`quipu_payroll.config.PayrollConfig`."""
    return PayrollConfig


@hookimpl
def register_routes(platform: PluginContext[PayrollConfig]) -> Sequence[Any]:
    """``POST /api/payroll/validate``.

    The slip check resolves the period's indicators through the previred plugin's
    service: looked up here, so that previred missing stops start-up with a clear error.
    """
    from quipu_previred.lookup import INDICATORS

    from quipu_payroll.routes import validate_payslip

    platform.service(INDICATORS)

    return [validate_payslip]


@hookimpl
def register_cache_policies() -> Iterable[CachePolicy]:
    """AI reviews, per company, keyed by the normalised slip and its findings; whole
    answers to repeated bodies (``payroll.responses``)."""
    from quipu_payroll.responses import RESPONSE_POLICY
    from quipu_payroll.review import REVIEW_POLICY

    return [
        CachePolicy(
            name=REVIEW_POLICY,
            ttl_s=24 * 3600.0,
            scope="company",
            description="AI review of a slip (observations only)",
        ),
        CachePolicy(
            name=RESPONSE_POLICY,
            ttl_s=3600.0,
            scope="company",
            description="whole answers, keyed by the raw body, versions, the period's "
            "indicators version and the date",
        ),
    ]


@hookimpl
def register_prompts() -> Iterable[PromptTemplate]:
    """``payroll.review``: observations on a checked slip through ``record_observations``."""
    from quipu_payroll.review import review_prompt

    return [review_prompt()]


# The chat plugin's hooks (quipu_chat.hookspecs): optional, so payroll loads without chat;
# called only when chat is loaded, so importing chat's records inside them is safe.


@hookimpl(optionalhook=True)
def register_chat_skills(platform: PluginContext[PayrollConfig]) -> Iterable[ChatSkill]:
    """The ``payroll`` skill with the ``compute_payslip`` tool (bound to this plugin)."""
    from quipu_payroll.skills import chat_skill

    return [chat_skill(platform)]


@hookimpl(optionalhook=True)
def register_knowledge() -> Iterable[KnowledgeDocument]:
    """Spanish guides: the liquidación, contributions and topes, tax, gratificación."""
    from quipu_chat.records import KnowledgeDocument

    from quipu_payroll.knowledge import knowledge_documents

    return [
        KnowledgeDocument(
            id=doc_id, title=title, text=text, tags=("remuneraciones", "l10n_cl_hr_payroll")
        )
        for doc_id, title, text in knowledge_documents()
    ]
