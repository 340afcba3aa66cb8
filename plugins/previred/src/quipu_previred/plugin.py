"""Plugin hooks: thin declarations; the work is in routes, lookup, fetch and skills."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from quipu.api import CachePolicy, PluginContext, PromptTemplate, Service, hookimpl

from quipu_previred.config import PreviredConfig

if TYPE_CHECKING:
    from litestar import Litestar
    from quipu_chat.records import ChatSkill, KnowledgeDocument

# Light on purpose: quipu imports this module at start-up in every process (CLI included);
# routes, the fetch (httpx, pypdf, the LLM client) and skills load inside the hooks.

_DAY = 24 * 3600.0


def _config(platform: PluginContext[Any]) -> PreviredConfig:
    config = platform.config
    return config if isinstance(config, PreviredConfig) else PreviredConfig()


@hookimpl
def register_config_schema() -> type[PreviredConfig]:
    """``[plugins.previred]``: see :class:`quipu_previred.config.PreviredConfig`."""
    return PreviredConfig


@hookimpl
def register_services(platform: PluginContext[PreviredConfig]) -> Iterable[Service[Any]]:
    """:data:`quipu_previred.lookup.INDICATORS`: the month's indicators, for payroll."""
    from quipu_previred.lookup import INDICATORS, IndicatorsLookup

    return [Service(INDICATORS, IndicatorsLookup(platform))]


@hookimpl
def register_routes() -> Sequence[Any]:
    """``GET``/``PUT``/``DELETE /api/payroll/indicators/{period}``."""
    from quipu_previred.routes import ROUTES

    return list(ROUTES)


@hookimpl
def register_cache_policies() -> Iterable[CachePolicy]:
    """Closed months change only by an admin load (which invalidates): cache them long."""
    from quipu_previred.lookup import CLOSED_POLICY, CURRENT_POLICY, storable

    return [
        CachePolicy(
            name=CLOSED_POLICY,
            ttl_s=30 * _DAY,
            scope="global",
            cache_if=storable,
            description="Indicators of months before the current one",
        ),
        CachePolicy(
            name=CURRENT_POLICY,
            ttl_s=3600.0,
            scope="global",
            cache_if=storable,
            description="Indicators of the current month and later (Previred may publish)",
        ),
    ]


@hookimpl
def register_prompts() -> Iterable[PromptTemplate]:
    """``previred.extract``: Previred's document to ``record_indicators``."""
    from quipu_previred.prompts import extract_prompt

    return [extract_prompt()]


# The chat plugin's hooks (quipu_chat.hookspecs): optional, so previred loads without chat;
# called only when chat is loaded, so importing chat's records inside them is safe.


@hookimpl(optionalhook=True)
def register_chat_skills(platform: PluginContext[PreviredConfig]) -> Iterable[ChatSkill]:
    """The ``previred`` skill with the ``get_indicators`` tool (bound to this plugin)."""
    from quipu_previred.skills import chat_skill

    return [chat_skill(platform)]


@hookimpl(optionalhook=True)
def register_knowledge() -> Iterable[KnowledgeDocument]:
    """Spanish guides: what each indicator means, the 2024-2026 values, the sources."""
    from quipu_chat.records import KnowledgeDocument

    from quipu_previred.knowledge import knowledge_documents

    return [
        KnowledgeDocument(id=doc_id, title=title, text=text, tags=("previred", "remuneraciones"))
        for doc_id, title, text in knowledge_documents()
    ]


@hookimpl
def register_lifespans(
    platform: PluginContext[PreviredConfig],
) -> Iterable[Callable[[Litestar], AbstractAsyncContextManager[None]]]:
    """The HTTP client of the Previred fetch, shared by every request of the process."""
    config = _config(platform)

    @asynccontextmanager
    async def previred_http(app: Litestar) -> AsyncIterator[None]:
        import httpx

        from quipu_previred.lookup import INDICATORS

        timeout = httpx.Timeout(config.fetch_timeout_s)
        async with httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=True,
            max_redirects=3,
            headers={"User-Agent": config.user_agent},
            limits=httpx.Limits(max_connections=4),
        ) as client:
            fetcher = platform.service(INDICATORS).fetcher
            fetcher.http = client
            try:
                yield
            finally:
                fetcher.http = None

    return [previred_http]
