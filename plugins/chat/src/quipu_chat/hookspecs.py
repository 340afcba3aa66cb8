"""The hooks the chat plugin defines for other plugins (added with ``register_hookspecs``).

Any plugin contributes to the assistant by implementing them, marked
``@hookimpl(optionalhook=True)`` so that it still loads when chat is not installed::

    @hookimpl(optionalhook=True)
    def register_chat_skills(platform):
        from quipu_chat.records import ChatSkill  # only called when chat is loaded
        return [ChatSkill(name="dte", description=..., system_prompt=...)]

Each is called once at start-up with the contributing plugin's own context; records are
namespaced ``<plugin>.<name>`` and a tool name lent by two plugins stops start-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from quipu.api import hookspec

if TYPE_CHECKING:
    from quipu.api import PluginContext

    from quipu_chat.records import ChatSkill, KnowledgeDocument

__all__ = ["register_chat_skills", "register_knowledge"]


@hookspec
def register_chat_skills(platform: PluginContext[Any]) -> Iterable[ChatSkill]:  # type: ignore[empty-body]
    """Declare what the plugin contributes to the chat assistant.

    Args:
        platform: The contributing plugin's context (bind it into tool handlers that need
            the plugin's cache, services or config).

    Returns:
        :class:`quipu_chat.records.ChatSkill` records: a system prompt, routing hints (ERP
        module names, keywords) and :class:`quipu_chat.records.ChatTool` functions the
        model may call.

    Example::

        @hookimpl(optionalhook=True)
        def register_chat_skills(platform):
            from quipu_chat.records import ChatSkill, ChatTool
            return [ChatSkill(name="dte", description="Facturación electrónica",
                              system_prompt=DTE_SKILL, modules=("l10n_cl_dte",),
                              tools=(ChatTool(name="validate_dte", ...),))]
    """


@hookspec
def register_knowledge(platform: PluginContext[Any]) -> Iterable[KnowledgeDocument]:  # type: ignore[empty-body]
    """Declare documents for the chat knowledge base.

    Args:
        platform: The contributing plugin's context.

    Returns:
        :class:`quipu_chat.records.KnowledgeDocument` records, usually read from the
        plugin's package data with ``importlib.resources``. Ids are namespaced as
        ``<plugin>.<id>``.

    Example::

        @hookimpl(optionalhook=True)
        def register_knowledge(platform):
            from quipu_chat.records import KnowledgeDocument
            return [KnowledgeDocument(id="iva", title="IVA en DTE", text=IVA_MD)]
    """
