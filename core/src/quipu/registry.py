"""Call every plugin's hooks once, attribute and validate what they declare.

Each implementation is called on its own so that every record is attributed to the
plugin that returned it; every problem is collected and reported at once in a
:class:`~quipu.errors.StartupError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec
import pluggy
from litestar import Router
from litestar.di import Provide
from litestar.exceptions import ImproperlyConfiguredException
from litestar.routes import HTTPRoute

from quipu.attribution import Claims, Collector
from quipu.config import Settings
from quipu.context import PlatformHost, PluginContext, Service
from quipu.errors import Problem, StartupError
from quipu.lifespans import Lifespan, attributed_lifespans
from quipu.plugins import Discovery, LoadedPlugin
from quipu.records import (
    CachePolicy,
    PluginInfo,
    PromptTemplate,
    placeholders,
)
from quipu.security.auth import provide_plugin_principal
from quipu.security.ratelimit import PluginRateLimits, Rate, parse_rate

__all__ = ["Registry", "build_registry"]

#: Sub-tables of ``[plugins.<name>]`` the platform reads itself.
PLATFORM_SUBSECTIONS = ("cache", "rate_limits")


class Registry(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the plugins declared, validated and namespaced."""

    plugins: tuple[PluginInfo, ...]
    routers: tuple[Router, ...]
    configs: Mapping[str, Any]
    cache_policies: Mapping[str, CachePolicy]
    """By ``<plugin>.<name>``, TTL overrides applied."""
    prompts: Mapping[str, PromptTemplate]
    """By ``<plugin>.<name>@<version>``."""
    contexts: Mapping[str, PluginContext[Any]]
    """Each plugin's context, by name; they share one :class:`PlatformHost`."""
    host: PlatformHost
    lifespans: tuple[Lifespan, ...]
    warnings: tuple[str, ...]
    rate_limits: Mapping[str, PluginRateLimits] = msgspec.field(default_factory=dict)
    """``[plugins.<name>.rate_limits]``, parsed and checked against the plugin's routes."""

    def plugin(self, name: str) -> PluginInfo | None:
        """The loaded plugin called ``name``, if any."""
        return next((p for p in self.plugins if p.name == name), None)


def build_registry(pm: pluggy.PluginManager, discovery: Discovery, settings: Settings) -> Registry:
    """Call every hook of every plugin in ``discovery`` and validate the results.

    Raises:
        StartupError: every problem found, discovery's included.
    """
    problems = [*settings.problems, *discovery.problems]
    collect = Collector(pm, problems)
    plugins = sorted(discovery.plugins, key=lambda p: (not p.builtin, p.name))
    by_name = {p.name: p for p in plugins}
    loaded_names = set(by_name)
    claims = Claims(discovery.plugins, problems)
    configs = _decode_configs(collect, plugins, settings, problems)
    host = PlatformHost(settings=settings)
    for plugin in plugins:
        host.contexts[plugin.name] = PluginContext(plugin.name, configs.get(plugin.name), host)
    contributed: dict[str, dict[str, tuple[str, ...]]] = {}

    def collect_for(
        hook: str,
        kind: type[Any],
        name_of: Callable[[Any], str],
        claimed: Callable[[Any], Iterable[str]] | None,
        what: str,
    ) -> dict[str, list[Any]]:
        collect.kinds = tuple(dict.fromkeys((*collect.kinds, kind)))
        found: dict[str, list[Any]] = {}
        for plugin in plugins:
            own = collect.records(hook, plugin, kind, name_of, platform=host.contexts[plugin.name])
            if not own:
                continue
            found[plugin.name] = own
            contributed.setdefault(plugin.name, {})[hook] = tuple(name_of(r) for r in own)
            for record in own:
                for claim in claimed(record) if claimed is not None else ():
                    claims.claim((hook, claim), plugin, f"{what} {claim!r}", "claimed", "rename it")
        return found

    provided = _services(collect, plugins, host, claims, problems)
    host.collect = collect_for

    policies: dict[str, CachePolicy] = {}
    prompts: dict[str, PromptTemplate] = {}
    routers: list[Router] = []
    lifespans: list[Lifespan] = []
    partial: list[tuple[LoadedPlugin, tuple[str, ...], list[CachePolicy], list[PromptTemplate]]]
    partial = []
    rate_limits: dict[str, PluginRateLimits] = {}

    try:
        for plugin in plugins:
            ctx = host.contexts[plugin.name]
            own_policies = collect.records(
                "register_cache_policies", plugin, CachePolicy, lambda r: r.name, platform=ctx
            )
            for policy in own_policies:
                if not policy.ttl_s > 0:
                    problems.append(
                        Problem(
                            plugin.origin,
                            f"cache policy {policy.name!r} has ttl_s <= 0",
                            "use a positive number of seconds",
                        )
                    )
                    continue
                policies[f"{plugin.name}.{policy.name}"] = policy
            _apply_ttl_overrides(plugin, own_policies, policies, settings, problems)

            own_prompts = collect.records(
                "register_prompts", plugin, PromptTemplate, lambda r: r.name, platform=ctx
            )
            for prompt in own_prompts:
                try:
                    placeholders(prompt.user_template)
                except ValueError as exc:
                    problems.append(
                        Problem(
                            plugin.origin,
                            f"prompt {prompt.name!r}: user_template: {exc}",
                            "use {name} placeholders and double {{ }} for literal braces",
                        )
                    )
                    continue
                prompts[f"{plugin.name}.{prompt.name}@{prompt.version}"] = prompt

            own_lifespans = collect.call("register_lifespans", plugin, platform=ctx)
            lifespans.extend(attributed_lifespans(plugin.origin, own_lifespans, problems))

            routes = _plugin_router(collect, plugin, ctx, claims, problems, routers)
            limits = _rate_limits(plugin, routes, settings, problems)
            if limits is not None:
                rate_limits[plugin.name] = limits
            partial.append((plugin, routes, own_policies, own_prompts))
    finally:
        host.collect = None

    infos = [
        PluginInfo(
            name=plugin.name,
            distribution=plugin.distribution,
            version=plugin.version,
            builtin=plugin.builtin,
            hooks=tuple(sorted(collect.hooks.get(plugin.name, ()))),
            routes=routes,
            cache_policies=tuple(p.name for p in own_policies),
            prompts=tuple(f"{p.name}@{p.version}" for p in own_prompts),
            services=tuple(sorted(provided.get(plugin.name, ()))),
            contributions=contributed.get(plugin.name, {}),
        )
        for plugin, routes, own_policies, own_prompts in partial
    ]

    # Sections of installed plugins left out by the allow-list or disabled are kept: one
    # platform.toml serves deployments that load different plugins.
    known = loaded_names | set(settings.platform.disabled) | discovery.installed
    for section in sorted(set(settings.plugins) - known):
        problems.append(
            Problem(
                f"{settings.source or 'platform.toml'} [plugins.{section}]",
                f"no loaded plugin is called {section!r}",
                "sections are keyed by entry-point name; loaded: "
                + ", ".join(sorted(loaded_names)),
            )
        )
    if problems:
        raise StartupError(problems)
    return Registry(
        plugins=tuple(infos),
        routers=tuple(routers),
        configs=configs,
        cache_policies=policies,
        prompts=prompts,
        contexts=dict(host.contexts),
        host=host,
        lifespans=tuple(lifespans),
        warnings=discovery.warnings,
        rate_limits=rate_limits,
    )


