"""Hooks of the DTE plugin: declarations only.

Everything heavy (the rule engine, lxml, Litestar handlers) is imported inside the hooks,
so discovering the plugin costs one small module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from quipu.api import hookimpl

if TYPE_CHECKING:
    from quipu.api import CachePolicy, PluginContext, PromptTemplate, Service
    from quipu_chat.records import ChatSkill, KnowledgeDocument

    from quipu_dte.config import DteConfig


@hookimpl
def register_config_schema() -> type[DteConfig]:
    """``[plugins.dte]``: see :class:`quipu_dte.config.DteConfig`."""
    from quipu_dte.config import DteConfig

    return DteConfig


@hookimpl
def register_services(platform: PluginContext[DteConfig]) -> Iterable[Service[Any]]:
    """The plugin's per-app runtime (its handlers look it up)."""
    from quipu_dte.routes import runtime_service

    return [runtime_service(platform)]


@hookimpl
def register_routes() -> Sequence[Any]:
    """``/api/ai/validate``, ``/api/ai/validate/batch``, ``/api/ai/reception/match_po``."""
    from quipu_dte.routes import ROUTES

    return list(ROUTES)


@hookimpl
def register_cache_policies() -> Iterable[CachePolicy]:
    """``dte.validation``: AI reviews, 15 minutes, per company, only successful ones;
    ``dte.responses``: whole answers to repeated bodies, 15 minutes, per company."""
    from quipu.api import CachePolicy

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


# The chat plugin's hooks (quipu_chat.hookspecs): optional, so dte loads without chat;
# called only when chat is loaded, so importing chat's records inside them is safe.


@hookimpl(optionalhook=True)
def register_chat_skills(platform: PluginContext[DteConfig]) -> Iterable[ChatSkill]:
    """The ``dte`` skill with the ``validate_dte`` tool."""
    from quipu_dte.skills import chat_skill

    return [chat_skill(platform.config)]


@hookimpl(optionalhook=True)
def register_knowledge() -> Iterable[KnowledgeDocument]:
    """Five Spanish documents on DTE rules for the chat knowledge base."""
    from quipu_dte.skills import knowledge

    return knowledge()
