"""Fixtures of the DTE plugin's HTTP tests: the app on a real Redis, the emulator, a fixed date."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from dte_builders import TODAY

BASE_CONFIG = """
[[auth.keys]]
name = "empresa-1"
env = "KEY_EMPRESA_1"
companies = [1]
roles = ["client"]

[llm]
deadline_s = 5

[llm.retry]
max_attempts = 1
base_delay_s = 0.01
max_delay_s = 0.02
"""


@pytest.fixture
def pin_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validate as on 2025-10-23 in Chile, the date the builders' documents were made for."""
    from quipu_dte import clock

    monkeypatch.setattr(clock, "today_in", lambda zone: TODAY)


@pytest.fixture
async def flush_redis(redis_url: str) -> None:
    """An empty Redis database: no AI review cached by an earlier test."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def dte_app(
    make_quipu_app: Callable[..., Any], pin_today: None, flush_redis: None
) -> Callable[..., Any]:
    """``dte_app(dte="ai_review = 'always'", llm=emulator_or_None)``: the app with the plugin."""
    from quipu_dte import plugin

    def build(
        dte: str = "", *, llm: Any = None, extra: str = "", env: dict[str, str] | None = None
    ) -> Any:
        env = {"KEY_EMPRESA_1": "key-empresa-1", **(env or {})}
        if llm is not None:
            env |= {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": llm.url}
        config = f"{BASE_CONFIG}{extra}\n[plugins.dte]\n{dte}\n"
        return make_quipu_app([("dte", plugin)], config=config, env=env)

    return build
