"""Fixtures of the payroll plugin's HTTP tests: the app with the payroll and previred
plugins, a clean Redis, the Anthropic emulator when asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from payroll_kit import BASE_CONFIG, SCOPED_KEY


@pytest.fixture
def flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


@pytest.fixture
def payroll_app(
    make_quipu_app: Callable[..., Any], flush_redis: None, request: pytest.FixtureRequest
) -> Callable[..., Any]:
    """``payroll_app(payroll="", llm=None)``: payroll + previred; ``llm`` is the emulator."""
    from quipu_payroll import plugin as payroll
    from quipu_previred import plugin as previred

    def build(payroll_section: str = "", *, llm: Any = None) -> Any:
        env = {"PAYROLL_SCOPED_KEY": SCOPED_KEY}
        if llm is not None:
            env |= {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": llm.url}
        config = BASE_CONFIG + "\n[plugins.previred]\nfetch_urls = []\n"
        if payroll_section:
            config += "\n[plugins.payroll]\n" + payroll_section
        return make_quipu_app(
            [("payroll", payroll), ("previred", previred)], config=config, env=env
        )

    return build