def _services(
    collect: Collector,
    plugins: list[LoadedPlugin],
    host: PlatformHost,
    claims: Claims,
    problems: list[Problem],
) -> dict[str, list[str]]:
    """Call ``register_services`` of every plugin first: later hooks may look them up."""
    provided: dict[str, list[str]] = {}
    for plugin in plugins:
        own = collect.records(
            "register_services",
            plugin,
            Service,
            lambda s: s.key.name.replace(".", "_"),
            platform=host.contexts[plugin.name],
        )
        for service in own:
            key = service.key
            if not isinstance(service.value, key.type):
                problems.append(
                    Problem(
                        plugin.origin,
                        f"service {key.name!r} is a {type(service.value).__name__}, "
                        f"its key says {key.type.__qualname__}",
                        "provide an instance of the key's type",
                    )
                )
                continue
            claims.claim(
                ("service", key.name), plugin, f"service {key.name!r}", "provided", "rename it"
            )
            if key.name not in host.services:
                host.services[key.name] = (service.value, plugin.name)
                provided.setdefault(plugin.name, []).append(key.name)
    return provided


def _decode_configs(
    collect: Collector, plugins: list[LoadedPlugin], settings: Settings, problems: list[Problem]
) -> dict[str, Any]:
    configs: dict[str, Any] = {}
    for plugin in plugins:
        schema = collect.call("register_config_schema", plugin)
        raw = {
            k: v
            for k, v in settings.plugins.get(plugin.name, {}).items()
            if k not in PLATFORM_SUBSECTIONS
        }
        where = f"{settings.source or 'platform.toml'} [plugins.{plugin.name}]"
        if schema is None:
            if raw:
                problems.append(
                    Problem(
                        where,
                        f"{plugin.origin} takes no settings, got: " + ", ".join(sorted(raw)),
                        "remove the keys",
                    )
                )
            configs[plugin.name] = None
            continue
        if not (isinstance(schema, type) and issubclass(schema, msgspec.Struct)):
            problems.append(
                Problem(plugin.origin, "register_config_schema must return a msgspec.Struct class")
            )
            continue
        try:
            configs[plugin.name] = msgspec.convert(raw, type=schema, strict=False)
        except msgspec.ValidationError as exc:
            known = ", ".join(schema.__struct_fields__) or "(none)"
            problems.append(Problem(where, str(exc), f"known keys: {known}"))
    return configs


