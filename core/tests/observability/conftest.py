"""Fixtures of the observability tests: the probe plugin, served by ``quipu serve``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from obs_probe import ServedQuipu, install_probe


@pytest.fixture
def probe_site(tmp_path: Path) -> Path:
    return install_probe(tmp_path / "site")


@pytest.fixture
def serve_quipu(probe_site: Path) -> Iterator[Any]:
    """``serve_quipu(env, workers=1)``: a ready :class:`ServedQuipu`, stopped afterwards."""
    started: list[ServedQuipu] = []

    def start(env: dict[str, str], workers: int = 1) -> ServedQuipu:
        server = ServedQuipu(probe_site, env, workers)
        started.append(server)
        server.wait()
        return server

    yield start
    for server in started:
        server.stop()
