"""Plugin discovery: one pass over the ``quipu`` entry points, with attribution.

The pass reads the installed distributions' entry points once (never once per plugin),
skips what ``[platform].disabled`` blocks before importing it, applies the
``QUIPU_LOAD_PLUGINS`` allow-list, and reports a plugin that fails to import with its
entry-point name, distribution and version.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

import msgspec
import pluggy

from quipu import hookspecs
from quipu.config import Settings
from quipu.errors import Problem
from quipu.records import NAME_PATTERN, keyword_only_fix

__all__ = [
    "BUILTIN_PLUGINS",
    "GROUP",
    "Discovery",
    "LoadedPlugin",
    "discover",
    "installed_at",
    "make_plugin_manager",
]

GROUP = hookspecs.PROJECT
#: Core plugins, registered by import path before discovery; they cannot be disabled.
BUILTIN_PLUGINS: Mapping[str, str] = {"platform": "quipu.builtin.platform"}
LOAD_PLUGINS_ENV = "QUIPU_LOAD_PLUGINS"
DISABLE_AUTOLOAD_ENV = "QUIPU_DISABLE_PLUGIN_AUTOLOAD"


class LoadedPlugin(msgspec.Struct, frozen=True, kw_only=True):
    """A plugin registered with the manager, and where it came from."""

    name: str
    module: Any
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False

    @property
    def origin(self) -> str:
        """``name (distribution version)`` for messages."""
        if self.distribution:
            return f"plugin '{self.name}' ({self.distribution} {self.version})"
        return f"plugin '{self.name}'"


class Discovery(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of discovery: what loaded, what failed, what was skipped."""

    plugins: tuple[LoadedPlugin, ...]
    problems: tuple[Problem, ...]
    warnings: tuple[str, ...]
    installed: frozenset[str] = frozenset()
    """Every plugin name the scan found, loaded or not (allow-list, disabled)."""