def _apply_ttl_overrides(
    plugin: LoadedPlugin,
    own: list[CachePolicy],
    policies: dict[str, CachePolicy],
    settings: Settings,
    problems: list[Problem],
) -> None:
    overrides = settings.plugins.get(plugin.name, {}).get("cache", {})
    where = f"{settings.source or 'platform.toml'} [plugins.{plugin.name}.cache]"
    if not isinstance(overrides, Mapping):
        problems.append(Problem(where, "must be a table of policy = ttl_seconds"))
        return
    known = {p.name for p in own}
    for name, ttl in overrides.items():
        if name not in known:
            problems.append(
                Problem(
                    where,
                    f"unknown cache policy {name!r}",
                    "known policies: " + (", ".join(sorted(known)) or "(none)"),
                )
            )
        elif isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
            problems.append(Problem(where, f"{name} = {ttl!r}: TTL must be a positive number"))
        else:
            key = f"{plugin.name}.{name}"
            policies[key] = msgspec.structs.replace(policies[key], ttl_s=float(ttl))


def _rate_limits(
    plugin: LoadedPlugin, routes: tuple[str, ...], settings: Settings, problems: list[Problem]
) -> PluginRateLimits | None:
    raw = settings.plugins.get(plugin.name, {}).get("rate_limits")
    if raw is None:
        return None
    where = f"{settings.source or 'platform.toml'} [plugins.{plugin.name}.rate_limits]"
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, 'must be a table like default = "600/minute"'))
        return None
    paths = sorted({route.partition(" ")[2] for route in routes})
    default: Rate | None = None
    per_route: dict[str, Rate] = {}
    for name, text in raw.items():
        try:
            rate = parse_rate(text)
        except ValueError as exc:
            problems.append(Problem(where, f"{name} = {text!r}: {exc}"))
            continue
        if name == "default":
            default = rate
        elif name in paths:
            per_route[name] = rate
        else:
            problems.append(
                Problem(
                    where,
                    f"{name!r} is not a route of {plugin.origin}",
                    "use 'default' or one of: " + (", ".join(paths) or "(no routes)"),
                )
            )
    return PluginRateLimits(default=default, routes=per_route)


#: The handler parameter that receives the plugin's :class:`PluginContext`.
PLUGIN_DEPENDENCY = "plugin"


def _constant(ctx: PluginContext[Any]) -> Callable[[], PluginContext[Any]]:
    def plugin_context() -> PluginContext[Any]:
        return ctx

    return plugin_context


_AUTO_OPTIONS = "HTTPRoute.create_options_handler.<locals>.options_handler"


def _remake_options(router: Router) -> None:
    """Give every path of ``router`` an ``OPTIONS`` answer whose ``Allow`` lists all methods.

    Litestar makes a path's automatic ``OPTIONS`` handler when the path's first handler is
    registered and keeps it when more are (``GET`` then ``DELETE`` of one path answered
    ``Allow: GET, OPTIONS``). Rebuilding each route from all its handlers at once, without
    that handler, makes a fresh one that sees them all.
    """
    for index, route in enumerate(router.routes):
        if not isinstance(route, HTTPRoute):
            continue
        handlers = [
            handler
            for handler in route.route_handlers
            if getattr(handler.fn, "__qualname__", "") != _AUTO_OPTIONS
        ]
        if len(handlers) < len(route.route_handlers):
            router.routes[index] = HTTPRoute(path=route.path, route_handlers=handlers)


def _plugin_router(
    collect: Collector,
    plugin: LoadedPlugin,
    ctx: PluginContext,
    claims: Claims,
    problems: list[Problem],
    routers: list[Router],
) -> tuple[str, ...]:
    handlers = collect.call("register_routes", plugin, platform=ctx)
    if not handlers:
        return ()
    try:
        router = Router(
            path="/",
            route_handlers=list(handlers),
            tags=[plugin.name],
            opt={"plugin": plugin.name},
            # A handler declaring ``plugin: Plugin[...]`` gets this plugin's context (resolved
            # once and cached: it never changes). ``principal`` is provided after it, never
            # concurrently with it (see provide_plugin_principal).
            dependencies={}
            if plugin.builtin  # the core's own routes take no context (and a ?plugin= query)
            else {
                PLUGIN_DEPENDENCY: Provide(_constant(ctx), use_cache=True, sync_to_thread=False),
                "principal": Provide(provide_plugin_principal, sync_to_thread=False),
            },
        )
    except (ImproperlyConfiguredException, TypeError, ValueError) as exc:
        problems.append(Problem(plugin.origin, f"register_routes: {exc}"))
        return ()
    _remake_options(router)
    claimed: list[str] = []
    for route in router.routes:
        for method in sorted(set(getattr(route, "methods", ())) - {"OPTIONS", "HEAD"}):
            claims.claim(("route", method, route.path), plugin, f"route {method} {route.path}")
            claimed.append(f"{method} {route.path}")
    routers.append(router)
    return tuple(sorted(claimed))
