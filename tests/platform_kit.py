"""What the assembled-platform tests share: keys, the test config, a live ``quipu serve``.

The keys: the fixtures' full-access ``API_KEY`` (every company, every role), two client
keys scoped to company 1 and company 2, a ``metrics``-only key and an ``admin``-only key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from quipu.testing.pytest_plugin import TEST_API_KEY

T = TypeVar("T")

KEY_1 = "platform-key-company-1-0123456789abcdef"
KEY_2 = "platform-key-company-2-0123456789abcdef"
KEY_METRICS = "platform-key-metrics-0123456789abcdef"
KEY_ADMIN = "platform-key-admin-only-0123456789abcdef"
AUTH_1 = {"Authorization": f"Bearer {KEY_1}"}
AUTH_2 = {"Authorization": f"Bearer {KEY_2}"}
AUTH_METRICS = {"Authorization": f"Bearer {KEY_METRICS}"}
AUTH_ADMIN = {"Authorization": f"Bearer {KEY_ADMIN}"}
FULL = {"Authorization": f"Bearer {TEST_API_KEY}"}
KEYS_ENV = {
    "QUIPU_T_KEY_1": KEY_1,
    "QUIPU_T_KEY_2": KEY_2,
    "QUIPU_T_KEY_METRICS": KEY_METRICS,
    "QUIPU_T_KEY_ADMIN": KEY_ADMIN,
}

#: Keys, no Previred download (a month nobody has is a 404, not a fetch).
CONFIG = """
[[auth.keys]]
name = "empresa-1"
env = "QUIPU_T_KEY_1"
companies = [1]
roles = ["client"]

[[auth.keys]]
name = "empresa-2"
env = "QUIPU_T_KEY_2"
companies = [2]
roles = ["client"]

[[auth.keys]]
name = "scraper"
env = "QUIPU_T_KEY_METRICS"
roles = ["metrics"]

[[auth.keys]]
name = "operador"
env = "QUIPU_T_KEY_ADMIN"
companies = "*"
roles = ["admin"]

[plugins.previred]
fetch_urls = []

[plugins.chat]
keepalive_s = 0.2
"""


#: The LLM settings of the tests unless one gives its own: short deadline and retries.
LLM_CONFIG = """
[llm]
deadline_s = 5

[llm.retry]
max_attempts = 2
base_delay_s = 0.01
max_delay_s = 0.02
"""


def llm_env(emulator: Any) -> dict[str, str]:
    """Environment pointing quipu's LLM gateway at the emulator."""
    return {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": emulator.url}


def messages_calls(emulator: Any, limit: int = 200) -> list[dict[str, Any]]:
    """The ``POST /v1/messages`` requests the emulator logged, oldest first."""
    log = emulator.requests(limit=limit)["requests"]
    return [r for r in log if r["path"] == "/v1/messages"]


async def bounded(seconds: float, work: Awaitable[T]) -> T:
    """``work`` under an overall deadline: a fault test must never hang the suite."""
    async with asyncio.timeout(seconds):
        return await work


async def eventually(
    probe: Callable[[], Awaitable[bool]], timeout_s: float, every_s: float = 0.05
) -> bool:
    """Poll ``probe`` until it is true or ``timeout_s`` passes; whether it became true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await probe():
            return True
        await asyncio.sleep(every_s)
    return await probe()
