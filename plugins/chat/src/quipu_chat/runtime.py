"""Where the chat plugin keeps its per-app service between its lifespan and its routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quipu.api import ServiceKey

if TYPE_CHECKING:
    from collections.abc import Mapping

    from quipu_chat.records import ChatSkill, KnowledgeDocument
    from quipu_chat.service import ChatService

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
        self.service: ChatService | None = None


#: The chat plugin's runtime, provided by chat itself (its routes look it up).
CHAT_RUNTIME = ServiceKey("chat.runtime", ChatRuntime)
