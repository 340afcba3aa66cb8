"""Gateway fixtures: settings pointing at the emulator, a real Redis for the ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis
from quipu.api import PromptTemplate
from quipu.config import load_settings
from quipu.llm import LlmGateway

#: Long enough (about 3,000 estimated tokens) to pass every model's cache minimum.
RULES = "Regla: el IVA de una factura afecta es el 19% del monto neto, redondeado. " * 130
PROMPTS = {
    "acme.review@1": PromptTemplate(
        name="review",
        version="1",
        system_blocks=(RULES,),
        user_template="Revisa este documento:\n{document}",
        max_tokens=200,
    ),
    "acme.short@1": PromptTemplate(
        name="short",
        version="1",
        system_blocks=("Responde breve.",),
        user_template="{question}",
        max_tokens=50,
    ),
}


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Any]:
    client = redis.Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def make_gateway(
    anthropic_emulator: Any, redis_client: Any, tmp_path: Path
) -> AsyncIterator[Callable[..., LlmGateway]]:
    """``make_gateway(toml="[llm]\\n...")``: a gateway on the emulator, closed afterwards."""
    made: list[LlmGateway] = []

    def build(toml: str = "", *, key: bool = True) -> LlmGateway:
        cfg = tmp_path / "platform.toml"
        cfg.write_text("[llm.retry]\nbase_delay_s = 0.01\nmax_delay_s = 0.05\n" + toml)
        env = {"ANTHROPIC_BASE_URL": anthropic_emulator.url}
        if key:
            env["ANTHROPIC_API_KEY"] = "test-key"
        gateway = LlmGateway(load_settings(cfg, env=env), PROMPTS, redis=redis_client)
        made.append(gateway)
        return gateway

    yield build
    for gateway in made:
        await gateway.aclose()
