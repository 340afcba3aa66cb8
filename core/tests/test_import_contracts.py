"""The import-linter contracts (pyproject.toml, run by ``make lint``) stay complete."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import quipu

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"
PUBLIC = {"api", "testing"}


def contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def test_every_private_core_module_is_forbidden_to_plugins() -> None:
    """A module added to the core is private: plugins may not import it until quipu.api
    re-exports what they need from it."""
    core = {m.name for m in pkgutil.iter_modules(quipu.__path__)}
    forbidden = contracts()["plugin-api"]["forbidden_modules"]
    assert isinstance(forbidden, list)
    assert sorted(forbidden) == sorted(f"quipu.{name}" for name in core - PUBLIC)


def test_every_plugin_is_held_to_the_contracts() -> None:
    plugins = sorted(p.name.replace("-", "_") for p in (PYPROJECT.parent / "plugins").iterdir())
    packages = {f"quipu_{name}" for name in plugins}
    for contract in ("plugin-api", "plugin-api-root"):
        assert set(contracts()[contract]["source_modules"]) == packages  # type: ignore[arg-type]
    assert set(contracts()["core-knows-no-plugin"]["forbidden_modules"]) == packages  # type: ignore[arg-type]
    assert set(contracts()["no-cycles"]["ancestors"]) == packages | {"quipu"}  # type: ignore[arg-type]
