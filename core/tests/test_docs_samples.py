"""Every Python sample of docs/plugins.md runs, so the plugin guide cannot drift.

The samples are one tutorial: a block whose first line names a file (``# src/pkg/mod.py``)
is written there and imported like an installed plugin's module; the other blocks run in
order in one namespace, like one ``plugin.py``; a block starting ``# not run`` (a fragment
with names defined elsewhere) is only compiled. The hooks the namespace ends up with are
then registered as a plugin and served, and the guide's ``test_*`` functions run with
quipu's fixtures.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from quipu.api import hookimpl

GUIDE = Path(__file__).parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
FILE = re.compile(r"^# (src/[\w/]+\.py)\b")


@pytest.fixture
def guide_modules() -> Iterator[None]:
    """Forget the guide's modules afterwards: other tests install their own acme_greeter."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.split(".")[0] == "acme_greeter":
            del sys.modules[name]


def samples() -> list[str]:
    return BLOCK.findall(GUIDE.read_text(encoding="utf-8"))


def test_the_guide_has_samples_of_each_kind() -> None:
    blocks = samples()
    assert len(blocks) >= 8
    assert any(FILE.match(b) for b in blocks)
    assert any(b.startswith("# not run") for b in blocks)


@pytest.mark.usefixtures("guide_modules")
async def test_every_sample_of_the_plugin_guide_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_quipu_app: Callable[..., Any],
    quipu_client: Any,
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    namespace: dict[str, Any] = {"__name__": "plugins_md"}
    for number, block in enumerate(samples(), 1):
        where = f"docs/plugins.md python sample {number}"
        if block.startswith("# not run"):
            compile(block, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        elif match := FILE.match(block):
            path = tmp_path / match.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            (path.parent / "__init__.py").touch()
            path.write_text(block)
        else:
            exec(compile(block, where, "exec"), namespace)  # noqa: S102 - the guide's own code

    # The hooks of the guide, as one plugin with the routes of its files.
    greeter = importlib.import_module("acme_greeter.plugin")
    answers = importlib.import_module("acme_greeter.answers")
    hooks = {name: fn for name, fn in namespace.items() if name.startswith("register_")}
    assert set(hooks) >= {"register_config_schema", "register_cache_policies", "register_prompts"}
    plugin = SimpleNamespace(
        **hooks, register_routes=hookimpl(lambda: [greeter.hello, answers.ask])
    )
    app = make_quipu_app([("greeter", plugin)], config="[plugins.greeter]\nlanguage = 'es'\n")
    async with quipu_client(app) as client:
        hello = await client.get("/api/greeter/hello/ana")
        asked = await client.post("/api/greeter/ask", json={"company_id": 3, "question": "¿Y?"})
    assert hello.json() == {"greeting": "hola ana"}
    assert asked.json() == {"answer": "Vuelva luego.", "source": "fallback"}  # no LLM key
    assert "cache-status" in asked.headers

    tests = {name: fn for name, fn in namespace.items() if name.startswith("test_")}
    assert tests, "the guide's testing section defines no test"
    fixtures = {"make_quipu_app": make_quipu_app, "quipu_client": quipu_client}
    for test in tests.values():
        outcome = test(**{arg: fixtures[arg] for arg in inspect.signature(test).parameters})
        if inspect.isawaitable(outcome):
            await outcome
