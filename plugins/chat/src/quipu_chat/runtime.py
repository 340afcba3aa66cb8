"""Where the chat plugin keeps its per-app service between its lifespan and its routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quipu.api import ServiceKey

from quipu_chat.records import ChatSkill, KnowledgeDocument

__all__ = ["CHAT_RUNTIME", "ChatRuntime"]


class ChatRuntime:
    """What every plugin contributed (collected at start-up) and the app's
    :class:`~quipu_chat.service.ChatService` once the lifespan built it."""

    __slots__ = ("documents", "service", "skills")

    def __init__(self) -> None:
        self.skills: Mapping[str, ChatSkill] = {}
        """By ``<plugin>.<name>``."""
        self.documents: Mapping[str, KnowledgeDocument] = {}
        """By ``<plugin>.<id>``."""
        self.service: Any = None
        """The ``ChatService`` (untyped here: ``quipu_chat.service`` imports this module;
        :func:`quipu_chat.service.chat_service` returns it typed)."""


#: The chat plugin's runtime, provided by chat itself (its routes look it up).
CHAT_RUNTIME = ServiceKey("chat.runtime", ChatRuntime)
