"""The public API of quipu for plugins: everything a plugin may import from the core.

A plugin imports from here and nowhere else of ``quipu`` (the test kit,
:mod:`quipu.testing`, is public for tests). An import-linter contract in ``make lint``
holds the built-in plugins to this, exactly as a third party's would be. The rest of the
core is private and may change without notice.

- Hooks: :data:`hookimpl` (and :data:`hookspec` for a plugin's own hooks, added with
  ``register_hookspecs``); the hooks themselves are documented in :mod:`quipu.hookspecs`.
- What a plugin is handed: :class:`PluginContext` (config, cache, LLM gateway, its Redis
  namespace, logger, metrics, services), given to hooks as ``platform`` and to route
  handlers that declare a ``plugin: PluginContext[MyConfig]`` parameter.
- Typed services between plugins: :class:`ServiceKey`, :class:`Service`.
- Records hooks return: :class:`CachePolicy`, :class:`PromptTemplate`.
- Requests: :data:`Caller` / :class:`Principal` (the API key's scope), :func:`requires_role`,
  :func:`error_response`, the response cache (:class:`ResponseCache`,
  :class:`VaryContext`, :func:`response_ttl`).
- The LLM: :class:`LlmGateway` and its results and errors, and the prompt helpers.
"""

from __future__ import annotations

from quipu.cache import CacheResult, PluginCache
from quipu.cache.responses import ResponseCache, VaryContext, response_ttl
from quipu.config import Settings
from quipu.context import (
    MissingService,
    NotStarted,
    Plugin,
    PluginContext,
    PluginMetrics,
    Service,
    ServiceKey,
)
from quipu.errors import PlatformError, Problem, StartupError
from quipu.hookspecs import hookimpl, hookspec
from quipu.json_errors import error_response
from quipu.llm import (
    LlmError,
    LlmGateway,
    LlmRequestTooLarge,
    LlmResult,
    LlmUnavailable,
    LlmUpstreamError,
    ToolUse,
    Usage,
    retry_after_seconds,
)
from quipu.llm.pricing import price_table
from quipu.llm.prompts import DATA_RULE, data_block, system_blocks
from quipu.llm.tokens import estimate_tokens
from quipu.plugin_redis import ForeignKey, PluginRedis
from quipu.records import CachePolicy, PromptTemplate
from quipu.security.auth import Caller, Principal, requires_role

__all__ = [
    "DATA_RULE",
    "CachePolicy",
    "CacheResult",
    "Caller",
    "ForeignKey",
    "LlmError",
    "LlmGateway",
    "LlmRequestTooLarge",
    "LlmResult",
    "LlmUnavailable",
    "LlmUpstreamError",
    "MissingService",
    "NotStarted",
    "PlatformError",
    "Plugin",
    "PluginCache",
    "PluginContext",
    "PluginMetrics",
    "PluginRedis",
    "Principal",
    "Problem",
    "PromptTemplate",
    "ResponseCache",
    "Service",
    "ServiceKey",
    "Settings",
    "StartupError",
    "ToolUse",
    "Usage",
    "VaryContext",
    "data_block",
    "error_response",
    "estimate_tokens",
    "hookimpl",
    "hookspec",
    "price_table",
    "requires_role",
    "response_ttl",
    "retry_after_seconds",
    "system_blocks",
]
