"""The per-plugin view of the platform: what a plugin is handed, and nothing else.

Each loaded plugin gets one :class:`PluginContext` per app. Its hooks receive it as
``platform``; its route handlers receive it through Litestar dependency injection as a
parameter called ``plugin`` (the platform mounts each plugin's routes on a Router that
provides it); its lifespans close over it. Everything else of the platform (``app.state``,
the registry, other plugins' configs) is the core's private business.

Cross-plugin services are typed: a plugin publishes a :class:`ServiceKey` and provides a
value for it from ``register_services``; another looks it up with
:meth:`PluginContext.service`. A lookup made in a hook makes a missing provider a start-up
error that names the plugin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from litestar.di import NamedDependency
from typing_extensions import TypeVar as DefaultTypeVar

from quipu.config import Settings
from quipu.plugin_redis import PluginRedis

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

    from quipu.cache import Cache, PluginCache
    from quipu.llm import LlmGateway

__all__ = [
    "MissingService",
    "Plugin",
    "PluginContext",
    "PluginMetrics",
    "Service",
    "ServiceKey",
]

C = DefaultTypeVar("C", default=Any)
T = TypeVar("T")
R = TypeVar("R")


class ServiceKey(Generic[T]):
    """The typed name of a service one plugin provides and others use.

    The providing plugin publishes the key (a module-level constant of its public API)::

        INDICATORS = ServiceKey("previred.indicators", IndicatorsLookup)

    and returns ``Service(INDICATORS, lookup)`` from ``register_services``; a user calls
    ``platform.service(INDICATORS)`` and gets an ``IndicatorsLookup`` back, typed.
    """

    __slots__ = ("name", "type")

    def __init__(self, name: str, type: type[T]) -> None:
        self.name = name
        self.type = type

    def __repr__(self) -> str:
        return f"ServiceKey({self.name!r}, {self.type.__qualname__})"


@dataclass(frozen=True)
class Service(Generic[T]):
    """A value a plugin provides under ``key`` (returned from ``register_services``)."""

    key: ServiceKey[T]
    value: T


class MissingService(LookupError):
    """A plugin asked for a service that no loaded plugin provides.

    Attributes:
        fix: What to do about it, for the start-up message.
    """

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class NotStarted(RuntimeError):
    """A runtime service (cache, LLM, Redis) was asked for before the app started."""


@dataclass
class PlatformHost:
    """What every context of one app shares; the platform fills it (core-private)."""

    settings: Settings
    services: dict[str, tuple[Any, str]] = field(default_factory=dict)
    """``key name -> (value, providing plugin)``."""
    contexts: dict[str, PluginContext[Any]] = field(default_factory=dict)
    cache: Cache | None = None
    llm: LlmGateway | None = None
    redis: Any = None
    bind_llm_clock: Callable[[Any], object] | None = None
    """Times a request's model calls for its ``Server-Timing`` (``quipu.llm.timing.bind``)."""
    started: bool = False
    collect: Callable[..., dict[str, list[Any]]] | None = None
    """While hooks run at start-up: the registry's collector (see ``PluginContext.collect``)."""


class PluginMetrics:
    """Prometheus metrics of one plugin, named ``quipu_<plugin>_<name>``.

    Metrics live in the process registry that ``/metrics`` publishes; asking twice for a
    name returns the same metric (apps are built many times in one test process).
    """

    _made: dict[str, Any] = {}  # noqa: RUF012 - one prometheus registry per process

    __slots__ = ("prefix",)

    def __init__(self, plugin: str) -> None:
        self.prefix = f"quipu_{plugin}_"

    def _metric(self, kind: str, name: str, documentation: str, labels: Iterable[str]) -> Any:
        import prometheus_client

        full = self.prefix + name
        found = self._made.get(full)
        if found is None:
            found = getattr(prometheus_client, kind)(full, documentation, tuple(labels))
            self._made[full] = found
        return found

    def counter(self, name: str, documentation: str, labels: Iterable[str] = ()) -> Any:
        """A ``prometheus_client.Counter`` (``name`` without the ``_total`` suffix)."""
        return self._metric("Counter", name, documentation, labels)

    def histogram(self, name: str, documentation: str, labels: Iterable[str] = ()) -> Any:
        """A ``prometheus_client.Histogram`` with the default buckets."""
        return self._metric("Histogram", name, documentation, labels)

    def gauge(self, name: str, documentation: str, labels: Iterable[str] = ()) -> Any:
        """A ``prometheus_client.Gauge``."""
        return self._metric("Gauge", name, documentation, labels)


