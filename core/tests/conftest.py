"""Shared fixtures of the core's tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from quipu.testing.fake_dist import write_fake_plugin

ROOT = Path(__file__).parents[2]


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """``fake_site(dist=..., entry_point=..., module=..., source=...)`` installs a fake plugin.

    Installed plugins of the real environment are hidden by an allow-list naming only the
    fakes, so each test sees exactly what it installed.
    """
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    names: list[str] = []

    def install(**kwargs: Any) -> Path:
        write_fake_plugin(site, **kwargs)
        names.append(kwargs["entry_point"])
        monkeypatch.setenv("QUIPU_LOAD_PLUGINS", ",".join(names))
        return site

    site.mkdir()
    return install


def _outside_env(**extra: str) -> dict[str, str]:
    drop = ("PYTEST_", "REDIS_URL", "QUIPU_", "VIRTUAL_ENV", "ANTHROPIC_")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(drop)}, **extra}


@pytest.fixture(scope="session")
def outside_env() -> Callable[..., dict[str, str]]:
    """``outside_env(**extra)``: the environment of a shell outside this test session (no
    pytest, Redis or quipu settings of ours), so what runs in it sets itself up as its
    author's would."""
    return _outside_env


@pytest.fixture(scope="session")
def make_venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``make_venv(*args)``: a fresh virtual environment with quipu installed from this
    checkout and ``args`` passed on to ``uv pip install`` (packages, ``--group`` ...).

    Versions are pinned to uv.lock, so the environment is the same on every machine and
    comes from uv's cache that ``make install`` filled (an index is asked only if not).
    """
    uv = Path(sys.executable).with_name("uv")
    pins = tmp_path_factory.mktemp("pins") / "constraints.txt"
    export = ["export", "--frozen", "--no-hashes", "--no-header", "--no-annotate"]
    pins.write_text(
        subprocess.run(
            [str(uv), *export, "--no-emit-workspace"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip

    def make(*args: str) -> Path:
        venv = tmp_path_factory.mktemp("venv") / ".venv"
        python = str(venv / "bin" / "python")
        subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        install = [str(uv), "pip", "install", "-q", "--python", python, "--constraints", str(pins)]
        run = subprocess.run(
            [*install, str(ROOT / "core"), *args],
            capture_output=True,
            text=True,
            env=_outside_env(),
        )
        assert run.returncode == 0, run.stderr
        return venv

    return make
