"""Plugin hooks of the chat assistant."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any, TypeVar

from quipu import KnowledgeDocument, hookimpl

from quipu_chat.config import ChatConfig

_F = TypeVar("_F", bound=Callable[..., Any])


def _hook(func: _F) -> _F:
    """``quipu.hookimpl`` with a typed signature (quipu ships no ``py.typed`` marker yet)."""
    marked: _F = hookimpl(func)
    return marked


#: The chat plugin's own knowledge documents: (id, title, file under knowledge_docs/).
DOCUMENTS = (("uso_asistente", "Uso del asistente", "uso_asistente.md"),)


@_hook
def register_config_schema() -> type[ChatConfig]:
    """``[plugins.chat]``: see :class:`quipu_chat.config.ChatConfig`."""
    return ChatConfig


@_hook
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
