"""The Sentinel master killed (SIGKILL) under load: two ``quipu serve`` replicas keep
answering validations, chat recovers once the Sentinels promote the replica, and what was
written before the kill is still there.

Measured (and printed; written as JSON to ``$QUIPU_SCALE_REPORT`` when set): non-2xx
answers by route, seconds from the kill until chat writes succeed again and until the cache
stores in Redis again, and data lost (sessions, ledger calls). Sentinels call the master
down after 1 s (``down-after-milliseconds``; production setups use 5-30 s, which adds
that much to every figure here).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dte_builders import flat_odoo
from dte_http import HISTORY, review
from platform_kit import AUTH_METRICS, FULL
from quipu.testing.server import QuipuServer
from redis_topologies import Sentinel
from scale_kit import FAST_REDIS, VALIDATE, instances, metric

pytestmark = [pytest.mark.slow, pytest.mark.scale]

SESSIONS_BEFORE = 12
DOWN_AFTER_MS = 1000


@pytest.fixture
def sentinel() -> Iterator[Sentinel]:
    with Sentinel(sentinels=3, down_after_ms=DOWN_AFTER_MS) as deployment:
        yield deployment


@pytest.fixture
def pair(_emulator_process: Any, sentinel: Sentinel) -> Iterator[list[QuipuServer]]:
    with instances(2, sentinel.url, _emulator_process, FAST_REDIS) as servers:
        yield servers


class Load:
    """Threads sending requests to alternate replicas until stopped; every answer kept as
    ``(monotonic time, route, status, cache-status)``."""

    def __init__(self, servers: list[QuipuServer]) -> None:
        self.servers = servers
        self.answers: list[tuple[float, str, int, str]] = []
        self.stopped = threading.Event()
        self.threads: list[threading.Thread] = []

    def _run(self, worker: int, send: Any) -> None:
        clients = [httpx.Client(base_url=s.url, headers=FULL, timeout=10.0) for s in self.servers]
        n = 0
        try:
            while not self.stopped.is_set():
                n += 1
                route, response = send(clients[(worker + n) % len(clients)], worker, n)
                status = response.headers.get("cache-status", "")
                self.answers.append((time.monotonic(), route, response.status_code, status))
                time.sleep(0.02)
        finally:
            for client in clients:
                client.close()

    def start(self, send: Any, workers: int) -> None:
        for _ in range(workers):
            thread = threading.Thread(target=self._run, args=(len(self.threads), send))
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(30)


def validate(client: httpx.Client, worker: int, n: int) -> tuple[str, httpx.Response]:
    # Half repeat four documents (cache hits), half are new (misses that store).
    folio = str(8000 + n % 4) if n % 2 else f"{9000 + worker}{n}"
    body = {"dte_data": flat_odoo() | {"folio": folio}, "history": HISTORY, "company_id": 1}
    return "validate", client.post(VALIDATE, json=body)


def chat_in(session: str) -> Any:
    def send(client: httpx.Client, worker: int, n: int) -> tuple[str, httpx.Response]:
        message = {"message": f"Pregunta número {worker}-{n} sobre el IVA", "session_id": session}
        return "chat", client.post("/api/chat/message", json=message)

    return send


def ledger_gap(http: list[httpx.Client]) -> int:
    """Model calls the replicas made (each its own counter) minus those the shared ledger
    holds: calls whose cost never reached Redis."""
    made = sum(metric(c, "quipu_llm_requests_total", AUTH_METRICS, outcome="ok") for c in http)
    ledger = http[0].get("/metrics/costs", params={"period": "today"}).json()
    return int(made) - int(ledger["summary"]["total_calls"])


def recovered_at(answers: list[tuple[float, str, int, str]], route: str, kill: float) -> float:
    """Seconds from the kill to the first success of ``route`` after its last failure."""
    mine = [a for a in answers if a[1] == route and a[0] > kill]
    failures = [a[0] for a in mine if a[2] >= 300]
    last_failure = max(failures, default=kill)
    after = [a[0] for a in mine if a[0] > last_failure and a[2] < 300]
    assert after, f"{route} never succeeded again after the kill"
    return min(after) - kill


def test_sentinel_master_killed_under_load(
    sentinel: Sentinel, pair: list[QuipuServer], anthropic_emulator: Any
) -> None:
    anthropic_emulator.script(review())
    http = [httpx.Client(base_url=s.url, headers=FULL, timeout=10.0) for s in pair]
    # Written and acknowledged before the fault: these must survive it.
    sessions = {}
    for n in range(SESSIONS_BEFORE):
        answer = http[n % 2].post(
            "/api/chat/message", json={"message": f"Hola {n}, ¿qué es el SII?"}
        )
        assert answer.status_code == 200, answer.text
        sessions[answer.json()["session_id"]] = 2  # one question, one answer
    chat_session = next(iter(sessions))
    # The measurement of ledger loss below holds: before the fault, nothing is missing.
    assert ledger_gap(http) == 0
    time.sleep(0.5)  # replication is asynchronous: let the replica catch up, as it would

    load = Load(pair)
    load.start(validate, workers=3)
    load.start(chat_in(chat_session), workers=1)
    time.sleep(1.5)
    old_master = sentinel.master_port()
    kill = time.monotonic()
    sentinel.master.kill()
    try:
        deadline = kill + 25
        while time.monotonic() < deadline:
            time.sleep(0.25)
            settled = [a for a in load.answers if a[0] > time.monotonic() - 1.5]
            promoted = sentinel.master_port() != old_master
            if promoted and settled and all(a[2] < 300 for a in settled):
                stored = [a for a in settled if a[1] == "validate" and "stored" in a[3]]
                if stored and all("redis-unavailable" not in a[3] for a in stored):
                    break
        time.sleep(1.0)
    finally:
        load.stop()

    answers = load.answers
    during = [a for a in answers if a[0] > kill]
    non_2xx = {
        route: sum(1 for a in during if a[1] == route and not 200 <= a[2] < 300)
        for route in ("validate", "chat")
    }
    statuses = sorted({a[2] for a in during if a[1] == "chat"})
    chat_back = recovered_at(answers, "chat", kill)
    cache_back = min(
        (
            a[0] - kill
            for a in during
            if a[1] == "validate"
            and "stored" in a[3]
            and "redis-unavailable" not in a[3]
            and a[0] > kill + DOWN_AFTER_MS / 1000
        ),
        default=float("inf"),
    )
    # What the promoted replica still has of what was acknowledged before the kill.
    lost_sessions = 0
    for session, turns in sessions.items():
        found = http[0].get(f"/api/chat/session/{session}")
        if found.status_code != 200 or found.json()["message_count"] < turns:
            lost_sessions += 1
    ledger = http[1].get("/metrics/costs", params={"period": "today"}).json()
    model_calls = ledger["summary"]["total_calls"] + ledger_gap(http)
    figures = {
        "requests_after_kill": len(during),
        "validate_requests_after_kill": sum(1 for a in during if a[1] == "validate"),
        "non_2xx_after_kill": non_2xx,
        "chat_statuses_after_kill": statuses,
        "seconds_until_chat_writes_succeed": round(chat_back, 2),
        "seconds_until_cache_stores_in_redis": round(cache_back, 2),
        "sessions_lost": lost_sessions,
        "sessions_written_before_kill": len(sessions),
        "model_calls": int(model_calls),
        "ledger_calls": ledger["summary"]["total_calls"],
        "ledger_calls_lost": int(model_calls) - ledger["summary"]["total_calls"],
        "ledger_source": ledger["source"],
    }
    print("sentinel failover:", json.dumps(figures))
    if os.environ.get("QUIPU_SCALE_REPORT"):
        with open(os.environ["QUIPU_SCALE_REPORT"], "w") as out:
            json.dump(figures, out, indent=2)
    for client in http:
        client.close()

    assert figures["validate_requests_after_kill"] > 20
    assert non_2xx["validate"] == 0, figures
    assert chat_back < 10, figures
    assert lost_sessions == 0, figures
    assert ledger["source"] == "redis"
