"""Companies are kept apart: every cross-company attempt below is refused or misses.

quipu with every plugin, two client keys (company 1, company 2), real Redis, the emulator.
Each test states what the other company's key tried and what it saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from dte_builders import TODAY, flat_odoo
from dte_http import HISTORY, review
from payroll_examples import EXAMPLE_B, variant
from platform_kit import AUTH_1, AUTH_2, FULL, bounded, eventually, messages_calls

pytestmark = pytest.mark.slow

VALIDATE = "/api/ai/validate"
PAYROLL = "/api/payroll/validate"
WRONG_TOPE = variant(EXAMPLE_B, descuentos={"afp": 400183})
IVA_QUESTION = "¿Cómo se calcula el IVA de una factura afecta y cómo se redondea?"


@pytest.fixture(autouse=True)
def pin_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validate DTEs as on the date the builders' documents were made for."""
    from quipu_dte import clock

    monkeypatch.setattr(clock, "today_in", lambda zone: TODAY)


@pytest.fixture
def app(platform_app: Callable[..., Any]) -> Any:
    return platform_app('\n[plugins.payroll]\nai_review = "always"\n')


async def test_dte_review_cached_for_company_1_is_never_served_to_company_2(
    app: Any, quipu_client: Any, anthropic_emulator: Any, redis_url: str
) -> None:
    """Company 1 validates a document (its AI review is cached); company 2 sends the same
    document for itself: a fresh review, ``Cache-Status`` a miss, a second model call.
    Company 1's key naming company 2 in the body: 403, nothing reviewed."""
    anthropic_emulator.script(review())
    body = {"dte_data": flat_odoo(), "history": HISTORY, "company_id": 1}
    async with quipu_client(app, auth=False) as client:
        first = await client.post(VALIDATE, json=body, headers=AUTH_1)
        again = await client.post(VALIDATE, json=body, headers=AUTH_1)
        other = await client.post(VALIDATE, json=body | {"company_id": 2}, headers=AUTH_2)
        posing = await client.post(VALIDATE, json=body | {"company_id": 2}, headers=AUTH_1)
    assert first.json()["ai"]["status"] == "used"
    assert again.headers["cache-status"].startswith("quipu; hit")  # the cache works...
    assert other.status_code == 200
    assert other.json()["ai"]["status"] == "used"  # ...but not across companies
    assert other.headers["cache-status"].startswith("quipu; fwd=miss")
    assert posing.status_code == 403
    assert "may not act for company 2" in posing.json()["detail"]
    assert len(messages_calls(anthropic_emulator)) == 2
    # Each review is stored under its own company's key: dte:validation:v<n>:<company>:<digest>.
    assert await eventually(lambda: _companies_in_redis(redis_url, "dte:validation:*"), 5.0)