class PluginContext(Generic[C]):
    """What one plugin may use of the platform, typed by its config Struct.

    Attributes:
        name: The plugin's entry-point name: its config section, cache and Redis
            namespace, and OpenAPI tag.
        config: The decoded ``[plugins.<name>]`` section (an instance of the Struct from
            ``register_config_schema``), or None when the plugin declares no schema.
        settings: The platform settings (secrets included: do not log them).
        log: The plugin's logger, ``quipu.<name>``.
        metrics: The plugin's Prometheus metrics (:class:`PluginMetrics`).

    Runtime services (:attr:`cache`, :attr:`llm`, :attr:`redis`) exist once the app has
    started: use them in route handlers, lifespans and tool handlers, not in hooks.
    """

    __slots__ = ("_host", "_redis", "config", "log", "metrics", "name", "settings")

    def __init__(self, name: str, config: C, host: PlatformHost) -> None:
        self.name = name
        self.config = config
        self.settings = host.settings
        self.log = logging.getLogger(f"quipu.{name}")
        self.metrics = PluginMetrics(name)
        self._host = host
        self._redis: PluginRedis | None = None

    def __repr__(self) -> str:
        return f"PluginContext({self.name!r})"

    # -- runtime services ----------------------------------------------------------------

    def _started(self, what: str) -> PlatformHost:
        host = self._host
        if not host.started:
            raise NotStarted(
                f"plugin {self.name!r} asked for {what} before the app started: use it in "
                "a route handler, a lifespan or a tool, not in a hook"
            )
        return host

    @property
    def cache(self) -> PluginCache:
        """The platform cache as this plugin sees it (its policies, its namespace)."""
        cache = self._started("the cache").cache
        if cache is None:
            raise NotStarted("the cache is not set up: the platform lifespan has not run")
        return cache.for_plugin(self.name)

    def cache_for(self, request: ASGIConnection[Any, Any, Any, Any]) -> PluginCache:
        """:attr:`cache` honouring the request's ``Cache-Control`` and adding its
        ``Cache-Status``/``Server-Timing`` to the request's response."""
        cache = self._started("the cache").cache
        if cache is None:
            raise NotStarted("the cache is not set up: the platform lifespan has not run")
        scope = request.scope
        control = None
        for name, value in scope["headers"]:
            if name == b"cache-control":
                control = value.decode("latin-1")
                break
        return cache.for_plugin(self.name, cache_control=control, scope=scope)

    @property
    def llm(self) -> LlmGateway | None:
        """The LLM gateway (``.available`` is False without ``ANTHROPIC_API_KEY``), or None
        when the platform set none up (an app built without its lifespan)."""
        return self._started("the LLM gateway").llm

    def llm_for(self, request: ASGIConnection[Any, Any, Any, Any]) -> LlmGateway | None:
        """:attr:`llm`, timing this request's model calls for its ``Server-Timing``."""
        host = self._started("the LLM gateway")
        gateway = host.llm
        scope: Any = request.scope
        if gateway is not None and host.bind_llm_clock is not None and scope["type"] == "http":
            host.bind_llm_clock(scope)
        return gateway

    @property
    def redis(self) -> PluginRedis | None:
        """Redis restricted to keys starting ``<name>:``, or None without ``REDIS_URL``."""
        host = self._started("Redis")
        if host.redis is None:
            return None
        view = self._redis
        if view is None or not view.wraps(host.redis):  # one per client (per lifespan)
            cache = host.cache
            view = self._redis = PluginRedis(
                host.redis, self.name, down=(lambda: cache.breaker_open) if cache else None
            )
        return view

    # -- services --------------------------------------------------------------------------

    def service(self, key: ServiceKey[T]) -> T:
        """The value another plugin provides under ``key``.

        Raises:
            MissingService: no loaded plugin provides it (in a hook: a start-up error
                naming this plugin).
        """
        found = self._host.services.get(key.name)
        if found is None:
            provider = key.name.partition(".")[0]
            raise MissingService(
                f"needs the service {key.name!r} ({key.type.__qualname__}), which no loaded "
                "plugin provides",
                f"install and enable the plugin that provides it (probably {provider!r}), or "
                f'add "{self.name}" to [platform].disabled',
            )
        value: T = found[0]
        return value

    def provider(self, key: ServiceKey[Any]) -> str | None:
        """The name of the plugin providing ``key``, if any."""
        found = self._host.services.get(key.name)
        return found[1] if found is not None else None

    # -- start-up: other plugins' contributions to this plugin's own hooks ------------------

    def collect(
        self,
        hook: str,
        kind: type[R],
        *,
        name: Callable[[R], str],
        claims: Callable[[R], Iterable[str]] | None = None,
        claim_what: str = "name",
    ) -> Mapping[str, list[R]]:
        """Call ``hook`` (a hookspec this plugin added) on every plugin, each with its own
        context, and return the validated records by plugin name.

        Only during start-up (from one of this plugin's hooks). Problems (wrong record
        type, bad or duplicate names, a claim already made by another plugin) are start-up
        errors attributed to the plugin that returned the record.

        Args:
            hook: The hook's name, e.g. ``register_widgets``.
            kind: The record type every item must be.
            name: The record's local name (validated like every record name).
            claims: Names a record claims platform-wide (e.g. its parts'); a second
                plugin claiming one is reported, blaming the newcomer.
            claim_what: What a claimed name is, for the message (``widget part``).
        """
        collect = self._host.collect
        if collect is None:
            raise NotStarted(f"plugin {self.name!r}: collect() runs only inside a hook")
        return collect(hook, kind, name, claims, claim_what)


if TYPE_CHECKING:
    #: A route handler parameter that receives its plugin's context:
    #: ``plugin: Plugin[MyConfig]`` (a :class:`PluginContext` marked for Litestar's
    #: name-based dependency injection; the parameter must be called ``plugin``).
    Plugin: TypeAlias = NamedDependency[PluginContext[C]]
else:

    class Plugin:
        """``Plugin[MyConfig]``: for mypy a ``PluginContext[MyConfig]``; for Litestar an
        injected value it does not validate. The platform made the context itself, and
        validating it (msgspec's custom-type hook, for every request) cost ~3 µs."""

        def __class_getitem__(cls, config: Any) -> Any:
            return NamedDependency[Any]
