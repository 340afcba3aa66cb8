"""The hook contract: every hook documented with its exact signature, and tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from quipu import hookspecs

DOCS = Path(__file__).parents[2] / "docs" / "plugins.md"
TESTS = Path(__file__).parent


def hook_names() -> list[str]:
    return [
        name
        for name, fn in vars(hookspecs).items()
        if inspect.isfunction(fn) and hasattr(fn, "quipu_spec")
    ]


def signature_of(name: str) -> str:
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


def test_there_are_hooks() -> None:
    assert "register_routes" in hook_names()
    assert len(hook_names()) == 7


@pytest.mark.parametrize("name", hook_names())
def test_hook_is_documented_with_its_exact_signature(name: str) -> None:
    assert f"### `{signature_of(name)}`" in DOCS.read_text(), (
        f"docs/plugins.md has no section '### `{signature_of(name)}`'"
    )


@pytest.mark.parametrize("name", hook_names())
def test_hook_has_a_docstring_with_an_example(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Returns:" in doc or "Example" in doc
    assert "Example::" in doc


@pytest.mark.parametrize("name", hook_names())
def test_hook_is_exercised_by_a_test(name: str) -> None:
    sources = "\n".join(p.read_text() for p in TESTS.glob("test_*.py"))
    assert re.search(rf"def {name}\(", sources), f"no test plugin implements {name}"


def test_hookimpl_returns_the_function_itself_marked_for_pluggy() -> None:
    from quipu.api import hookimpl
    from quipu.plugins import make_plugin_manager

    def routes() -> list[object]:
        return []

    marked = hookimpl(specname="register_routes")(routes)
    assert marked is routes
    pm = make_plugin_manager()
    pm.register(SimpleNamespace(any_name=marked), name="renamed")
    (impl,) = pm.hook.register_routes.get_hookimpls()
    assert impl.function is routes
