"""A third party's plugin, built as a wheel and installed, is served with no change to core."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PYPROJECT = """
[project]
name = "acme-quipu-greeter"
version = "1.2.0"
requires-python = ">=3.11"
dependencies = ["quipu"]

[project.entry-points.quipu]
greeter = "acme_greeter.plugin"

[tool.uv.build-backend]
module-name = "acme_greeter"

[build-system]
requires = ["uv_build>=0.5,<0.20"]
build-backend = "uv_build"
"""

PLUGIN = '''
"""A third-party plugin: only quipu's public API is imported."""
from litestar import get
from litestar.params import FromPath
from quipu.api import CachePolicy, PromptTemplate, hookimpl


@get("/api/greeter/hello/{name:str}")
async def hello(name: FromPath[str]) -> dict[str, str]:
    return {"greeting": f"hola {name}"}


@hookimpl
def register_routes():
    return [hello]


@hookimpl
def register_cache_policies():
    return [CachePolicy(name="greetings", ttl_s=120)]


@hookimpl
def register_prompts():
    return [PromptTemplate(name="greet", version="1", system_blocks=("Saluda.",),
                           user_template="Nombre: {name}")]
'''


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the plugin into a wheel with uv and install it into a fresh site directory."""
    root = tmp_path_factory.mktemp("greeter")
    src = root / "src" / "acme_greeter"
    src.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (src / "__init__.py").write_text('__version__ = "1.2.0"\n')
    (src / "plugin.py").write_text(PLUGIN)
    uv = Path(sys.executable).with_name("uv")
    dist = root / "dist"
    subprocess.run(
        [str(uv), "build", "--wheel", "--out-dir", str(dist), str(root)],
        check=True,
        capture_output=True,
    )
    site = root / "site"
    wheel = next(dist.glob("*.whl"))
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "--no-deps",
            "--target",
            str(site),
            "--python",
            sys.executable,
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return site


@pytest.mark.slow
def test_cli_lists_the_installed_plugin(installed_wheel: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed_wheel), "QUIPU_LOAD_PLUGINS": "greeter"}
    (tmp_path / "platform.toml").write_text("")
    out = subprocess.run(
        [sys.executable, "-m", "quipu.cli", "plugins", "--json"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    greeter = next(p for p in json.loads(out.stdout) if p["name"] == "greeter")
    assert greeter["distribution"] == "acme-quipu-greeter"
    assert greeter["version"] == "1.2.0"
    assert greeter["routes"] == ["GET /api/greeter/hello/{name:str}"]
    assert greeter["cache_policies"] == ["greetings"]
    assert greeter["prompts"] == ["greet@1"]


@pytest.mark.slow
async def test_installed_plugin_routes_are_served(
    installed_wheel: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_quipu_app: Callable[..., Any],
    quipu_client: Any,
) -> None:
    monkeypatch.syspath_prepend(str(installed_wheel))
    monkeypatch.setenv("QUIPU_LOAD_PLUGINS", "greeter")
    app = make_quipu_app(autoload=True)
    async with quipu_client(app) as client:
        hello = await client.get("/api/greeter/hello/ana")
        plugins = await client.get("/_platform/plugins")
    assert hello.json() == {"greeting": "hola ana"}
    assert "greeter" in [p["name"] for p in plugins.json()]
    registry = app.state["quipu"].registry
    assert registry.cache_policies["greeter.greetings"].ttl_s == 120
