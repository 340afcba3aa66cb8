"""The records other plugins return from the chat plugin's hooks (:mod:`quipu_chat.hookspecs`).

A plugin that contributes to the assistant imports these only where the chat plugin is
known to be installed: inside its ``register_chat_skills`` / ``register_knowledge``
implementations (marked ``@hookimpl(optionalhook=True)``), which are called only when
chat is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

__all__ = ["ChatSkill", "ChatTool", "KnowledgeDocument"]


class ChatTool(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A function the chat assistant may call through Anthropic tool use.

    Attributes:
        name: Local name, e.g. ``validate_dte``. Tool names are global in a conversation,
            so the chat plugin rejects two plugins lending the same tool name.
        description: What the tool does, for the model.
        input_schema: JSON schema of the tool's input.
        handler: ``async (input: dict, context: ToolContext) -> Any``; runs in-process with
            the caller's company scope. The result must be msgspec-encodable.
    """

    name: str
    description: str
    input_schema: Mapping[str, Any]
    handler: Callable[..., Any]


class ChatSkill(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What a plugin contributes to the chat assistant.

    Attributes:
        name: Local name, e.g. ``dte``.
        description: One line shown in introspection and used for routing.
        system_prompt: The skill's instructions, sent as a cacheable block.
        modules: ERP module names that route straight to this skill
            (e.g. ``l10n_cl_dte``).
        keywords: Routing hints; the best-scoring skill answers when no module is named.
        tools: Names of the tools (from any plugin) this skill may call.
    """

    name: str
    description: str
    system_prompt: str
    modules: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    tools: tuple[ChatTool, ...] = ()


class KnowledgeDocument(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A document for the chat knowledge base.

    Attributes:
        id: Local id, unique within the plugin (``iva``); registered as ``<plugin>.<id>``.
        title: Human title, cited as a source.
        text: Markdown text; the knowledge base splits it into passages.
        tags: Optional labels (ERP modules, topics).
    """

    id: str
    title: str
    text: str
    tags: tuple[str, ...] = ()