def make_plugin_manager() -> pluggy.PluginManager:
    """A fresh manager with quipu's hook specifications (never a global one)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _allow_list(env: Mapping[str, str]) -> frozenset[str] | None:
    raw = env.get(LOAD_PLUGINS_ENV)
    if raw is None:
        return None
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def discover(
    pm: pluggy.PluginManager,
    settings: Settings,
    *,
    extra: Iterable[tuple[str, object]] = (),
    autoload: bool = True,
    env: Mapping[str, str] | None = None,
) -> Discovery:
    """Register the built-ins, the installed plugins and ``extra`` with ``pm``.

    Args:
        pm: A manager from :func:`make_plugin_manager`.
        settings: Platform settings (``disabled`` and ``on_plugin_error``).
        extra: ``(name, plugin)`` pairs registered as they are (tests, embedding).
        autoload: Scan entry points; ``QUIPU_DISABLE_PLUGIN_AUTOLOAD=1`` also turns it off.
        env: The environment (default ``os.environ``).
    """
    env = os.environ if env is None else env
    problems: list[Problem] = []
    warnings: list[str] = []
    loaded: list[LoadedPlugin] = []
    disabled = set(settings.platform.disabled)

    for name in sorted(disabled & set(BUILTIN_PLUGINS)):
        problems.append(
            Problem(
                f"[platform].disabled = {name!r}",
                "built-in plugins cannot be disabled",
                f"remove {name!r} from the list",
            )
        )
    for name, path in BUILTIN_PLUGINS.items():
        module = importlib.import_module(path)
        _register(pm, LoadedPlugin(name=name, module=module, builtin=True), problems, loaded)

    for name in disabled:
        pm.set_blocked(name)

    if autoload and not _env_flag(env, DISABLE_AUTOLOAD_ENV):
        installed = _load_entry_points(
            pm, settings, _allow_list(env), disabled, problems, warnings, loaded
        )
    else:
        # Names only, nothing imported: a platform.toml section for an installed plugin
        # stays valid in an app that loads its plugins explicitly (tests, benchmarks).
        installed = frozenset(ep.name for ep in importlib.metadata.entry_points(group=GROUP))

    for name, plugin in extra:
        if not NAME_PATTERN.match(name):
            problems.append(Problem(f"plugin {name!r}", "name must match ^[a-z][a-z0-9_]*$"))
            continue
        version = getattr(plugin, "__version__", None)
        _register(pm, LoadedPlugin(name=name, module=plugin, version=version), problems, loaded)

    problems.extend(_added_hookspecs(pm, loaded))
    problems.extend(_unknown_hooks(pm, loaded))
    return Discovery(
        plugins=tuple(loaded),
        problems=tuple(problems),
        warnings=tuple(warnings),
        installed=installed,
    )


def _load_entry_points(
    pm: pluggy.PluginManager,
    settings: Settings,
    allow: frozenset[str] | None,
    disabled: set[str],
    problems: list[Problem],
    warnings: list[str],
    loaded: list[LoadedPlugin],
) -> frozenset[str]:
    # The single scan of installed distributions; everything below works on its result.
    by_name: defaultdict[str, list[importlib.metadata.EntryPoint]] = defaultdict(list)
    for ep in importlib.metadata.entry_points(group=GROUP):
        by_name[ep.name].append(ep)

    for name in sorted(by_name):
        eps = by_name[name]
        dists = sorted({_dist_label(ep) for ep in eps})
        if len(dists) > 1:
            problems.append(
                Problem(
                    f"plugin '{name}'",
                    f"claimed by {len(dists)} distributions: {', '.join(dists)}",
                    "uninstall one of them; a plugin name must be unique",
                )
            )
            continue
        if name in disabled or (allow is not None and name not in allow):
            continue
        if name in BUILTIN_PLUGINS or not NAME_PATTERN.match(name):
            problems.append(
                Problem(
                    f"entry point '{name}' ({dists[0]})",
                    "reserved or invalid plugin name",
                    "use a lower-case name matching ^[a-z][a-z0-9_]*$ other than "
                    + ", ".join(BUILTIN_PLUGINS),
                )
            )
            continue
        ep = eps[0]
        dist = ep.dist
        info = LoadedPlugin(
            name=name,
            module=None,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
        )
        try:
            module = ep.load()
        except Exception as exc:  # any import-time failure of third-party code
            what = f"failed to import {ep.value}: {type(exc).__name__}: {exc}"
            records_fix = keyword_only_fix(exc)
            if settings.platform.on_plugin_error == "warn":
                hint = f" ({records_fix})" if records_fix else ""
                warnings.append(f"{info.origin} skipped: {what}{hint}")
                continue
            fix = (
                f'fix or uninstall it, or add "{name}" to [platform].disabled, '
                'or set on_plugin_error = "warn"'
            )
            problems.append(
                Problem(info.origin, what, f"{records_fix}; {fix}" if records_fix else fix)
            )
            continue
        _register(pm, msgspec.structs.replace(info, module=module), problems, loaded)
    for name in sorted((allow or set()) - set(by_name)):
        warnings.append(f"{LOAD_PLUGINS_ENV} names '{name}', which is not installed")
    return frozenset(by_name)


def _added_hookspecs(pm: pluggy.PluginManager, loaded: list[LoadedPlugin]) -> list[Problem]:
    """Let each plugin add its own hookspecs (``register_hookspecs``), before any hook is
    called and before unknown hook names are reported."""
    by_name = {p.name: p for p in loaded}
    problems: list[Problem] = []
    for impl in pm.hook.register_hookspecs.get_hookimpls():
        plugin = by_name.get(impl.plugin_name)
        origin = plugin.origin if plugin else f"plugin '{impl.plugin_name}'"
        try:
            specs: Any = impl.function()
            for spec in specs or ():
                pm.add_hookspecs(spec)
        except Exception as exc:  # third-party code: report, never crash start-up
            problems.append(
                Problem(
                    origin,
                    f"register_hookspecs: {type(exc).__name__}: {exc}",
                    "return modules or classes of functions marked with quipu.api.hookspec",
                )
            )
    return problems


def _unknown_hooks(pm: pluggy.PluginManager, loaded: list[LoadedPlugin]) -> list[Problem]:
    """Every ``@hookimpl`` that matches no hook (pluggy's check_pending stops at the first,
    and names the plugin by its module repr)."""
    by_name = {p.name: p for p in loaded}
    callers = [c for c in vars(pm.hook).values() if isinstance(c, pluggy.HookCaller)]
    known = sorted(c.name for c in callers if c.spec is not None)
    problems: list[Problem] = []
    for caller in callers:
        if caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            plugin = by_name.get(impl.plugin_name)
            origin = plugin.origin if plugin else f"plugin '{impl.plugin_name}'"
            close = difflib.get_close_matches(caller.name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    origin,
                    f"@hookimpl {impl.function.__name__!r} is not a quipu hook",
                    f"{hint}rename it to one of the hooks in quipu.hookspecs, "
                    "or drop @hookimpl from a helper",
                )
            )
    return problems


def installed_at(plugin: LoadedPlugin) -> float | None:
    """When the plugin's distribution was installed, if known: the mtime of its ``RECORD``.

    Installers write ``RECORD`` into the environment at install time; ``METADATA`` is
    copied from the wheel, and uv hard-links it from its cache, so its mtime is when the
    wheel was first unpacked on this machine (perhaps long before this install).
    """
    if plugin.distribution is None:
        return None
    try:
        dist = importlib.metadata.distribution(plugin.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name == "RECORD" and file.parent.name.endswith(".dist-info"):
            try:
                return os.stat(file.locate()).st_mtime
            except OSError:
                return None
    return None


def _register(
    pm: pluggy.PluginManager,
    plugin: LoadedPlugin,
    problems: list[Problem],
    loaded: list[LoadedPlugin],
) -> None:
    try:
        pm.register(plugin.module, name=plugin.name)
    except pluggy.PluginValidationError as exc:
        problems.append(_validation_problem(pm, plugin, exc))
        return
    except ValueError:
        # pluggy's message is a dict of module reprs; say it with names.
        twin = next((p for p in loaded if p.module is plugin.module), None)
        if twin is not None:
            what = f"its module is already loaded as {twin.origin}"
            fix = "point each entry point at a module of its own, or drop one of them"
        else:
            what = "a plugin of that name is already loaded"
            fix = "rename one of them"
        problems.append(Problem(plugin.origin, what, fix))
        return
    loaded.append(plugin)


def _validation_problem(
    pm: pluggy.PluginManager, plugin: LoadedPlugin, exc: pluggy.PluginValidationError
) -> Problem:
    """pluggy's message, said plainly: a misspelt argument gets the ones the hook passes."""
    text = str(exc)
    hook = re.search(r"for hook '(\w+)'", text)
    unknown = re.search(r"Argument\(s\) \{(.*?)\} are declared in the hookimpl", text)
    caller = getattr(pm.hook, hook.group(1), None) if hook else None
    if hook is None or unknown is None or caller is None or caller.spec is None:
        return Problem(plugin.origin, text.replace("\n", "; "), "fix the hook implementation")
    passed = caller.spec.argnames
    bad = unknown.group(1).replace("'", "")
    close = [m for a in bad.split(", ") for m in difflib.get_close_matches(a, passed, n=1)]
    hint = f"did you mean {close[0]!r}? " if close else ""
    return Problem(
        plugin.origin,
        f"@hookimpl {hook.group(1)} takes {bad}, which the hook does not pass",
        f"{hint}{hook.group(1)} may take {', '.join(passed) or 'no arguments'} "
        "(leave out those it does not need)",
    )


def _dist_label(ep: importlib.metadata.EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist else ep.value


def module_of(plugin: LoadedPlugin) -> ModuleType | None:
    """The plugin's module when it is one (classes and instances are allowed too)."""
    return plugin.module if isinstance(plugin.module, ModuleType) else None
