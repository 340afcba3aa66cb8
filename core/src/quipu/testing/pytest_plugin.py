"""pytest fixtures for quipu and for authors of quipu plugins.

Installed with quipu (``pytest11`` entry point), so a plugin's own test suite gets:

- ``redis_server`` / ``redis_url``: a real Redis, ``REDIS_URL`` or a throwaway server;
- ``quipu_env``: a clean environment dict for building settings;
- ``make_quipu_app``: build the app with chosen plugins (installed ones off by default);
- ``quipu_client``: a Litestar ``AsyncTestClient`` factory speaking to such an app;
- ``anthropic_emulator``: the local Anthropic API emulator, reset for each test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from quipu.testing.redis_server import RedisServer

__all__ = ["TEST_API_KEY"]

#: The full-access key the fixtures configure.
TEST_API_KEY = "quipu-test-key-0123456789abcdef0123456789"
AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer | None]:
    """The throwaway Redis server of this test session (None when ``REDIS_URL`` is set)."""
    if os.environ.get("REDIS_URL"):
        yield None
        return
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer | None) -> str:
    """URL of a real Redis server for this test session."""
    return redis_server.url if redis_server else os.environ["REDIS_URL"]


@pytest.fixture(scope="session")
def _emulator_process() -> Iterator[Any]:
    from quipu.testing.emulator import EmulatorConfig, EmulatorProcess

    with EmulatorProcess(EmulatorConfig(reply_words=12, hang_s=10)) as emulator:
        yield emulator


@pytest.fixture
def anthropic_emulator(_emulator_process: Any) -> Any:
    """The Anthropic API emulator (one process per session), reset before the test.

    Point quipu at it with ``env={"ANTHROPIC_API_KEY": "test", "ANTHROPIC_BASE_URL":
    anthropic_emulator.url}``; script replies with ``anthropic_emulator.script(...)``, inject
    faults with ``.faults(...)`` and read what it received with ``.requests()``.
    """
    _emulator_process.reset()
    return _emulator_process


@pytest.fixture
def quipu_env(redis_url: str) -> dict[str, str]:
    """Environment for :func:`quipu.config.load_settings`: test key and Redis, nothing else."""
    return {"API_KEY": TEST_API_KEY, "REDIS_URL": redis_url}


@pytest.fixture
def make_quipu_app(quipu_env: dict[str, str]) -> Callable[..., Any]:
    """Build a quipu app: ``make_quipu_app(plugins=[("name", module)], config=toml_text)``.

    Installed plugins are not discovered unless ``autoload=True``; ``env`` entries are
    merged over :func:`quipu_env`.
    """
    from quipu.app import create_app
    from quipu.config import load_settings

    def build(
        plugins: list[tuple[str, object]] | None = None,
        *,
        config: str | None = None,
        autoload: bool = False,
        env: Mapping[str, str] | None = None,
        tmp_dir: Path | None = None,
    ) -> Any:
        import tempfile

        # Always a file of the test's own: never the platform.toml of the working directory.
        folder = tmp_dir or Path(tempfile.mkdtemp(prefix="quipu-cfg-"))
        path = folder / "platform.toml"
        path.write_text(config or "")
        settings = load_settings(path, env={**quipu_env, **(env or {})})
        return create_app(settings, plugins=plugins or (), autoload=autoload)

    return build


@pytest.fixture
def quipu_client() -> Callable[..., Any]:
    """``async with quipu_client(app) as client:`` an authenticated AsyncTestClient."""
    from litestar.testing import AsyncTestClient

    @asynccontextmanager
    async def open_client(app: Any, *, auth: bool = True) -> AsyncIterator[Any]:
        async with AsyncTestClient(app=app) as client:
            if auth:
                client.headers.update(AUTH)
            yield client

    return open_client
