"""Plugin hooks of the chat assistant.

Routes (:mod:`quipu_chat.routes`), the ``answers`` response-cache policy, the general skill,
the plugin's own knowledge document, its ``[plugins.chat]`` schema, and a lifespan that
builds the :class:`~quipu_chat.service.ChatService` once the platform's Redis client and
LLM gateway exist. Importing this module stays light: the routes, the skill router and the
knowledge index are imported or built when the platform asks for them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any

from quipu.api import CachePolicy, PluginContext, Service, hookimpl

from quipu_chat.config import ChatConfig
from quipu_chat.records import ChatSkill, KnowledgeDocument
from quipu_chat.runtime import CHAT_RUNTIME, ChatRuntime

if TYPE_CHECKING:
    from litestar import Litestar

log = logging.getLogger("quipu.chat")


def _config(platform: PluginContext[Any]) -> ChatConfig:
    config = platform.config
    return config if isinstance(config, ChatConfig) else ChatConfig()


#: The chat plugin's own knowledge documents: (id, title, file under knowledge_docs/).
DOCUMENTS = (("uso_asistente", "Uso del asistente", "uso_asistente.md"),)


@hookimpl
def register_hookspecs() -> Iterable[object]:
    """``register_chat_skills`` and ``register_knowledge``, for every plugin to implement."""
    from quipu_chat import hookspecs

    return [hookspecs]


@hookimpl
def register_services(platform: PluginContext[ChatConfig]) -> Iterable[Service[Any]]:
    """The chat runtime holder its routes read (filled by the lifespan)."""
    return [Service(CHAT_RUNTIME, ChatRuntime())]


@hookimpl
def register_config_schema() -> type[ChatConfig]:
    """``[plugins.chat]``: see :class:`quipu_chat.config.ChatConfig`."""
    return ChatConfig


@hookimpl
def register_knowledge() -> Iterable[KnowledgeDocument]:
    """What the assistant can do, in Spanish, for questions about the assistant itself."""
    folder = resources.files("quipu_chat") / "knowledge_docs"
    return [
        KnowledgeDocument(
            id=doc_id,
            title=title,
            text=(folder / name).read_text(encoding="utf-8"),
            tags=("general", "asistente"),
        )
        for doc_id, title, name in DOCUMENTS
    ]


@hookimpl
def register_routes(platform: PluginContext[ChatConfig]) -> Sequence[Any]:
    """``/api/chat/...`` and ``POST /api/chat`` (see :mod:`quipu_chat.routes`)."""
    from quipu_chat.routes import chat_routes

    return chat_routes(_config(platform))


@hookimpl
def register_cache_policies(platform: PluginContext[ChatConfig]) -> Iterable[CachePolicy]:
    """``chat.answers``: stateless questions answered with confidence above 80, for 300 s.

    ``cache_if`` is the rule of :func:`quipu_chat.confidence.is_cacheable` with the
    configured ``cache_min_confidence``; override the TTL with
    ``[plugins.chat.cache] answers = <seconds>``.
    """
    from quipu_chat.confidence import is_cacheable

    threshold = _config(platform).cache_min_confidence

    def cache_if(answer: Any) -> bool:
        return is_cacheable(answer.confidence, stateless=answer.stateless, threshold=threshold)

    return [
        CachePolicy(
            name="answers",
            ttl_s=300,
            cache_if=cache_if,
            description="assistant answers to stateless questions with confidence > 80",
        )
    ]


@hookimpl
def register_chat_skills() -> Iterable[ChatSkill]:
    """The general skill (``chat.general``): answers what no specialist claims."""
    from quipu_chat.routing import GENERAL_SKILL

    return [GENERAL_SKILL]


def _tools_of(skill: ChatSkill) -> Iterable[str]:
    return [tool.name for tool in skill.tools]


@hookimpl
def register_lifespans(
    platform: PluginContext[ChatConfig],
) -> Iterable[Callable[[Litestar], AbstractAsyncContextManager[None]]]:
    """Build the chat service (engine, knowledge index, session store) at start-up.

    Every plugin's skills and documents are collected here, at start-up (so ``quipu
    check`` reports a bad one, naming its plugin), and indexed when the app starts.
    """
    config = _config(platform)
    contributed = platform.collect(
        "register_chat_skills",
        ChatSkill,
        name=lambda skill: skill.name,
        claims=_tools_of,
        claim_what="chat tool",
    )
    skills = {f"{owner}.{s.name}": s for owner, own in contributed.items() for s in own}
    documents = {
        f"{owner}.{doc.id}": doc
        for owner, own in platform.collect(
            "register_knowledge", KnowledgeDocument, name=lambda doc: doc.id
        ).items()
        for doc in own
    }
    runtime = platform.service(CHAT_RUNTIME)
    runtime.skills, runtime.documents = skills, documents

    @asynccontextmanager
    async def chat_service(app: Litestar) -> AsyncIterator[None]:
        from quipu.api import price_table

        from quipu_chat.engine import ChatEngine
        from quipu_chat.service import ChatService
        from quipu_chat.sessions import make_session_store

        settings = platform.settings
        engine = ChatEngine(
            config, skills, documents, prompt_cache_ttl=settings.llm.prompt_cache_ttl
        )
        model = config.model or settings.llm.model
        price = price_table(settings.llm.prices).get(model)
        for warning in engine.short_prefix_warnings(price.min_cacheable_tokens if price else 1024):
            log.warning("%s", warning)
        store = make_session_store(platform.redis, config)
        runtime.service = ChatService(config, engine, store, platform)
        try:
            yield
        finally:
            runtime.service = None

    return [chat_service]
