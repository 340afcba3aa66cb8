"""The gateway seen through HTTP: 413 and 503 answers, /metrics/costs, health."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from litestar import Request, post
from litestar.params import JSONBody
from quipu.api import Caller, Plugin, PromptTemplate, hookimpl

RULES = "Regla: el IVA es el 19% del neto, redondeado al peso. " * 200


class Ask(msgspec.Struct):
    company_id: int
    question: str


@post("/api/acme/ask")
async def ask(
    request: Request[Any, Any, Any], data: JSONBody[Ask], principal: Caller, plugin: Plugin[Any]
) -> dict[str, Any]:
    principal.require_company(data.company_id)
    result = await plugin.llm_for(request).complete(
        plugin="acme", prompt="answer", company=data.company_id, data={"question": data.question}
    )
    return {"answer": result.text, "cost_usd": result.cost_usd}


class AcmePlugin:
    @hookimpl
    def register_routes(self) -> list[Any]:
        return [ask]

    @hookimpl
    def register_prompts(self) -> list[PromptTemplate]:
        return [
            PromptTemplate(
                name="answer",
                version="1",
                system_blocks=(RULES,),
                user_template="{question}",
                max_tokens=100,
            )
        ]


SCOPED = """
[llm]
max_tokens_per_request = 5000

[llm.retry]
base_delay_s = 0.01

[llm.breaker]
min_calls = 2
cooldown_s = 60

[[auth.keys]]
name = "empresa-1"
env = "KEY_1"
companies = [1]
"""


@pytest.fixture
def app(make_quipu_app: Callable[..., Any], anthropic_emulator: Any, redis_url: str) -> Any:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": anthropic_emulator.url, "KEY_1": "key-1"}
    return make_quipu_app([("acme", AcmePlugin())], config=SCOPED, env=env)


async def test_costs_by_period_and_company(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        first = await client.post("/api/acme/ask", json={"company_id": 1, "question": "¿IVA?"})
        await client.post("/api/acme/ask", json={"company_id": 2, "question": "¿UF?"})
        everything = (await client.get("/metrics/costs", params={"period": "today"})).json()
        yesterday = (await client.get("/metrics/costs", params={"period": "yesterday"})).json()
        bad = await client.get("/metrics/costs", params={"period": "last_week"})
        scoped = await client.get(
            "/metrics/costs",
            params={"period": "this_month"},
            headers={"Authorization": "Bearer key-1"},
        )
        forbidden = await client.get(
            "/metrics/costs", params={"company_id": 2}, headers={"Authorization": "Bearer key-1"}
        )
    assert first.status_code == 201
    assert everything["summary"]["total_calls"] == 2
    assert everything["by_operation"]["acme.answer"]["calls"] == 2
    assert everything["by_model"]["claude-sonnet-4-6"]["cost_usd"] > 0
    assert yesterday["summary"]["total_calls"] == 0
    assert bad.status_code in (400, 422)
    assert "period" in bad.json()["detail"]
    assert scoped.json()["summary"]["total_calls"] == 1
    assert scoped.json()["summary"]["total_cost_usd"] == pytest.approx(
        first.json()["cost_usd"], abs=1e-6
    )
    assert forbidden.status_code == 403


async def test_too_large_is_413_and_nothing_is_sent(
    app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    async with quipu_client(app) as client:
        response = await client.post(
            "/api/acme/ask", json={"company_id": 1, "question": "palabra " * 20000}
        )
    assert response.status_code == 413
    assert "over the limit of 5000" in response.json()["detail"]
    paths = [r["path"] for r in anthropic_emulator.requests()["requests"]]
    assert "/v1/messages" not in paths  # at most an exact count_tokens, never the call


async def test_open_breaker_is_503_with_retry_after_and_health_says_why(
    app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    anthropic_emulator.faults({"fault": "529-no-retry"})
    async with quipu_client(app) as client:
        for _ in range(2):
            assert (
                await client.post("/api/acme/ask", json={"company_id": 1, "question": "?"})
            ).status_code == 502
        refused = await client.post("/api/acme/ask", json={"company_id": 1, "question": "?"})
        health = (await client.get("/health")).json()
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1
    assert health["status"] == "degraded"
    assert "circuit breaker open" in health["dependencies"]["llm"]["detail"]


def test_short_cacheable_prompt_is_warned_at_start_up(
    make_quipu_app: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    class Tiny:
        @hookimpl
        def register_prompts(self) -> list[PromptTemplate]:
            return [
                PromptTemplate(
                    name="tiny", version="1", system_blocks=("Sé breve.",), user_template="{q}"
                )
            ]

    make_quipu_app([("tiny", Tiny())])
    assert "prompt tiny.tiny@1: its cacheable prefix is about" in caplog.text
    assert "below the 2048 that claude-sonnet-4-6 caches" in caplog.text


def _timings(header: str) -> dict[str, float]:
    return {name: float(value) for name, value in re.findall(r"([\w-]+);dur=([0-9.]+)", header)}


async def test_server_timing_and_metric_carry_the_llm_overhead(
    app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    from prometheus_client import REGISTRY

    labels = {"plugin": "acme", "model": "claude-sonnet-4-6"}
    before = REGISTRY.get_sample_value("quipu_llm_overhead_seconds_count", labels) or 0.0
    anthropic_emulator.configure(ttft_ms=40)  # a model that takes a visible time
    async with quipu_client(app) as client:
        response = await client.post("/api/acme/ask", json={"company_id": 1, "question": "¿IVA?"})
        plain = await client.get("/health")
    timings = _timings(response.headers["server-timing"])
    # The model's 40 ms are in `llm`, not in quipu's `overhead`; both within the app's time.
    assert timings["llm"] >= 40
    assert 0 < timings["overhead"] < timings["llm"]
    assert timings["llm"] + timings["overhead"] <= timings["app"] + 0.1
    assert "llm;dur=" in response.headers["server-timing"]
    assert "llm" not in _timings(plain.headers["server-timing"])
    after = REGISTRY.get_sample_value("quipu_llm_overhead_seconds_count", labels) or 0.0
    assert after == before + 1


def test_later_calls_update_the_totals_in_place() -> None:
    from quipu.llm.timing import LlmClock
    from quipu.observability.middleware import TIMINGS, add_timing

    scope: dict[str, Any] = {"type": "http", "state": {}}
    add_timing(scope, "auth", 0.1)
    clock = LlmClock(scope, 0.0)
    clock.after_call(0.010, 0.001, 1.0)
    add_timing(scope, "cache", 0.2)  # added between two model calls
    clock.after_call(0.020, 0.002, 2.0)
    entries = scope["state"][TIMINGS]
    assert [e.split(";")[0] for e in entries] == ["auth", "llm", "overhead", "cache"]
    assert entries[1].startswith("llm;dur=30.00")
    assert '"2 model call(s)"' in entries[1]
    assert entries[2].startswith("overhead;dur=3.00")
