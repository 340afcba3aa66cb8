"""Shared fixtures of the core's tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from quipu.testing.fake_dist import write_fake_plugin


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
