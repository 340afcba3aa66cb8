"""Calling one plugin's hook at a time, and who owns what: attribution for start-up checks.

:class:`Collector` calls each plugin's implementation on its own (so every record is
attributed to the plugin that returned it) and checks record types, names and duplicates;
:class:`Claims` keeps the owner of each route, service and claimed name and blames the
newcomer in a clash. Both only collect :class:`~quipu.errors.Problem` records; the
registry raises them all at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import pluggy

from quipu.context import MissingService
from quipu.errors import Problem
from quipu.plugins import LoadedPlugin, installed_at
from quipu.records import NAME_PATTERN, keyword_only_fix

__all__ = ["Claims", "Collector"]

R = TypeVar("R")


class Collector:
    """Calls one hook per plugin and checks record types, names and duplicates."""

    def __init__(self, pm: pluggy.PluginManager, problems: list[Problem]) -> None:
        self.pm = pm
        self.problems = problems
        self.hooks: dict[str, list[str]] = {}
        #: Record types of plugin-defined hooks seen so far (for the keyword-only fix).
        self.kinds: tuple[type, ...] = ()

    def call(
        self, hook: str, plugin: LoadedPlugin, *, record: type | None = None, **kwargs: Any
    ) -> Any:
        impls = [
            i for i in getattr(self.pm.hook, hook).get_hookimpls() if i.plugin_name == plugin.name
        ]
        if not impls:
            return None
        self.hooks.setdefault(plugin.name, []).append(hook)
        impl = impls[0]
        if impl.hookwrapper or impl.wrapper:
            self.problems.append(
                Problem(plugin.origin, f"{hook} may not be a wrapper", "drop wrapper=True")
            )
            return None
        try:
            return impl.function(*(kwargs[name] for name in impl.argnames))
        except MissingService as exc:  # a start-up error of its own, with its fix
            self.problems.append(Problem(plugin.origin, f"{hook}: {exc}", exc.fix))
            return None
        except Exception as exc:  # third-party code: report, never crash start-up
            self.problems.append(
                Problem(
                    plugin.origin,
                    f"{hook} raised {type(exc).__name__}: {exc}",
                    keyword_only_fix(exc, record, self.kinds) or "",
                )
            )
            return None

    def records(
        self,
        hook: str,
        plugin: LoadedPlugin,
        kind: type[R],
        name_of: Callable[[R], str],
        **kwargs: Any,
    ) -> list[R]:
        result = self.call(hook, plugin, record=kind, **kwargs)
        if result is None:
            return []
        if not isinstance(result, Iterable) or isinstance(result, str | bytes | Mapping):
            self.problems.append(
                Problem(
                    plugin.origin,
                    f"{hook} returned {type(result).__name__}, expected a list of {kind.__name__}",
                )
            )
            return []
        good: list[R] = []
        seen: set[str] = set()
        for item in result:
            if not isinstance(item, kind):
                self.problems.append(
                    Problem(
                        plugin.origin,
                        f"{hook} returned a {type(item).__name__}, expected {kind.__name__}",
                        f"return {_public_name(kind)}(...) records",
                    )
                )
                continue
            name = name_of(item)
            if not NAME_PATTERN.match(name):
                self.problems.append(
                    Problem(
                        plugin.origin,
                        f"{kind.__name__} name {name!r} is not valid",
                        "use lower case letters, digits and _, starting with a letter",
                    )
                )
                continue
            if name in seen:
                self.problems.append(
                    Problem(plugin.origin, f"{kind.__name__} {name!r} declared twice")
                )
                continue
            seen.add(name)
            good.append(item)
        return good


def _public_name(kind: type) -> str:
    """Where a plugin imports a record type from: ``quipu.api`` for the core's own."""
    module = "quipu.api" if kind.__module__.startswith("quipu.") else kind.__module__
    return f"{module}.{kind.__name__}"


class Claims:
    """Who owns each route, service and claimed name; a clash is blamed on the newcomer.

    The incumbent is the built-in plugin, else the plugin whose distribution was installed
    first, else the one discovered first (entry points before plugins passed explicitly):
    the operator who just installed a plugin is told to fix that one, not one that was
    working before it.
    """

    def __init__(self, discovered: Iterable[LoadedPlugin], problems: list[Problem]) -> None:
        self.order = {p.name: i for i, p in enumerate(discovered)}
        self.problems = problems
        self.owners: dict[tuple[str, ...], LoadedPlugin] = {}
        self._installed: dict[str, float] = {}

    def _seniority(self, plugin: LoadedPlugin) -> tuple[bool, float, int]:
        if plugin.name not in self._installed:
            # Read only on a clash: discovery itself never stats a distribution.
            when = installed_at(plugin)
            self._installed[plugin.name] = math.inf if when is None else when
        return (not plugin.builtin, self._installed[plugin.name], self.order[plugin.name])

    def claim(
        self,
        key: tuple[str, ...],
        plugin: LoadedPlugin,
        what: str,
        verb: str = "served",
        change: str = "change the path",
    ) -> None:
        owner = self.owners.setdefault(key, plugin)
        if owner is plugin:
            return
        incumbent, newcomer = sorted((owner, plugin), key=self._seniority)
        self.owners[key] = incumbent
        self.problems.append(
            Problem(
                newcomer.origin,
                f"{what} is already {verb} by {incumbent.origin}",
                f"{change} in plugin '{newcomer.name}', or add \"{newcomer.name}\" to "
                "[platform].disabled",
            )
        )
