"""``quipu serve | check | plugins | new-plugin | emulator``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from quipu.config import Settings, load_settings
from quipu.errors import StartupError
from quipu.observability.logs import configure_logging

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["main"]


def _checked_app(settings: Settings) -> Litestar:
    """The app, built and checked as far as can be without serving.

    Raises:
        StartupError: every problem, a lifespan returning no context manager included
            (otherwise seen only when a worker starts).
    """
    from quipu.app import create_app
    from quipu.lifespans import probe_lifespans

    app = create_app(settings)
    problems = probe_lifespans(app.state["quipu"].registry, app)
    if problems:
        raise StartupError(problems)
    return app


def _check(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
        registry = _checked_app(settings).state["quipu"].registry
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1
    routes = sum(len(p.routes) for p in registry.plugins)
    names = ", ".join(p.name for p in registry.plugins)
    print(
        f"ok: {len(registry.plugins)} plugins ({names}), {routes} routes, "
        f"{len(registry.cache_policies)} cache policies, {len(registry.prompts)} prompts"
    )
    from quipu.app import prompt_warnings

    for warning in [*registry.warnings, *prompt_warnings(settings, registry)]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _plugins(args: argparse.Namespace) -> int:
    from quipu.app import build_platform

    try:
        registry = build_platform(load_settings(args.config))
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(msgspec.json.encode(registry.plugins).decode() + "\n")
        return 0
    for info in registry.plugins:
        origin = "built-in" if info.builtin else f"{info.distribution} {info.version}"
        print(f"{info.name}  ({origin})")
        for label, values in (
            ("hooks", info.hooks),
            ("routes", info.routes),
            ("cache policies", info.cache_policies),
            ("prompts", info.prompts),
            ("services", info.services),
            *(
                (hook.removeprefix("register_"), names)
                for hook, names in info.contributions.items()
            ),
        ):
            if values:
                print(f"  {label}: {', '.join(values)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from quipu.serve import serve

    try:
        settings = load_settings(args.config)
        # Fail here, once, with the full list, rather than in every worker.
        _checked_app(settings)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1
    overrides = {
        k: v
        for k, v in {"host": args.host, "port": args.port, "workers": args.workers}.items()
        if v is not None
    }
    if overrides:
        settings = msgspec.structs.replace(
            settings, platform=msgspec.structs.replace(settings.platform, **overrides)
        )
    serve(settings)
    return 0


def _new_plugin(args: argparse.Namespace) -> int:
    from quipu.scaffold import new_plugin

    try:
        target = new_plugin(args.name, args.dest)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote plugin '{args.name}' in {target}")
    # The commands for this very environment (quipu is not on an index): install the
    # plugin beside quipu, then run its tests with its own pyproject.toml settings.
    python = _shown(Path(sys.executable))
    uv = Path(sys.executable).with_name("uv")
    installer = (
        f"{_shown(uv)} pip install --python {python}" if uv.exists() else f"{python} -m pip install"
    )
    print("next: install it beside quipu and run its tests:")
    print(f"  {installer} -e {target}")
    print(f"  {python} -m pytest {target}")
    return 0


def _shown(path: Path) -> str:
    """``path`` as typed from the working directory (``.venv/bin/python`` in a checkout)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _emulator(args: argparse.Namespace, rest: list[str]) -> int:
    from quipu.testing.emulator.cli import main as emulator_main

    return emulator_main(rest)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``quipu`` command."""
    parser = argparse.ArgumentParser(prog="quipu", description=__doc__)
    parser.add_argument(
        "--config", help="platform.toml to read (default: QUIPU_CONFIG, ./platform.toml)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API under Granian")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    sub.add_parser("check", help="build everything without serving; non-zero exit on problems")
    plugins = sub.add_parser("plugins", help="list plugins and what each declares")
    plugins.add_argument("--json", action="store_true")
    new = sub.add_parser("new-plugin", help="write a new plugin distribution from the template")
    new.add_argument("name", help="the plugin's name, e.g. greeter")
    new.add_argument("--dest", type=Path, help="folder to create (default ./quipu-<name>)")
    sub.add_parser(
        "emulator", help="run the local Anthropic API emulator (see --help)", add_help=False
    )
    args, rest = parser.parse_known_args(argv)
    configure_logging("console" if args.command in ("check", "plugins") else "auto")
    if args.command == "emulator":
        return _emulator(args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    handlers = {"serve": _serve, "check": _check, "plugins": _plugins, "new-plugin": _new_plugin}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
