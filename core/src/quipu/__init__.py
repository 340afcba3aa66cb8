"""quipu: a plugin-first AI platform for Chilean ERP systems.

A plugin starts with ``from quipu import hookimpl`` and returns the records below from
its hooks (see :mod:`quipu.hookspecs`).
"""

from quipu.context import PluginContext
from quipu.errors import PlatformError, Problem, StartupError
from quipu.hookspecs import hookimpl
from quipu.records import (
    CachePolicy,
    ChatSkill,
    ChatTool,
    KnowledgeDocument,
    PluginInfo,
    PromptTemplate,
)
from quipu.security.auth import Caller, Principal

__version__ = "0.1.0"

__all__ = [
    "CachePolicy",
    "Caller",
    "ChatSkill",
    "ChatTool",
    "KnowledgeDocument",
    "PlatformError",
    "PluginContext",
    "PluginInfo",
    "Principal",
    "Problem",
    "PromptTemplate",
    "StartupError",
    "__version__",
    "hookimpl",
]
