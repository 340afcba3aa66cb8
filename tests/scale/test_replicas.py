"""Three ``quipu serve`` processes (separate ports, one Granian worker each) on one Redis
deployment: what one replica does, the others see. Cache entries, invalidations, chat
sessions, rate limits and the cost ledger live in Redis (or travel through it), never in
one process. Every check runs on one server, on a 3-master Cluster and on a Sentinel set.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from dte_builders import flat_odoo
from dte_http import HISTORY, review
from platform_kit import AUTH_1, AUTH_ADMIN, AUTH_METRICS, FULL, messages_calls
from quipu.testing.server import QuipuServer
from redis_topologies import Cluster, Sentinel, Standalone, Topology
from scale_kit import VALIDATE, clients, instances, metric, poll

pytestmark = [pytest.mark.slow, pytest.mark.scale]

RATE = 20
EXTRA = f"""
[plugins.previred.rate_limits]
default = "{RATE}/hour"
"""
INDICATORS = "/api/payroll/indicators/1999-01"  # nobody has it: a 404, never a fetch


@pytest.fixture(scope="module", params=["standalone", "cluster", "sentinel"])
def topology(request: pytest.FixtureRequest, redis_url: str) -> Iterator[Topology]:
    kinds: dict[str, Callable[[], Topology]] = {
        "standalone": lambda: Standalone(redis_url),
        "cluster": Cluster,
        "sentinel": Sentinel,
    }
    with kinds[request.param]() as deployment:
        yield deployment


@pytest.fixture(scope="module")
def replicas(_emulator_process: Any, topology: Topology) -> Iterator[list[QuipuServer]]:
    with instances(3, topology.url, _emulator_process, EXTRA) as servers:
        yield servers


@pytest.fixture
def flushed(topology: Topology) -> None:
    topology.flush()


@pytest.fixture
def full(replicas: list[QuipuServer], flushed: None) -> Iterator[list[httpx.Client]]:
    with clients(replicas, FULL) as http:
        yield http


@pytest.fixture
def store(topology: Topology) -> Iterator[Any]:
    with topology.client() as client:
        yield client


def validation(folio: str) -> dict[str, Any]:
    return {"dte_data": flat_odoo() | {"folio": folio}, "history": HISTORY, "company_id": 1}


def cache_status(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["cache-status"]


def same_answer(hit: dict[str, Any], computed: dict[str, Any]) -> bool:
    """The same verdict; ``ai`` says the review was ``used`` once, then ``cached``."""
    assert (computed["ai"]["status"], hit["ai"]["status"]) == ("used", "cached")
    return {**hit, "ai": None} == {**computed, "ai": None}


def warm_everywhere(full: list[httpx.Client], store: Any, body: dict[str, Any]) -> list[str]:
    """Compute ``body`` on replica 0, then read it on 1 and 2; the Cache-Status of each."""
    first = full[0].post(VALIDATE, json=body)
    statuses = [cache_status(first)]
    poll(lambda: list(store.scan_iter("dte:validation:*")), 5.0, "entry in Redis")
    for client in full[1:]:
        again = client.post(VALIDATE, json=body)
        statuses.append(cache_status(again))
        assert same_answer(again.json(), first.json())
    return statuses


def test_an_answer_computed_on_one_replica_is_a_hit_on_the_others(
    full: list[httpx.Client], store: Any, anthropic_emulator: Any
) -> None:
    anthropic_emulator.script(review())
    statuses = warm_everywhere(full, store, validation("7001"))

    assert "fwd=miss; stored" in statuses[0]
    assert all("hit" in s and "detail=redis" in s for s in statuses[1:]), statuses
    # Each replica now holds its own copy; the model was asked once for all three.
    assert all("detail=l1" in cache_status(c.post(VALIDATE, json=validation("7001"))) for c in full)
    assert len(messages_calls(anthropic_emulator)) == 1


def test_an_invalidation_on_one_replica_empties_every_replicas_l1(
    full: list[httpx.Client], store: Any, anthropic_emulator: Any, topology: Topology
) -> None:
    anthropic_emulator.script(review())
    body = validation("7002")
    warm_everywhere(full, store, body)
    assert all("detail=l1" in cache_status(c.post(VALIDATE, json=body)) for c in full)
    # A second entry: on a Cluster the two keys sit in different slots, so the removal
    # must go slot by slot (one UNLINK of both would be refused with CROSSSLOT).
    cache_status(full[0].post(VALIDATE, json=validation("7003")))
    poll(lambda: len(list(store.scan_iter("dte:validation:*"))) == 2, 5.0, "two entries")
    # Every replica listens on the invalidation channel. (On a Cluster a replica subscribes
    # only once its client has loaded the slot map, i.e. after its first keyed command: an
    # invalidation published before then does not reach it.)
    poll(lambda: topology.subscribers("quipu:cache:invalidate") >= len(full), 5.0, "subscribers")
    before = [
        metric(c, "quipu_cache_l1_evictions_total", AUTH_METRICS, reason="invalidated")
        for c in full
    ]

    dropped = full[0].delete(
        "/_platform/cache", params={"plugin": "dte", "policy": "validation"}, headers=AUTH_ADMIN
    )

    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["redis_removed"] == 2
    # Replicas 1 and 2 heard it on the pub/sub channel and dropped their L1 copies...
    for client, was in zip(full[1:], before[1:], strict=True):
        poll(
            lambda c=client, w=was: (
                metric(c, "quipu_cache_l1_evictions_total", AUTH_METRICS, reason="invalidated") > w
            ),
            5.0,
        )
    # ...so nobody serves the old answer: each lookup now goes past L1.
    for client in full:
        assert "detail=l1" not in cache_status(client.post(VALIDATE, json=body))


def test_a_chat_started_on_one_replica_continues_on_another(
    full: list[httpx.Client], anthropic_emulator: Any
) -> None:
    started = full[0].post("/api/chat/session/new", json={"context": {"company_id": 1}})
    assert started.status_code == 200, started.text
    session = started.json()["session_id"]
    first = full[0].post(
        "/api/chat/message",
        json={"message": "¿Qué es una factura electrónica tipo 33?", "session_id": session},
    )
    assert first.status_code == 200, first.text

    second = full[1].post(
        "/api/chat/message",
        json={"message": "¿Y cuándo se emite una nota de crédito?", "session_id": session},
    )

    assert second.status_code == 200, second.text
    assert second.json()["session_id"] == session
    # The model call made by replica 1 carried the turn replica 0 stored...
    sent = messages_calls(anthropic_emulator)[-1]["body"]["messages"]
    assert "factura electrónica tipo 33" in str(sent)
    # ...and replica 2 shows the whole conversation.
    history = full[2].get(f"/api/chat/session/{session}")
    assert history.status_code == 200, history.text
    messages = history.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert "nota de crédito" in messages[2]["content"]


def test_a_rate_limit_is_one_limit_across_replicas(
    replicas: list[QuipuServer], flushed: None
) -> None:
    left_in_hour = 3600 - time.time() % 3600
    if left_in_hour < 15:  # do not straddle two windows
        time.sleep(left_in_hour + 0.5)
    with clients(replicas, AUTH_1) as full:
        codes = [full[n % 3].get(INDICATORS).status_code for n in range(RATE + 9)]

    # Each replica alone would allow RATE; together they allow RATE, then refuse.
    assert 429 not in codes[:RATE], codes
    assert set(codes[RATE:]) == {429}, codes
    assert {codes[n] for n in range(RATE, RATE + 3)} == {429}  # on every replica


def test_the_cost_ledger_is_the_same_whichever_replica_answers(
    full: list[httpx.Client], anthropic_emulator: Any
) -> None:
    questions = ["¿Qué es el IVA?", "¿Qué es una boleta?", "¿Qué es el SII?"]
    for client, question in zip(full, questions, strict=True):
        assert client.post("/api/chat/message", json={"message": question}).status_code == 200

    def costs() -> list[dict[str, Any]] | None:
        answers = [c.get("/metrics/costs", params={"period": "today"}).json() for c in full]
        calls = len(messages_calls(anthropic_emulator))
        done = answers[0]["summary"]["total_calls"] == calls
        return answers if done and answers[1] == answers[0] == answers[2] else None

    answers = poll(costs, 5.0, "the same costs on every replica")
    assert answers[0]["source"] == "redis"
    assert answers[0]["summary"]["total_calls"] >= len(questions)
    assert answers[0]["summary"]["total_cost_usd"] > 0


def test_no_replica_saw_a_redis_error(replicas: list[QuipuServer]) -> None:
    """The checks above passed with Redis answering every command (on a Cluster: no
    CROSSSLOT, no MOVED left unfollowed), not by falling back to per-process state."""
    shared_state = ("quipu.cache", "quipu.llm.ledger", "quipu.security.ratelimit", "quipu.chat")
    with clients(replicas, AUTH_METRICS) as http:
        for client, server in zip(http, replicas, strict=True):
            assert metric(client, "quipu_cache_redis_errors_total", AUTH_METRICS) == 0
            for line in server.output().splitlines():
                if line.startswith("{"):
                    record = json.loads(line)
                    assert not (
                        record["level"] in ("warning", "error")
                        and record["logger"].startswith(shared_state)
                        and "REDIS_URL unset" not in record["msg"]
                    ), line


def test_the_keys_of_a_multi_key_operation_share_a_cluster_slot() -> None:
    """Chat's scripts and transactions touch a session's two keys together: one slot."""
    from quipu_chat.sessions import SessionStore, new_session_id
    from redis.crc import key_slot

    meta, turns = SessionStore._keys(new_session_id())
    assert key_slot(meta.encode()) == key_slot(turns.encode())
