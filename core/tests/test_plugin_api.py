"""The plugin API (quipu.api): the context handed to hooks and handlers, typed services,
plugin-defined hooks, and Redis restricted to the plugin's namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from litestar import get
from quipu.api import (
    ForeignKey,
    MissingService,
    NotStarted,
    Plugin,
    PluginContext,
    Service,
    ServiceKey,
    hookimpl,
    hookspec,
)
from quipu.app import build_platform
from quipu.config import load_settings
from quipu.errors import StartupError


class GreeterConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    greeting: str = "hola"


class Clock:
    """A service one plugin provides to another."""

    def now(self) -> str:
        return "2026-12-03"


CLOCK = ServiceKey("timekeeper.clock", Clock)


class Timekeeper:
    @hookimpl
    def register_services(self, platform: PluginContext[Any]) -> Iterable[Service[Any]]:
        return [Service(CLOCK, Clock())]


@get("/greeter/hello")
async def hello(plugin: Plugin[GreeterConfig]) -> dict[str, Any]:
    redis = plugin.redis
    stored = None
    if redis is not None:
        await redis.set(redis.key("last"), "hello")
        stored = (await redis.get(redis.key("last"))).decode()
    return {
        "plugin": plugin.name,
        "greeting": plugin.config.greeting,
        "today": plugin.service(CLOCK).now(),
        "llm": plugin.llm is not None,
        "redis_key": redis.key("last") if redis is not None else None,
        "stored": stored,
    }


class Greeter:
    """Needs the clock: looking it up in a hook makes its absence a start-up error."""

    def __init__(self) -> None:
        self.seen: list[PluginContext[Any]] = []

    @hookimpl
    def register_config_schema(self) -> type[GreeterConfig]:
        return GreeterConfig

    @hookimpl
    def register_routes(self, platform: PluginContext[GreeterConfig]) -> list[Any]:
        platform.service(CLOCK)
        self.seen.append(platform)
        return [hello]

    @hookimpl
    def register_lifespans(self, platform: PluginContext[GreeterConfig]) -> list[Any]:
        @asynccontextmanager
        async def started(app: Any) -> AsyncIterator[None]:
            assert platform.cache is not None  # runtime services exist from here on
            yield

        return [started]


def build(tmp_path: Path, toml: str = "", **plugins: object) -> Any:
    cfg = tmp_path / "platform.toml"
    cfg.write_text(toml)
    return build_platform(load_settings(cfg, env={}), plugins=plugins.items(), autoload=False)


def test_a_missing_service_stops_start_up_naming_the_plugin(tmp_path: Path) -> None:
    with pytest.raises(StartupError) as err:
        build(tmp_path, greeter=Greeter())
    message = str(err.value)
    assert (
        "plugin 'greeter': register_routes: needs the service 'timekeeper.clock' (Clock), "
        "which no loaded plugin provides" in message
    )
    assert (
        "fix: install and enable the plugin that provides it (probably 'timekeeper'), "
        'or add "greeter" to [platform].disabled' in message
    )


def test_a_service_is_typed_and_attributed(tmp_path: Path) -> None:
    greeter = Greeter()
    registry = build(tmp_path, timekeeper=Timekeeper(), greeter=greeter)
    (ctx,) = greeter.seen
    assert isinstance(ctx.service(CLOCK), Clock)
    assert ctx.provider(CLOCK) == "timekeeper"
    assert registry.plugin("timekeeper").services == ("timekeeper.clock",)
    with pytest.raises(NotStarted, match="not in a hook"):
        _ = ctx.cache
    with pytest.raises(MissingService):
        ctx.service(ServiceKey("nobody.nothing", Clock))


def test_a_service_provided_twice_or_of_the_wrong_type_is_reported(tmp_path: Path) -> None:
    wrong = SimpleNamespace(
        register_services=hookimpl(lambda: [Service(CLOCK, "not a clock")])  # type: ignore[arg-type]
    )

    class Copy(Timekeeper):
        pass

    with pytest.raises(StartupError) as err:
        build(tmp_path, timekeeper=Timekeeper(), wrong=wrong, zcopy=Copy())
    message = str(err.value)
    assert "service 'timekeeper.clock' is a str, its key says Clock" in message
    assert "plugin 'zcopy': service 'timekeeper.clock' is already provided by plugin" in message


async def test_handlers_get_the_context_by_injection(
    make_quipu_app: Any, quipu_client: Any
) -> None:
    app = make_quipu_app(
        [("timekeeper", Timekeeper()), ("greeter", Greeter())],
        config="[plugins.greeter]\ngreeting = 'buenas'\n",
    )
    async with quipu_client(app) as client:
        answer = (await client.get("/greeter/hello")).json()
    assert answer["plugin"] == "greeter"
    assert answer["greeting"] == "buenas"
    assert answer["today"] == "2026-12-03"
    assert answer["llm"] is True
    assert answer["redis_key"] == "greeter:last"
    assert answer["stored"] == "hello"


class Contributions:
    """Hooks a plugin defines for other plugins (like chat's skills)."""

    @hookspec
    def register_widgets(self, platform: PluginContext[Any]) -> Iterable[Widget]:  # type: ignore[empty-body]
        """Widgets for the board."""


class Widget(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    parts: tuple[str, ...] = ()


class Board:
    def __init__(self) -> None:
        self.collected: dict[str, list[Widget]] = {}

    @hookimpl
    def register_hookspecs(self) -> list[object]:
        return [Contributions]

    @hookimpl
    def register_lifespans(self, platform: PluginContext[Any]) -> list[Any]:
        self.collected = dict(
            platform.collect(
                "register_widgets",
                Widget,
                name=lambda w: w.name,
                claims=lambda w: w.parts,
                claim_what="widget part",
            )
        )
        return []


class Maker:
    def __init__(self, *widgets: Widget) -> None:
        self.widgets = widgets
        self.platforms: list[str] = []

    @hookimpl(optionalhook=True)
    def register_widgets(self, platform: PluginContext[Any]) -> list[Widget]:
        self.platforms.append(platform.name)
        return list(self.widgets)


def test_a_plugin_collects_what_others_return_from_its_hooks(tmp_path: Path) -> None:
    board, maker = Board(), Maker(Widget(name="knob", parts=("k1",)))
    registry = build(tmp_path, board=board, maker=maker)
    assert board.collected == {"maker": [Widget(name="knob", parts=("k1",))]}
    assert maker.platforms == ["maker"]  # called with its own context
    assert registry.plugin("maker").contributions == {"register_widgets": ("knob",)}


def test_an_optional_hook_without_its_definer_is_fine(tmp_path: Path) -> None:
    maker = Maker(Widget(name="knob"))
    build(tmp_path, maker=maker)
    assert maker.platforms == []


def test_collected_records_are_validated_and_claims_blame_the_newcomer(tmp_path: Path) -> None:
    first = Maker(Widget(name="knob", parts=("shared",)))
    second = Maker(Widget(name="Bad Name"), Widget(name="dial", parts=("shared",)))
    with pytest.raises(StartupError) as err:
        build(tmp_path, board=Board(), amaker=first, zmaker=second)
    message = str(err.value)
    assert "Widget name 'Bad Name' is not valid" in message
    assert "plugin 'zmaker': widget part 'shared' is already claimed by plugin 'amaker'" in message


def test_collect_outside_start_up_is_refused(tmp_path: Path) -> None:
    greeter = Greeter()
    build(tmp_path, timekeeper=Timekeeper(), greeter=greeter)
    with pytest.raises(NotStarted, match="only inside a hook"):
        greeter.seen[0].collect("register_widgets", Widget, name=lambda w: w.name)


async def test_redis_is_restricted_to_the_plugin_namespace(redis_url: str) -> None:
    from quipu.plugin_redis import PluginRedis
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        mine = PluginRedis(client, "greeter")
        await mine.set(mine.key("a"), "1")
        assert await mine.incr(mine.key("n")) == 1
        async with mine.pipeline() as pipe:
            pipe.get(mine.key("a"))
            pipe.get(mine.key("n"))
            assert await pipe.execute() == [b"1", b"1"]
        script = mine.register_script("return redis.call('GET', KEYS[1])")
        assert await script(keys=[mine.key("a")]) == b"1"
        for attempt in (
            lambda: mine.get("other:a"),
            lambda: mine.delete(mine.key("a"), "greeterx:a"),
            lambda: script(keys=["other:a"]),
        ):
            with pytest.raises(ForeignKey, match="starting 'greeter:'"):
                await attempt()
        with pytest.raises(ForeignKey):
            mine.pipeline().get("previred:version:2026-01")
        assert await mine.delete(mine.key("a"), mine.key("n")) == 2
    finally:
        await client.aclose()


def test_plugin_metrics_are_namespaced_and_made_once() -> None:
    from prometheus_client import REGISTRY, generate_latest
    from quipu.context import PluginMetrics

    metrics = PluginMetrics("greeter")
    hits = metrics.counter("hellos", "Greetings said", ("language",))
    assert metrics.counter("hellos", "Greetings said", ("language",)) is hits
    before = REGISTRY.get_sample_value("quipu_greeter_hellos_total", {"language": "es"}) or 0
    hits.labels("es").inc()
    assert REGISTRY.get_sample_value("quipu_greeter_hellos_total", {"language": "es"}) == (
        before + 1
    )
    assert b"quipu_greeter_hellos_total" in generate_latest()
