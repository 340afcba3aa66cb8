"""Plugin lifespans, checked: a wrong one names its plugin at ``quipu check``, not at serve.

``register_lifespans`` returns callables taking the app and returning an async context
manager. Mistakes that can be seen without calling anything (an ``async def`` or a generator
without ``@asynccontextmanager``, a context manager instead of the function) are start-up
problems; what a callable returns is checked by ``quipu check`` (:func:`probe_lifespans`)
and again when the app starts, where a wrong value raises a StartupError naming the plugin.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from quipu.errors import Problem, StartupError

__all__ = ["Lifespan", "PluginLifespan", "attributed_lifespans", "probe_lifespans"]

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


class HasLifespans(Protocol):
    """The registry, as far as :func:`probe_lifespans` needs it."""

    @property
    def lifespans(self) -> tuple[Lifespan, ...]: ...


_LIFESPAN_FIX = "return functions decorated with @contextlib.asynccontextmanager that yield once"


class PluginLifespan:
    """A plugin's lifespan callable, attributed: a wrong return value names the plugin."""

    __slots__ = ("factory", "origin")

    def __init__(self, origin: str, factory: Callable[[Any], Any]) -> None:
        self.origin = origin
        self.factory = factory

    def _name(self) -> str:
        return getattr(self.factory, "__qualname__", type(self.factory).__name__)

    def problem(self, result: object) -> Problem | None:
        """The problem with what the callable returned, or None for an async context manager."""
        if isinstance(result, AbstractAsyncContextManager):
            return None
        if inspect.iscoroutine(result):
            result.close()  # never awaited on purpose: no "was never awaited" warning
        return Problem(
            self.origin,
            f"lifespan {self._name()} returned {type(result).__name__}, "
            "not an async context manager",
            _LIFESPAN_FIX,
        )

    def __call__(self, app: Any) -> AbstractAsyncContextManager[None]:
        result = self.factory(app)
        problem = self.problem(result)
        if problem is not None:
            raise StartupError([problem])
        cm: AbstractAsyncContextManager[None] = result
        return cm


def probe_lifespans(registry: HasLifespans, app: Any) -> list[Problem]:
    """Call each plugin lifespan once with ``app``, never entering it (``quipu check``).

    Calling an ``@asynccontextmanager`` function runs none of its body, so this does no
    I/O for a well-formed lifespan.
    """
    problems: list[Problem] = []
    for lifespan in registry.lifespans:
        if not isinstance(lifespan, PluginLifespan):
            continue
        try:
            result = lifespan.factory(app)
        except Exception as exc:  # third-party code
            problems.append(
                Problem(lifespan.origin, f"lifespan raised {type(exc).__name__}: {exc}")
            )
            continue
        problem = lifespan.problem(result)
        if problem is not None:
            problems.append(problem)
    return problems


def attributed_lifespans(origin: str, result: object, problems: list[Problem]) -> list[Lifespan]:
    """What ``register_lifespans`` returned, checked without calling it, each item wrapped
    in a :class:`PluginLifespan`; what is wrong goes to ``problems``."""
    if result is None:
        return []
    if not isinstance(result, Iterable) or isinstance(result, str | bytes | Mapping):
        problems.append(
            Problem(
                origin,
                f"register_lifespans returned {type(result).__name__}, expected a list of "
                "callables returning async context managers",
                "return [my_lifespan], not my_lifespan or my_lifespan(app)",
            )
        )
        return []
    good: list[Lifespan] = []
    for item in result:
        name = getattr(item, "__qualname__", type(item).__name__)
        what = None
        if isinstance(item, AbstractAsyncContextManager) or not callable(item):
            what = f"a {type(item).__name__}, not a callable taking the app"
        elif inspect.iscoroutinefunction(item):
            what = f"{name} is an async function, not an async context manager"
        elif inspect.isasyncgenfunction(item):
            what = f"{name} is an async generator without @asynccontextmanager"
        elif inspect.isgeneratorfunction(item):
            what = f"{name} is a generator; lifespans are async context managers"
        if what is not None:
            problems.append(Problem(origin, f"register_lifespans: {what}", _LIFESPAN_FIX))
            continue
        good.append(PluginLifespan(origin, item))
    return good
