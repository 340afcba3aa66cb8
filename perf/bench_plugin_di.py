"""What handing a plugin its PluginContext costs per request (Litestar dependency injection).

Routes of one plugin, in one quipu app, called as ASGI apps in this process (no sockets,
as ``bench_layers.py``); each answers its plugin's config value, obtained

- ``/bench/none``: not at all (a constant: the floor of a handler without parameters);
- ``/bench/state``: the old way, from the platform state (``request`` → ``app.state`` →
  registry → ``configs[name]``, what plugins did before ``quipu.api``);
- ``/bench/injected``: from ``plugin: Plugin[Config]``, the injected context;
- ``/bench/caller`` and ``/bench/caller_state`` / ``/bench/caller_injected``: the same with
  ``principal: Caller``, which every plugin route already declares (Litestar then builds
  and validates the handler's arguments anyway, so the context is one more of them).

``caller_injected - caller`` is what the injection adds to a real plugin route::

    .venv/bin/python perf/bench_plugin_di.py [--requests 20000] [--phases]

``--phases`` also times Litestar's two steps that injection touches (resolving the
dependencies, validating the handler's arguments) on their own, per route: shorter spans,
so a busy machine disturbs them less than whole requests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, get

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_layers import _caller  # noqa: E402
from harness import API_KEY  # noqa: E402
from quipu.api import Caller, Plugin, hookimpl  # noqa: E402


class Config(msgspec.Struct, frozen=True):
    answer: str = "ok"


@get("/bench/none")
async def none() -> dict[str, str]:
    return {"answer": "ok"}


@get("/bench/state")
async def state(request: Request[Any, Any, Any]) -> dict[str, str]:
    config = request.app.state["quipu"].registry.configs[request.route_handler.opt["plugin"]]
    return {"answer": config.answer}


@get("/bench/injected")
async def injected(plugin: Plugin[Config]) -> dict[str, str]:
    return {"answer": plugin.config.answer}


@get("/bench/caller")
async def caller(principal: Caller) -> dict[str, str]:
    return {"answer": "ok"}


@get("/bench/caller_state")
async def caller_state(request: Request[Any, Any, Any], principal: Caller) -> dict[str, str]:
    config = request.app.state["quipu"].registry.configs[request.route_handler.opt["plugin"]]
    return {"answer": config.answer}


@get("/bench/caller_injected")
async def caller_injected(principal: Caller, plugin: Plugin[Config]) -> dict[str, str]:
    return {"answer": plugin.config.answer}


ROUTES = ("none", "state", "injected", "caller", "caller_state", "caller_injected")


class Bench:
    @hookimpl
    def register_config_schema(self) -> type[Config]:
        return Config

    @hookimpl
    def register_routes(self) -> list[Any]:
        return [none, state, injected, caller, caller_state, caller_injected]


PHASES: dict[tuple[str, str], list[float]] = {}


def _time_phases() -> None:
    """Wrap Litestar's dependency resolution and argument validation with timers."""
    from litestar._kwargs.kwargs_model import KwargsModel
    from litestar._signature.model import SignatureModel

    resolve = KwargsModel.resolve_dependencies
    parse = SignatureModel.parse_values_from_connection_kwargs.__func__  # type: ignore[attr-defined]

    async def timed_resolve(self: Any, connection: Any, kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await resolve(self, connection, kwargs)
        finally:
            key = (connection.route_handler.handler_name, "resolve dependencies")
            PHASES.setdefault(key, []).append(time.perf_counter() - started)

    def timed_parse(cls: Any, connection: Any, kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return parse(cls, connection=connection, kwargs=kwargs)
        finally:
            if cls is connection.route_handler.signature_model:  # the handler's, not a provider's
                key = (connection.route_handler.handler_name, "validate arguments")
                PHASES.setdefault(key, []).append(time.perf_counter() - started)

    KwargsModel.resolve_dependencies = timed_resolve  # type: ignore[method-assign]
    SignatureModel.parse_values_from_connection_kwargs = classmethod(timed_parse)  # type: ignore[method-assign, assignment]


async def main(n: int, phases: bool) -> None:
    from quipu.app import create_app
    from quipu.config import load_settings

    settings = load_settings(HERE / "platform.toml", env={"API_KEY": API_KEY})
    app = create_app(settings, plugins=[("bench", Bench())], autoload=False)
    auth = [(b"authorization", f"Bearer {API_KEY}".encode())]
    if phases:
        _time_phases()
    async with app.lifespan():
        calls = {p: _caller(app, "GET", f"/bench/{p}", b"", auth) for p in ROUTES}
        for call in calls.values():  # warm up
            for _ in range(500):
                assert (await call())[0] == 200
        rounds: dict[str, list[float]] = {p: [] for p in calls}
        per = max(1, n // 30)
        for _ in range(30):  # interleaved rounds: drift on a shared machine hits all alike
            for name, call in calls.items():
                started = time.perf_counter()
                for _ in range(per):
                    await call()
                rounds[name].append((time.perf_counter() - started) / per * 1e6)
    # Each round's difference to its baseline measured in the same round (paired), median.
    for name, values in rounds.items():
        base = "caller" if name.startswith("caller") else "none"
        extra = statistics.median(v - b for v, b in zip(values, rounds[base], strict=True))
        print(
            f"{name:>16}: {statistics.median(values):7.2f} µs/request"
            f"  ({extra:+.2f} µs over {base}, paired median of {len(values)} rounds)"
        )
    for (handler, phase), spans in sorted(PHASES.items()):
        name = handler.rsplit(".", 1)[-1]
        print(f"{name:>16}: {phase:<22} {statistics.median(spans) * 1e6:6.2f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--phases", action="store_true", help="time DI's own steps too")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.phases))