async def _companies_in_redis(url: str, pattern: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        keys = [k.decode() async for k in client.scan_iter(match=pattern)]
    finally:
        await client.aclose()
    return sorted(k.split(":")[3] for k in keys) == ["1", "2"]


async def test_payroll_review_cached_for_company_1_is_never_served_to_company_2(
    app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    """The same slip from both companies' keys (Odoo sends no company_id): company 2 gets
    its own review (``ai.status`` used, not company 1's stored answer); a slip naming
    company 2 sent with company 1's key: 403."""
    anthropic_emulator.script(
        {
            "tool": "record_observations",
            "tool_use": [{"name": "record_observations", "input": {"observations": []}}],
        }
    )
    async with quipu_client(app, auth=False) as client:
        one = await client.post(PAYROLL, json=WRONG_TOPE, headers=AUTH_1)
        one_again = await client.post(PAYROLL, json=WRONG_TOPE, headers=AUTH_1)
        two = await client.post(PAYROLL, json=WRONG_TOPE, headers=AUTH_2)
        posing = await client.post(PAYROLL, json=WRONG_TOPE | {"company_id": 2}, headers=AUTH_1)
    assert one.json()["ai"]["status"] == "used"
    # The same bytes from the same company: its stored answer, byte for byte.
    assert one_again.headers["cache-status"].startswith("quipu; hit")
    assert one_again.content == one.content
    # The same bytes from company 2: never company 1's answer, a review of its own.
    assert not two.headers.get("cache-status", "").startswith("quipu; hit")
    assert two.json()["ai"]["status"] == "used"
    assert posing.status_code == 403
    assert len(messages_calls(anthropic_emulator)) == 2


async def test_chat_answers_cached_for_company_1_are_never_served_to_company_2(
    app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    """A stateless question answered (and cached) for company 1, asked again by company 2:
    a miss and a model call of its own."""
    async with quipu_client(app, auth=False) as client:
        first = await client.post(
            "/api/chat/message", json={"message": IVA_QUESTION}, headers=AUTH_1
        )
        again = await client.post(
            "/api/chat/message", json={"message": IVA_QUESTION}, headers=AUTH_1
        )
        other = await client.post(
            "/api/chat/message", json={"message": IVA_QUESTION}, headers=AUTH_2
        )
    assert first.json()["confidence"] > 80, first.json()  # cacheable
    assert again.headers["cache-status"].startswith("quipu; hit")
    assert other.status_code == 200
    assert other.headers["cache-status"].startswith("quipu; fwd=miss")
    assert other.json()["usage"].get("cached") is not True
    assert len(messages_calls(anthropic_emulator)) == 2


async def test_chat_sessions_of_company_1_are_closed_to_company_2(
    app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    """Company 2's key reads, writes to, streams into and deletes company 1's session
    naming company 1: 403 each. Using the bare id, it reaches only a session of its own.
    Nothing of company 1's reaches the model or company 2; company 1's session is intact."""
    async with quipu_client(app, auth=False) as client:
        sid = (await client.post("/api/chat/session/new", headers=AUTH_1)).json()["session_id"]
        await client.post(
            "/api/chat/message",
            json={"message": "mi RUT es 12.345.678-5", "session_id": sid},
            headers=AUTH_1,
        )
        calls = len(messages_calls(anthropic_emulator))
        theirs = {"message": "resume", "session_id": sid, "context": {"company_id": 1}}
        attempts = [
            await client.get(f"/api/chat/session/{sid}?company_id=1", headers=AUTH_2),
            await client.post("/api/chat/message", json=theirs, headers=AUTH_2),
            await client.post("/api/chat/message/stream", json=theirs, headers=AUTH_2),
            await client.post("/api/chat", json=theirs, headers=AUTH_2),
            await client.delete(f"/api/chat/session/{sid}?company_id=1", headers=AUTH_2),
        ]
        assert len(messages_calls(anthropic_emulator)) == calls
        bare = await client.get(f"/api/chat/session/{sid}", headers=AUTH_2)
        own_id = await client.post(
            "/api/chat/message", json={"message": "resume", "session_id": sid}, headers=AUTH_2
        )
        own = await client.get(f"/api/chat/session/{sid}", headers=AUTH_1)
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert all("company 1" in a.json()["detail"] for a in attempts)
    assert bare.json()["stats"]["exists"] is False
    assert own_id.status_code == 200
    sent = messages_calls(anthropic_emulator)[calls:]
    assert "12.345.678-5" not in str(sent)
    assert own.json()["message_count"] == 2


async def test_no_company_can_take_or_lock_another_ones_session_even_after_a_flush(
    app: Any, quipu_client: Any, anthropic_emulator: Any, redis_url: str
) -> None:
    """The Odoo wizard's ids are predictable (``chat_<uid>_<hex>``). Company 2 uses
    company 1's id before company 1 does, and again after Redis lost every session
    (FLUSHALL): company 1 keeps answering 200 in its own session, whose history holds only
    its own messages; company 2's holds only its own."""
    import redis

    wizard = "chat_7_0badc0de"

    def ask(text: str, company: int) -> dict[str, Any]:
        return {"message": text, "session_id": wizard, "context": {"user": {"company_id": company}}}

    async with quipu_client(app, auth=False) as client:
        squat = await client.post("/api/chat", json=ask("primero", 2), headers=AUTH_2)
        first = await client.post("/api/chat", json=ask("hola 1", 1), headers=AUTH_1)
        flusher = redis.Redis.from_url(redis_url)
        flusher.flushall()
        flusher.close()
        squat_again = await client.post("/api/chat", json=ask("otra vez", 2), headers=AUTH_2)
        after = await client.post("/api/chat", json=ask("hola 2", 1), headers=AUTH_1)
        acme = (await client.get(f"/api/chat/session/{wizard}", headers=AUTH_1)).json()
        globex = (await client.get(f"/api/chat/session/{wizard}", headers=AUTH_2)).json()
    for response in (squat, first, squat_again, after):
        assert response.status_code == 200, response.text
    assert [m["content"] for m in acme["messages"] if m["role"] == "user"] == ["hola 2"]
    assert [m["content"] for m in globex["messages"] if m["role"] == "user"] == ["otra vez"]


async def test_costs_show_only_the_keys_own_companies(
    app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    """Both companies spend; company 1's key asks for company 2's costs: 403; its default
    view counts only its own calls; the full-access key sees both."""

    async def run() -> None:
        async with quipu_client(app, auth=False) as client:
            for auth in (AUTH_1, AUTH_2, AUTH_2):
                sent = await client.post(
                    "/api/chat/message", json={"message": "hola"}, headers=auth
                )
                assert sent.status_code == 200
            mine = await client.get("/metrics/costs", headers=AUTH_1)
            theirs = await client.get("/metrics/costs", params={"company_id": 2}, headers=AUTH_1)
            named_own = await client.get("/metrics/costs", params={"company_id": 1}, headers=AUTH_1)
            everyone = await client.get("/metrics/costs", headers=FULL)
        assert theirs.status_code == 403
        assert "may not act for company 2" in theirs.json()["detail"]
        assert mine.json()["summary"]["total_calls"] == 1
        assert named_own.json()["summary"] == mine.json()["summary"]
        assert everyone.json()["summary"]["total_calls"] == 3

    await bounded(30, run())


async def test_indicators_are_platform_wide_and_only_admins_load_them(
    app: Any, quipu_client: Any
) -> None:
    """Client keys of either company try to PUT and DELETE a month's indicators: 403, the
    month is untouched. An admin loads a value: both companies read the same value (by
    design: indicators are the same for every company, docs/security.md)."""
    url = "/api/payroll/indicators/2025-07"
    async with quipu_client(app, auth=False) as client:
        before = (await client.get(url, headers=AUTH_1)).json()
        refused = [
            await client.put(url, json={"uf": 1.0}, headers=AUTH_1),
            await client.put(url, json={"uf": 1.0}, headers=AUTH_2),
            await client.delete(url, headers=AUTH_1),
            await client.delete(url, headers=AUTH_2),
        ]
        unchanged = (await client.get(url, headers=AUTH_2)).json()
        loaded = await client.put(url, json={"uf": 39180.55}, headers=FULL)
        seen = [(await client.get(url, headers=auth)).json() for auth in (AUTH_1, AUTH_2)]
        await client.delete(url, headers=FULL)
    assert [r.status_code for r in refused] == [403] * 4
    assert all("'admin' role" in r.json()["detail"] for r in refused)
    assert unchanged["indicators"] == before["indicators"]
    assert loaded.status_code == 200, loaded.text
    assert [s["indicators"]["uf"] for s in seen] == [39180.55, 39180.55]
    assert [s["metadata"]["source"] for s in seen] == ["admin", "admin"]
