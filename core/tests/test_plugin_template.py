"""``quipu new-plugin``: the generated distribution installs and passes its own tests."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
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


def test_bad_names_and_busy_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\^\[a-z\]"):
        new_plugin("Mi-Plugin", tmp_path / "x")
    with pytest.raises(ValueError, match="other than 'platform'"):
        new_plugin("platform", tmp_path / "y")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    assert run_cli("new-plugin", "otro", "--dest", str(tmp_path / "busy")) == 2
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_the_generated_plugin_installs_and_passes_its_own_tests(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uv = Path(sys.executable).with_name("uv")
    dist = tmp_path / "dist"
    site = tmp_path / "site"
    subprocess.run(
        [str(uv), "build", "--wheel", "--out-dir", str(dist), str(generated)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("*.whl"))
    install = ["pip", "install", "--no-deps", "--target", str(site), "--python", sys.executable]
    subprocess.run(
        [str(uv), *install, str(wheel)],
        check=True,
        capture_output=True,
    )
    monkeypatch.syspath_prepend(str(site))
    (ep,) = [e for e in importlib.metadata.entry_points(group="quipu") if e.name == NAME]
    assert ep.value == f"{MODULE}.plugin"
    assert ep.dist is not None
    assert ep.dist.name == "quipu-mi-glosario"

    # The installed wheel, not the source tree: the tests import what a user would get.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(site)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=generated,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "5 passed" in run.stdout
