"""The hooks a quipu plugin implements.

A plugin is a module with functions decorated by :data:`quipu.hookimpl`, registered under
its entry-point name in the ``quipu`` group. Each hook *declares data*: it returns records
and does no I/O. Async start-up work belongs in :func:`register_lifespans`.

Every hook that takes ``platform`` receives the calling plugin's
:class:`quipu.api.PluginContext`: its name, its decoded ``[plugins.<name>]`` section, the
platform settings, a logger, metrics and typed services. An implementation may leave out
any argument it does not need. Plugins import all of this from :mod:`quipu.api`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar, overload

import msgspec
import pluggy

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ControllerRouterHandler

    from quipu.context import PluginContext, Service
    from quipu.records import CachePolicy, PromptTemplate

__all__ = ["PROJECT", "hookimpl", "hookspec"]

#: The pluggy project name and the entry-point group plugins register in.
PROJECT = "quipu"

hookspec = pluggy.HookspecMarker(PROJECT)
_marker = pluggy.HookimplMarker(PROJECT)
_F = TypeVar("_F", bound=Callable[..., Any])


@overload
def hookimpl(function: _F, /) -> _F: ...
@overload
def hookimpl(*, specname: str | None = None, optionalhook: bool = False) -> Callable[[_F], _F]: ...
def hookimpl(
    function: _F | None = None, /, *, specname: str | None = None, optionalhook: bool = False
) -> _F | Callable[[_F], _F]:
    """Mark a plugin function as the implementation of the hook of the same name.

    The decorated function keeps its own type for mypy. Use it bare (``@hookimpl``) or with
    ``specname=`` (implement a hook under another function name) or ``optionalhook=True``
    (a hook another plugin may define: no error when it is absent). quipu calls each
    plugin's implementation on its own, so pluggy's ordering and wrapper options do not
    apply and are not offered.
    """
    if function is None:
        return _marker(specname=specname, optionalhook=optionalhook)
    return _marker(function, specname=specname, optionalhook=optionalhook)


@hookspec
def register_config_schema() -> type[msgspec.Struct] | None:
    """Declare the schema of the plugin's ``[plugins.<name>]`` section in ``platform.toml``.

    Returns:
        A frozen ``msgspec.Struct`` class with ``forbid_unknown_fields=True`` and a default
        for every field. The platform decodes the section into it at start-up and hands the
        instance back as ``platform.config``. A section for a plugin that declares no schema,
        or a key the schema does not know, stops start-up with a message naming the key.

    Example::

        class DteConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
            ai_review: bool = True

        @hookimpl
        def register_config_schema():
            return DteConfig
    """


@hookspec
def register_routes(platform: PluginContext) -> Sequence[ControllerRouterHandler]:  # type: ignore[empty-body]
    """Declare the plugin's HTTP routes.

    Args:
        platform: The calling plugin's context.

    Returns:
        Litestar route handlers or Controllers, with the full public path (quipu keeps the
        paths existing ERP clients call, e.g. ``/api/ai/validate``). The platform mounts them
        on a Router of their own, tagged with the plugin's name in OpenAPI and with
        ``opt["plugin"]`` set; a path and method claimed by two plugins stops start-up.

    Example::

        @post("/api/ai/validate")
        async def validate(data: ValidateRequest) -> ValidateResponse: ...

        @hookimpl
        def register_routes(platform):
            return [validate]
    """


@hookspec
def register_cache_policies(platform: PluginContext) -> Iterable[CachePolicy]:  # type: ignore[empty-body]
    """Declare how the plugin's results are cached.

    Args:
        platform: The calling plugin's context.

    Returns:
        :class:`quipu.api.CachePolicy` records. A policy ``validation`` of plugin ``dte`` is
        known as ``dte.validation``; operators override its TTL with
        ``[plugins.dte.cache] validation = 600``.

    Example::

        @hookimpl
        def register_cache_policies(platform):
            return [CachePolicy(name="validation", ttl_s=900)]
    """


@hookspec
def register_prompts(platform: PluginContext) -> Iterable[PromptTemplate]:  # type: ignore[empty-body]
    """Declare the prompt templates the plugin sends to the LLM.

    Args:
        platform: The calling plugin's context.

    Returns:
        :class:`quipu.api.PromptTemplate` records, registered as ``<plugin>.<name>@<version>``.
        Placeholders in ``user_template`` must parse; cacheable blocks shorter than the
        model's minimum cacheable length are reported at start-up.

    Example::

        @hookimpl
        def register_prompts(platform):
            return [PromptTemplate(name="review", version="1",
                                   system_blocks=(REVIEW_RULES,),
                                   user_template="Documento:\\n{document}")]
    """


@hookspec
def register_hookspecs() -> Iterable[object]:  # type: ignore[empty-body]
    """Add hooks of the plugin's own, for other plugins to implement.

    Called once, right after discovery and before any other hook, so a hook another plugin
    defines can be implemented by plugins loaded before it. Implementations of a hook no
    loaded plugin defines must be marked ``@hookimpl(optionalhook=True)``.

    Returns:
        Modules or classes holding functions marked with :data:`quipu.api.hookspec`
        (pluggy's ``add_hookspecs``). The plugin collects what others return from them
        with :meth:`quipu.api.PluginContext.collect`.

    Example::

        # acme_board/hookspecs.py
        @hookspec
        def register_widgets(platform) -> Iterable[Widget]: ...

        @hookimpl
        def register_hookspecs():
            from acme_board import hookspecs
            return [hookspecs]
    """


@hookspec
def register_services(platform: PluginContext) -> Iterable[Service[Any]]:  # type: ignore[empty-body]
    """Provide typed services to other plugins.

    Called for every plugin before the other declaring hooks, so another plugin may look
    a service up in its own hooks (a missing provider then stops start-up, naming it).

    Args:
        platform: The calling plugin's context.

    Returns:
        :class:`quipu.api.Service` records: a published :class:`quipu.api.ServiceKey` and
        the value (no I/O here: a lifespan may open what the value needs later). Two
        plugins providing one key stop start-up, blaming the newcomer.

    Example::

        INDICATORS = ServiceKey("previred.indicators", IndicatorsLookup)

        @hookimpl
        def register_services(platform):
            return [Service(INDICATORS, IndicatorsLookup(platform))]
    """


@hookspec
def register_lifespans(  # type: ignore[empty-body]
    platform: PluginContext,
) -> Iterable[Callable[[Litestar], AbstractAsyncContextManager[None]]]:
    """Declare async start-up and shut-down work (clients, background tasks).

    Args:
        platform: The calling plugin's context.

    Returns:
        Callables taking the Litestar app and returning an async context manager; they are
        entered when the app starts and exited when it stops, as Litestar ``lifespan``
        entries. This is the only place a plugin may do I/O at start-up. ``quipu check``
        calls each callable once with the app, without entering what it returns, to see
        that it is an async context manager: keep the call itself free of side effects
        (``@asynccontextmanager`` functions are).

    Example::

        @asynccontextmanager
        async def http_client(app):
            async with httpx.AsyncClient() as client:
                app.state.previred_http = client
                yield

        @hookimpl
        def register_lifespans(platform):
            return [http_client]
    """
