"""``quipu new-plugin``: the generated distribution installs and passes its own tests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from quipu.cli import main
from quipu.scaffold import new_plugin

NAME = "mi_glosario"
MODULE = "quipu_mi_glosario"


def run_cli(*argv: str) -> int:
    """``quipu ...`` in-process, leaving the test session's logging as it was."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("quipu.cli.configure_logging", lambda *args, **kwargs: None)
        return main(list(argv))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin written by the CLI, as a third party would run it."""
    dest = tmp_path_factory.mktemp("new") / "quipu-mi-glosario"
    assert run_cli("new-plugin", NAME, "--dest", str(dest)) == 0
    return dest


def test_the_template_writes_a_whole_distribution(generated: Path) -> None:
    files = {p.relative_to(generated).as_posix() for p in generated.rglob("*") if p.is_file()}
    assert files == {
        "README.md",
        "pyproject.toml",
        f"src/{MODULE}/__init__.py",
        f"src/{MODULE}/config.py",
        f"src/{MODULE}/plugin.py",
        f"src/{MODULE}/py.typed",
        f"src/{MODULE}/routes.py",
        "tests/test_plugin.py",
    }
    pyproject = (generated / "pyproject.toml").read_text()
    assert 'name = "quipu-mi-glosario"' in pyproject
    assert f'{NAME} = "{MODULE}.plugin"' in pyproject
    assert 'asyncio_mode = "auto"' in pyproject
    assert "{{" not in (generated / f"src/{MODULE}/routes.py").read_text()


def test_the_generated_code_is_lint_clean(generated: Path) -> None:
    # With the generated project's own [tool.ruff] settings, as its author would run it.
    ruff = Path(sys.executable).with_name("ruff")
    for args in (["check"], ["format", "--check"]):
        run = subprocess.run(
            [str(ruff), *args, "--no-cache", "."], cwd=generated, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stdout


def test_new_plugin_prints_the_commands_for_this_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The commands name this interpreter and its uv: quipu is not on an index to resolve.
    monkeypatch.chdir(tmp_path)
    assert run_cli("new-plugin", "otro", "--dest", str(tmp_path / "otro")) == 0
    out = capsys.readouterr().out
    uv = Path(sys.executable).with_name("uv")
    assert f"{uv} pip install --python {sys.executable} -e {tmp_path / 'otro'}\n" in out
    assert f"{sys.executable} -m pytest {tmp_path / 'otro'}\n" in out


def test_bad_names_and_busy_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\^\[a-z\]"):
        new_plugin("Mi-Plugin", tmp_path / "x")
    with pytest.raises(ValueError, match="other than 'platform'"):
        new_plugin("platform", tmp_path / "y")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    assert run_cli("new-plugin", "otro", "--dest", str(tmp_path / "busy")) == 2
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


@pytest.fixture(scope="module")
def plugin_venv(generated: Path, make_venv: Callable[..., Path]) -> Path:
    """A virtual environment of the plugin's own, made as its author would make one: the
    plugin built and installed from the generated folder (not editable: the tests import
    what a user would get) with its ``test`` dependency group, beside quipu."""
    return make_venv(str(generated), "--group", f"{generated / 'pyproject.toml'}:test")


@pytest.mark.slow
def test_the_generated_plugin_installs_and_passes_its_own_tests(
    generated: Path, plugin_venv: Path, outside_env: Callable[..., dict[str, str]]
) -> None:
    bin_dir = plugin_venv / "bin"
    # Installed, not imported from the source tree: the module lives in the venv.
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", f"import {MODULE}; print({MODULE}.__file__)"],
        cwd=plugin_venv, check=True, capture_output=True, text=True, env=outside_env(),
    ).stdout  # fmt: skip
    assert where.startswith(str(plugin_venv)), where

    # The plugin's own suite with its own pyproject settings (asyncio_mode, strict markers)
    # and its own test group: the test kit must find a Redis server without our help.
    run = subprocess.run(
        [str(bin_dir / "pytest"), "-q", "-p", "no:cacheprovider"],
        cwd=generated, env=outside_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    written = len(re.findall(r"^(?:async )?def test_", read_tests(generated), re.M))
    assert re.search(rf"\b{written} passed\b", run.stdout), run.stdout[-2000:]
    assert not re.search(r"\b(skipped|xfailed|warnings?)\b", run.stdout), run.stdout[-2000:]


@pytest.mark.slow
def test_the_installed_quipu_discovers_the_generated_plugin(
    plugin_venv: Path, outside_env: Callable[..., dict[str, str]]
) -> None:
    # The entry point of the built distribution, found by the venv's own `quipu` command.
    run = subprocess.run(
        [str(plugin_venv / "bin" / "quipu"), "plugins", "--json"],
        cwd=plugin_venv, env=outside_env(QUIPU_LOAD_PLUGINS=NAME),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (mine,) = [p for p in json.loads(run.stdout) if p["name"] == NAME]
    assert mine["distribution"] == "quipu-mi-glosario"
    assert mine["version"] == "0.1.0"
    assert mine["routes"] == [f"POST /api/{NAME}/ask"]


def read_tests(folder: Path) -> str:
    return "".join(p.read_text() for p in sorted((folder / "tests").rglob("test_*.py")))
