"""Redis faults under load, against a real Redis process that the tests kill, restart and
freeze: quipu keeps answering, says so on ``/health``, and recovers without a restart.

quipu runs in-process (every plugin, the emulator as the model) with short probe and
breaker intervals so the tests take seconds; each test has an overall deadline.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
from dte_builders import TODAY, flat_odoo
from dte_http import HISTORY, review
from platform_kit import bounded, eventually
from quipu.testing.redis_server import RedisServer

pytestmark = pytest.mark.slow

SOCKET_TIMEOUT_S = 0.2
FAST = f"""
[platform]
health_probe_interval_s = 0.2

[redis]
socket_timeout_s = {SOCKET_TIMEOUT_S}
connect_timeout_s = {SOCKET_TIMEOUT_S}
breaker_failures = 3
breaker_probe_interval_s = 0.2

[plugins.dte.rate_limits]
default = "100000/minute"

[plugins.previred.rate_limits]
default = "100000/minute"
"""
VALIDATE = "/api/ai/validate"
INDICATORS = "/api/payroll/indicators/2025-07"


@pytest.fixture(autouse=True)
def pin_today(monkeypatch: pytest.MonkeyPatch) -> None:
    from quipu_dte import clock

    monkeypatch.setattr(clock, "today_in", lambda zone: TODAY)


@pytest.fixture
def redis_proc() -> Any:
    """A Redis of this test only: killing it leaves the session's Redis alone."""
    with RedisServer() as server:
        yield server


