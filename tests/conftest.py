"""Fixtures of the assembled-platform tests: every plugin, real Redis, the emulator.

The plugins' own test helpers (documents, slips, chat kit) are reused, not copied: their
folders are put on ``sys.path`` here, as pytest does when it collects those suites.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
for helpers in ("dte", "payroll", "chat"):
    folder = str(ROOT / "plugins" / helpers / "tests")
    if folder not in sys.path:
        sys.path.append(folder)

from platform_kit import CONFIG, KEYS_ENV, LLM_CONFIG, llm_env  # noqa: E402
from quipu.testing.pytest_plugin import TEST_API_KEY  # noqa: E402
from quipu.testing.server import QuipuServer  # noqa: E402


@pytest.fixture
def flushed_redis(redis_url: str) -> None:
    """An empty Redis database: no cache entry, session or counter of an earlier test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


@pytest.fixture
def platform_app(
    make_quipu_app: Callable[..., Any], anthropic_emulator: Any, flushed_redis: None
) -> Callable[..., Any]:
    """``platform_app(extra_toml="", llm=True, env=None, plugins=(), llm_config=...)``:
    quipu with every installed plugin (and ``plugins``, extra ``(name, plugin)`` pairs);
    ``llm_config`` replaces the tests' ``[llm]`` sections."""

    def build(
        extra: str = "",
        *,
        llm: bool = True,
        env: dict[str, str] | None = None,
        plugins: list[tuple[str, object]] | None = None,
        llm_config: str = LLM_CONFIG,
    ) -> Any:
        environment = {**KEYS_ENV, **(llm_env(anthropic_emulator) if llm else {}), **(env or {})}
        config = CONFIG + llm_config + extra
        return make_quipu_app(plugins, config=config, env=environment, autoload=True)

    return build


@pytest.fixture(scope="session")
def live_quipu(_emulator_process: Any, redis_url: str) -> Iterator[QuipuServer]:
    """One ``quipu serve`` (Granian, one worker, every plugin) for the session's tests."""
    env = {
        "API_KEY": TEST_API_KEY,
        "REDIS_URL": redis_url,
        **KEYS_ENV,
        **llm_env(_emulator_process),
        "QUIPU_WORKERS": "1",
    }
    with tempfile.TemporaryDirectory(prefix="quipu-live-") as folder:
        server = QuipuServer(CONFIG + LLM_CONFIG, env, folder=Path(folder))
        try:
            server.wait_healthy()
            yield server
        finally:
            server.stop()
