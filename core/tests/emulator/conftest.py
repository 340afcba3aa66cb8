"""One emulator subprocess for the whole session, reset before every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anthropic
import pytest
from quipu.testing.emulator import EmulatorConfig, EmulatorProcess

SESSION_CONFIG = EmulatorConfig(reply_words=12, slow_first_token_ms=600, hang_s=10)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(SESSION_CONFIG) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator: EmulatorProcess) -> None:
    emulator.reset()


@pytest.fixture
async def client(emulator: EmulatorProcess) -> AsyncIterator[anthropic.AsyncAnthropic]:
    # max_retries=0: error-mapping tests must see the first answer, not a retried one.
    async with anthropic.AsyncAnthropic(
        base_url=emulator.url, api_key="test-key", max_retries=0
    ) as sdk:
        yield sdk