class Load:
    """Clients sending validations and indicator reads until stopped; every answer kept."""

    def __init__(self, client: Any, documents: int = 4) -> None:
        self.client = client
        self.bodies = [
            {"dte_data": flat_odoo() | {"folio": str(500 + n)}, "history": HISTORY, "company_id": 1}
            for n in range(documents)
        ]
        self.answers: list[tuple[str, int, float, str]] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _one(self, worker: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            started = time.perf_counter()
            if (worker + n) % 2:
                response = await self.client.post(VALIDATE, json=self.bodies[n % len(self.bodies)])
                route = VALIDATE
            else:
                response = await self.client.get(INDICATORS)
                route = INDICATORS
            elapsed = time.perf_counter() - started
            status = response.headers.get("cache-status", "")
            self.answers.append((route, response.status_code, elapsed, status))
            await asyncio.sleep(0.01)

    def start(self, workers: int = 6) -> None:
        self._tasks = [asyncio.create_task(self._one(w)) for w in range(workers)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def since(self, mark: int) -> list[tuple[str, int, float, str]]:
        return self.answers[mark:]


async def health(client: Any) -> dict[str, Any]:
    response = await client.get("/health")
    assert response.status_code == 200  # the ERP treats anything else as down
    body: dict[str, Any] = response.json()
    return body


async def test_redis_killed_under_load_then_restarted(
    platform_app: Callable[..., Any],
    quipu_client: Any,
    anthropic_emulator: Any,
    redis_proc: RedisServer,
) -> None:
    """Injected: Redis killed (SIGKILL) while 6 clients send DTE validations (AI review
    cached in Redis) and indicator reads; later restarted on the same port.
    Seen: no 5xx at any time; answers while Redis is down say
    ``detail=redis-unavailable`` or come from this process's L1; ``/health`` answers 200
    ``degraded`` naming redis; after the restart, with the same quipu, ``/health`` is
    ``healthy`` again and answers are stored in Redis again."""
    anthropic_emulator.script(review())
    app = platform_app(FAST, env={"REDIS_URL": redis_proc.url})

    async def scenario() -> None:
        async with quipu_client(app) as client:
            load = Load(client)
            load.start()
            await asyncio.sleep(0.6)
            redis_proc.stop()
            down_mark = len(load.answers)
            assert await eventually(lambda: _status_is(client, "degraded"), 5.0), (
                "health never said degraded"
            )
            reasons = (await health(client))["degraded_reasons"]
            assert any(r.startswith("redis") for r in reasons), reasons
            await asyncio.sleep(0.8)
            up_mark = len(load.answers)
            redis_proc.start()
            assert await eventually(lambda: _status_is(client, "healthy"), 5.0), (
                "quipu did not recover without a restart"
            )
            # A new document after recovery is stored in Redis again (not only in L1).
            fresh = {
                "dte_data": flat_odoo() | {"folio": "999"},
                "history": HISTORY,
                "company_id": 1,
            }
            stored = await client.post(VALIDATE, json=fresh)
            await asyncio.sleep(0.5)
            await load.stop()

        statuses = [a[1] for a in load.answers]
        assert statuses, "the load ran"
        assert max(statuses) < 500, [a for a in load.answers if a[1] >= 500][:5]
        assert set(statuses) == {200}
        during = load.since(down_mark)[: up_mark - down_mark]
        assert during, "requests were served while Redis was down"
        validations_down = [a for a in during if a[0] == VALIDATE]
        assert any("redis-unavailable" in a[3] or "detail=l1" in a[3] for a in validations_down)
        assert stored.status_code == 200
        assert "redis-unavailable" not in stored.headers["cache-status"]
        assert await eventually(lambda: _redis_has(redis_proc.url, "dte:validation:*"), 3.0)

    await bounded(40, scenario())


async def test_redis_frozen_requests_stay_within_the_timeout(
    platform_app: Callable[..., Any],
    quipu_client: Any,
    anthropic_emulator: Any,
    redis_proc: RedisServer,
) -> None:
    """Injected: Redis frozen with SIGSTOP (connections open, no answer: a slow Redis)
    while clients send new validations and indicator reads; then SIGCONT.
    Seen: every answer 200, each within the configured Redis timeout (0.2 s) per Redis
    touch (rate-limit count, cache lookup, LLM cost ledger) plus a margin; the
    breaker opens after 3 timeouts so later requests skip Redis; after SIGCONT the breaker
    closes and ``/health`` is healthy again. A bound, not a benchmark."""
    anthropic_emulator.script(review())
    app = platform_app(FAST, env={"REDIS_URL": redis_proc.url})
    assert redis_proc._proc is not None
    pid = redis_proc._proc.pid
    margin_s = 1.5

    async def scenario() -> None:
        async with quipu_client(app) as client:
            warm = await client.get(INDICATORS)
            assert warm.status_code == 200
            redis_proc._proc.send_signal(signal.SIGSTOP)
            try:
                load = Load(client, documents=8)
                load.start(workers=4)
                await asyncio.sleep(1.5)
                await load.stop()
                frozen_health = await health(client)
            finally:
                redis_proc._proc.send_signal(signal.SIGCONT)
            assert await eventually(lambda: _status_is(client, "healthy"), 5.0)

        assert load.answers
        assert {a[1] for a in load.answers} == {200}
        slowest = max(a[2] for a in load.answers)
        # Each Redis touch of a request waits at most the timeout: the rate-limit count and
        # the cache lookup (until the breaker opens) and the LLM cost ledger of a review.
        assert slowest < 3 * SOCKET_TIMEOUT_S + margin_s, slowest
        assert frozen_health["status"] == "degraded"
        assert any(r.startswith("redis") for r in frozen_health["degraded_reasons"])

    await bounded(30, scenario())
    assert pid == redis_proc._proc.pid  # the same process was frozen and thawed


async def test_chat_without_redis_answers_503_then_recovers(
    platform_app: Callable[..., Any],
    quipu_client: Any,
    anthropic_emulator: Any,
    redis_proc: RedisServer,
) -> None:
    """Injected: Redis killed; the chat keeps its sessions there. Seen: 503 with
    ``Retry-After`` and a detail naming Redis on every chat route (it was a 500 with an
    "internal error" before), while DTE validation still answers 200; after the restart
    the same quipu answers the chat again."""
    app = platform_app(FAST, env={"REDIS_URL": redis_proc.url})

    async def scenario() -> None:
        async with quipu_client(app) as client:
            redis_proc.stop()
            refused = [
                await client.post("/api/chat/session/new"),
                await client.post("/api/chat/message", json={"message": "hola"}),
                await client.post("/api/chat", json={"message": "hola"}),
            ]
            validated = await client.post(VALIDATE, json={"dte_data": flat_odoo(), "company_id": 1})
            redis_proc.start()
            assert await eventually(lambda: _status_is(client, "healthy"), 5.0)
            answered = await client.post("/api/chat/message", json={"message": "hola"})
        for response in refused:
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert "Redis cannot be reached" in response.json()["detail"]
        assert validated.status_code == 200
        assert answered.status_code == 200, answered.text

    await bounded(20, scenario())


async def test_health_says_degraded_within_a_second_of_redis_dying(
    platform_app: Callable[..., Any],
    quipu_client: Any,
    anthropic_emulator: Any,
    redis_proc: RedisServer,
) -> None:
    """Injected: Redis killed (SIGKILL) while quipu is idle, at the default intervals (a
    health round every 5 s). Seen: ``/health`` says ``degraded``, redis ``down``, within
    1 s (the cache's subscription breaks at once and the breaker trips), and a chat
    request answered 503 agrees with it; after the restart, ``healthy`` again."""
    app = platform_app(env={"REDIS_URL": redis_proc.url})

    async def scenario() -> None:
        async with quipu_client(app) as client:
            before = await health(client)
            redis_proc.stop()
            killed = time.monotonic()
            assert await eventually(lambda: _status_is(client, "degraded"), 1.0, every_s=0.02)
            took = time.monotonic() - killed
            after = await health(client)
            chat = await client.post("/api/chat/session/new")
            redis_proc.start()
            assert await eventually(lambda: _status_is(client, "healthy"), 5.0)
        assert before["status"] == "healthy"
        assert before["dependencies"]["redis"]["status"] == "up"
        assert took < 1.0
        assert after["dependencies"]["redis"]["status"] == "down"
        assert any(r.startswith("redis") for r in after["degraded_reasons"])
        assert chat.status_code == 503

    await bounded(20, scenario())


async def _status_is(client: Any, status: str) -> bool:
    return (await health(client))["status"] == status


async def _redis_has(url: str, pattern: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        return bool([k async for k in client.scan_iter(match=pattern)])
    finally:
        await client.aclose()
