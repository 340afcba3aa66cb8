"""Hooks of the DTE plugin: declarations only.

Everything heavy (the rule engine, lxml, Litestar handlers) is imported inside the hooks,
so discovering the plugin costs one small module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from quipu import hookimpl

if TYPE_CHECKING:
    from quipu import CachePolicy, ChatSkill, KnowledgeDocument, PluginContext, PromptTemplate

    from quipu_dte.config import DteConfig


@hookimpl
def register_config_schema() -> type[DteConfig]:
    """``[plugins.dte]``: see :class:`quipu_dte.config.DteConfig`."""
    from quipu_dte.config import DteConfig

    return DteConfig


@hookimpl
def register_routes() -> Sequence[Any]:
    """``/api/ai/validate``, ``/api/ai/validate/batch``, ``/api/ai/reception/match_po``."""
    from quipu_dte.routes import ROUTES

    return list(ROUTES)


@hookimpl
def register_cache_policies() -> Iterable[CachePolicy]:
    """``dte.validation``: AI reviews, 15 minutes, per company, only successful ones;
    ``dte.responses``: whole answers to repeated bodies, 15 minutes, per company."""
    from quipu import CachePolicy

    from quipu_dte.responses import RESPONSE_POLICY
    from quipu_dte.review import cacheable

    return [
        CachePolicy(
            name="validation",
            ttl_s=900,
            scope="company",
            cache_if=cacheable,
            description="AI reviews of DTE validations, keyed by the canonical document",
        ),
        CachePolicy(
            name=RESPONSE_POLICY,
            ttl_s=900,
            scope="company",
            description="whole validation answers, keyed by the raw body, rule-set, prompt "
            "and config versions and the date",
        ),
    ]


@hookimpl
def register_prompts() -> Iterable[PromptTemplate]:
    """``dte.review@1`` and ``dte.match_tiebreak@1``."""
    from quipu_dte.prompts import prompt_templates

    return list(prompt_templates())


@hookimpl
def register_chat_skills(platform: PluginContext) -> Iterable[ChatSkill]:
    """The ``dte`` skill with the ``validate_dte`` tool."""
    from quipu_dte.skills import chat_skill

    return [chat_skill(platform.config)]


@hookimpl
def register_knowledge() -> Iterable[KnowledgeDocument]:
    """Five Spanish documents on DTE rules for the chat knowledge base."""
    from quipu_dte.skills import knowledge

    return knowledge()
