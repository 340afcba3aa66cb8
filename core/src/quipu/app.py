"""``create_app()``: discover plugins, validate them, and assemble one Litestar app.

Granian calls it as a factory in every worker (``quipu.app:create_app``); each call builds
a fresh plugin manager, so nothing is global at import time.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from quipu import __version__
from quipu.cache import Cache
from quipu.cache.responses import ResponseCacheEngine
from quipu.config import Settings, load_settings
from quipu.edge import PlatformLayer
from quipu.errors import StartupError
from quipu.health import DependencyState, HealthMonitor
from quipu.http_errors import EXCEPTION_HANDLERS, document_errors
from quipu.llm import timing
from quipu.llm.gateway import LlmGateway
from quipu.llm.pricing import price_table
from quipu.llm.prompts import short_cache_warnings
from quipu.observability.logs import configure_logging
from quipu.observability.metrics import PLUGINS_LOADED
from quipu.observability.runtime import watch_gc_pauses
from quipu.observability.tracing import configure_tracing
from quipu.plugins import discover, make_plugin_manager
from quipu.redis_client import create_redis
from quipu.registry import Registry, build_registry
from quipu.security import KeyRing
from quipu.security.auth import InternalNetworks, provide_principal
from quipu.security.ratelimit import RateLimiter
from quipu.state import STATE_KEY, PlatformState, platform_state

__all__ = ["build_platform", "create_app"]

log = logging.getLogger("quipu")


def build_platform(
    settings: Settings,
    *,
    plugins: Iterable[tuple[str, object]] = (),
    autoload: bool = True,
) -> Registry:
    """Discover and validate every plugin without building an app (``quipu check``).

    Raises:
        StartupError: every problem found.
    """
    pm = make_plugin_manager()
    discovery = discover(pm, settings, extra=plugins, autoload=autoload)
    return build_registry(pm, discovery, settings)


def prompt_warnings(settings: Settings, registry: Registry) -> list[str]:
    """Start-up warnings about prompts whose cacheable prefix is too short to be cached."""
    return short_cache_warnings(
        registry.prompts, settings.llm.model, price_table(settings.llm.prices)
    )


def create_app(
    settings: Settings | None = None,
    *,
    config_path: str | Path | None = None,
    plugins: Iterable[tuple[str, object]] = (),
    autoload: bool = True,
) -> Litestar:
    """Build the quipu app.

    Args:
        settings: Ready settings; default: read ``platform.toml`` and the environment.
        config_path: The file to read when ``settings`` is not given.
        plugins: Extra ``(name, plugin)`` pairs to register (tests, embedding).
        autoload: Discover installed plugins through the ``quipu`` entry points.

    Raises:
        StartupError: every problem with the plugins or the configuration, listed at once.
    """
    settings = settings or load_settings(config_path)
    if not logging.getLogger().handlers:
        # Granian workers import the factory directly: give them quipu's log format.
        configure_logging(settings.platform.log_format)
    configure_tracing()
    registry = build_platform(settings, plugins=plugins, autoload=autoload)
    for warning in [*registry.warnings, *prompt_warnings(settings, registry)]:
        log.warning("%s", warning)
    keyring = KeyRing.from_settings(settings)
    if not keyring:
        log.warning("no API key configured: set API_KEY; every protected route answers 401")
    state = PlatformState(
        settings=settings,
        registry=registry,
        health=HealthMonitor(interval_s=settings.platform.health_probe_interval_s),
        keyring=keyring,
        version=__version__,
    )
    for info in registry.plugins:
        PLUGINS_LOADED.labels(info.name, info.version or __version__).set(1)

    internal = (
        InternalNetworks(settings.platform.internal_networks, frozenset({"/metrics"}))
        if settings.platform.metrics_access == "internal"
        else None
    )
    app = Litestar(
        route_handlers=list(registry.routers),
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[_platform_lifespan, *registry.lifespans],
        on_startup=[_freeze_startup_heap],
        state=State({STATE_KEY: state}),
        openapi_config=_openapi_config(),
        request_max_body_size=settings.platform.max_body_bytes,
        logging_config=None,
    )
    document_errors(app, lambda plugin, path: _rate_limited(registry, plugin, path))
    # One layer outside Litestar's own exception handling (so 404s and 500s carry the
    # request id and timings too) does context, auth, rate limits, body guard, response
    # cache and metrics: see quipu.edge for why it is not a middleware chain.
    app.asgi_handler = PlatformLayer(
        app.asgi_handler,
        litestar=app,
        keyring=keyring,
        internal=internal,
        limits=registry.rate_limits,
        limiter=lambda: state.services["ratelimit"],
        max_body_bytes=settings.platform.max_body_bytes,
        contexts=registry.contexts,
        services=lambda: (state.services.get("responses"), state.redis),
        platform=state,
    )
    return app


def _rate_limited(registry: Registry, plugin: str | None, path: str) -> bool:
    limits = registry.rate_limits.get(plugin) if plugin else None
    return limits is not None and limits.for_route(path) is not None


_heap_frozen = False


def _freeze_startup_heap() -> None:
    """Once per process, after start-up: keep the collector off start-up objects.

    quipu's imports leave ~200k long-lived objects; without this every full collection
    walks them all (50-100 ms pauses, the p99 of a cached route went 7 ms -> 85 ms).
    The collections that remain are timed (``quipu_gc_pause_seconds``).
    """
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()
    watch_gc_pauses()


@asynccontextmanager
async def _platform_lifespan(app: Litestar) -> AsyncIterator[None]:
    state = platform_state(app)
    state.redis = create_redis(state.settings)
    cache = Cache(
        state.registry.cache_policies,
        redis=state.redis,
        settings=state.settings,
        health=state.health,
    )
    state.services["cache"] = cache
    state.services["ratelimit"] = RateLimiter(state.redis, redis_down=lambda: cache.breaker_open)
    if state.redis is None:
        state.health.report(
            "redis", DependencyState(status="disabled", detail="REDIS_URL unset: in-process only")
        )
    else:
        # The cache's breaker owns Redis's health: its probe PINGs and trips it.
        # /health reads the breaker's state live: it changes the moment the breaker does.
        state.health.register("redis", cache.health_probe, current=cache.redis_state)
        cache.start()
    gateway = LlmGateway(
        state.settings,
        state.registry.prompts,
        redis=state.redis,
        health=state.health,
        redis_down=lambda: cache.breaker_open,
    )
    state.services["llm"] = gateway
    # Answers depend on whether (and which) model reviews: replicas that differ never
    # share stored answers.
    fingerprint = f"llm={gateway.model}" if gateway.available else "llm=off"
    state.services["responses"] = ResponseCacheEngine(cache, fingerprint)
    # What plugins are handed through their PluginContext (quipu.context).
    host = state.registry.host
    host.cache, host.llm, host.redis = cache, gateway, state.redis
    host.bind_llm_clock = timing.bind
    host.started = True
    state.health.report(
        "llm",
        DependencyState(status="up", detail=f"model {gateway.model}")
        if gateway.available
        else DependencyState(
            status="disabled", detail="ANTHROPIC_API_KEY unset: rule-based results only"
        ),
    )
    await state.health.probe_all()
    state.health.start()
    state.ready = True
    try:
        yield
    finally:
        state.ready = False
        host.started = False
        await state.health.stop()
        await cache.close()
        await gateway.aclose()
        if state.redis is not None:
            await state.redis.aclose()


def _openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="quipu",
        version=__version__,
        description=(
            "AI services for Chilean ERP systems: DTE pre-validation, payroll checks, "
            "Previred indicators and an assistant. Send `Authorization: Bearer <API key>`."
        ),
        path="/schema",
        render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin(path="/openapi.json")],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="API key")
            }
        ),
        security=[{"bearer": []}],
    )


def check(settings: Settings) -> StartupError | None:
    """Build everything without serving; the error listing every problem, or None."""
    try:
        create_app(settings)
    except StartupError as exc:
        return exc
    return None
