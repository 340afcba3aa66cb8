"""A repeated validation is answered from the response cache before any work is done.

What a stored answer may depend on, and what must never leak: a hit is company-scoped,
and a rule-set, prompt, configuration or date change is a miss.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from dte_builders import TODAY, flat_odoo
from dte_http import HISTORY, SCOPED_KEY, messages_calls, review

URL = "/api/ai/validate"
OTHER_COMPANY_KEY = {"Authorization": "Bearer key-empresa-2"}
EXTRA = """
[[auth.keys]]
name = "empresa-2"
env = "KEY_EMPRESA_2"
companies = [2]
roles = ["client"]
"""


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the parse + rules passes (``quipu_dte.service.check``) the handler makes."""
    from quipu_dte import service

    calls: list[int] = []
    real = service.check

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "check", counted)
    return calls


@pytest.fixture
def app_factory(dte_app: Callable[..., Any], anthropic_emulator: Any) -> Callable[..., Any]:
    anthropic_emulator.script(review())

    def build(dte: str = "ai_review = 'always'") -> Any:
        env = {"KEY_EMPRESA_2": "key-empresa-2"}
        return dte_app(dte, llm=anthropic_emulator, extra=EXTRA, env=env)

    return build


def body(company: int = 1, **changes: Any) -> bytes:
    document = flat_odoo(**changes)
    return json.dumps({"dte_data": document, "history": HISTORY, "company_id": company}).encode()


async def post(client: Any, raw: bytes, headers: dict[str, str] | None = None) -> Any:
    return await client.post(
        URL, content=raw, headers={"Content-Type": "application/json", **(headers or {})}
    )


async def test_a_repeat_is_the_stored_answer_without_parsing_or_rules(
    app_factory: Callable[..., Any], quipu_client: Any, checks: list[int], anthropic_emulator: Any
) -> None:
    raw = body()
    async with quipu_client(app_factory()) as client:
        first = await post(client, raw, SCOPED_KEY)
        second = await post(client, raw, SCOPED_KEY)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["cache-status"].startswith("quipu; hit; ttl=")
    assert second.headers["cache-status"].endswith("; detail=l1")
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert 'desc="response l1 hit"' in second.headers["server-timing"]
    assert len(checks) == 1, "the repeat must not parse or run the rules"
    assert len(messages_calls(anthropic_emulator)) == 1


async def test_the_same_document_written_differently_reaches_the_review_cache(
    app_factory: Callable[..., Any], quipu_client: Any, checks: list[int], anthropic_emulator: Any
) -> None:
    raw = body()
    parsed = json.loads(raw)
    reordered = json.dumps(dict(reversed(list(parsed.items()))), indent=2).encode()
    async with quipu_client(app_factory()) as client:
        await post(client, raw, SCOPED_KEY)
        again = await post(client, reordered, SCOPED_KEY)
    assert again.status_code == 200
    assert len(checks) == 2, "a different body is validated again"
    status = again.headers["cache-status"]  # the AI review's, found by the canonical document
    assert status.startswith("quipu; hit; ttl=")
    assert status.endswith("; detail=l1")
    assert len(messages_calls(anthropic_emulator)) == 1


async def test_a_hit_never_crosses_companies(
    app_factory: Callable[..., Any], quipu_client: Any, checks: list[int]
) -> None:
    raw = body(company=1)
    async with quipu_client(app_factory()) as client:
        assert (await post(client, raw, SCOPED_KEY)).status_code == 200
        stolen = await post(client, raw, OTHER_COMPANY_KEY)
        assert stolen.status_code == 403
        assert "cache-status" not in stolen.headers
        own = await post(client, body(company=2), OTHER_COMPANY_KEY)
        assert own.status_code == 200
        assert "hit" not in own.headers.get("cache-status", "").split(";")[1]
    assert len(checks) == 2


async def test_company_sent_as_a_numeric_string_is_scoped_like_a_number(
    app_factory: Callable[..., Any], quipu_client: Any
) -> None:
    raw = body(company=1).replace(b'"company_id": 1', b'"company_id": "1"')
    async with quipu_client(app_factory()) as client:
        answer = await post(client, raw, OTHER_COMPANY_KEY)
    assert answer.status_code in {403, 422}  # never served to company 2's key


@pytest.mark.parametrize("change", ["ruleset", "prompt", "date"])
async def test_a_version_or_date_change_is_a_miss(
    app_factory: Callable[..., Any],
    quipu_client: Any,
    checks: list[int],
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    from quipu_dte import clock, responses

    raw = body()
    async with quipu_client(app_factory()) as client:
        await post(client, raw, SCOPED_KEY)
        assert (
            (await post(client, raw, SCOPED_KEY)).headers["cache-status"].startswith("quipu; hit")
        )
        if change == "ruleset":
            monkeypatch.setattr(responses, "RULESET_VERSION", "test-next")
        elif change == "prompt":
            monkeypatch.setattr(responses, "REVIEW_PROMPT_VERSION", "test-next")
        else:
            monkeypatch.setattr(clock, "today_in", lambda zone: TODAY + timedelta(days=1))
        again = await post(client, raw, SCOPED_KEY)
    assert again.status_code == 200
    assert len(checks) == 2, f"a {change} change must validate again"


async def test_a_config_change_is_a_miss_even_on_a_shared_redis(
    app_factory: Callable[..., Any], quipu_client: Any, checks: list[int]
) -> None:
    raw = body()
    async with quipu_client(app_factory()) as client:
        await post(client, raw, SCOPED_KEY)
    async with quipu_client(app_factory()) as client:  # same config, new process-like app
        shared = await post(client, raw, SCOPED_KEY)
    assert shared.headers["cache-status"].endswith("detail=redis")
    async with quipu_client(
        app_factory("ai_review = 'always'\n[plugins.dte.rules]\namount_tolerance = 2")
    ) as client:
        changed = await post(client, raw, SCOPED_KEY)
    assert changed.status_code == 200
    assert len(checks) == 2


async def test_cache_control_no_cache_revalidates_and_no_store_bypasses(
    app_factory: Callable[..., Any], quipu_client: Any, checks: list[int]
) -> None:
    raw = body()
    async with quipu_client(app_factory()) as client:
        await post(client, raw, SCOPED_KEY)
        refreshed = await post(client, raw, {**SCOPED_KEY, "Cache-Control": "no-cache"})
        assert len(checks) == 2
        assert refreshed.headers["cache-status"].startswith("quipu; fwd=request")
        bypass = await post(client, raw, {**SCOPED_KEY, "Cache-Control": "no-store"})
        assert len(checks) == 3
        assert bypass.headers["cache-status"] == "quipu; fwd=bypass"
        assert (
            (await post(client, raw, SCOPED_KEY)).headers["cache-status"].startswith("quipu; hit")
        )
    assert len(checks) == 3


async def test_admin_invalidation_drops_stored_answers(
    app_factory: Callable[..., Any], quipu_client: Any, checks: list[int]
) -> None:
    raw = body()
    async with quipu_client(app_factory()) as client:
        await post(client, raw, SCOPED_KEY)
        dropped = await client.delete("/_platform/cache", params={"plugin": "dte", "company": "1"})
        assert dropped.status_code == 200, dropped.text
        assert "dte.responses" in dropped.json()["policies"]
        again = await post(client, raw, SCOPED_KEY)
    assert again.status_code == 200
    assert "response" not in again.headers["server-timing"]
    assert len(checks) == 2


async def test_an_answer_without_its_ai_review_is_kept_for_seconds_only(
    app_factory: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    anthropic_emulator.faults({"fault": "529"})
    raw = body()
    async with quipu_client(app_factory()) as client:
        first = await post(client, raw, SCOPED_KEY)
        assert first.json()["ai"]["status"] == "unavailable"
        again = await post(client, raw, SCOPED_KEY)
    status = again.headers["cache-status"]
    assert status.startswith("quipu; hit; ttl=")
    assert int(status.split("ttl=")[1].split(";")[0]) <= 5


async def test_identical_concurrent_misses_validate_once(
    app_factory: Callable[..., Any], quipu_client: Any, checks: list[int], anthropic_emulator: Any
) -> None:
    raw = body()
    async with quipu_client(app_factory()) as client:
        answers = await asyncio.gather(*(post(client, raw, SCOPED_KEY) for _ in range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len(checks) == 1
    assert len(messages_calls(anthropic_emulator)) == 1


async def test_bad_input_is_never_stored(
    app_factory: Callable[..., Any], quipu_client: Any, checks: list[int]
) -> None:
    raw = json.dumps({"dte_data": {"dte_xml": "<DTE><Documento>"}, "company_id": 1}).encode()
    async with quipu_client(app_factory()) as client:
        first = await post(client, raw, SCOPED_KEY)
        second = await post(client, raw, SCOPED_KEY)
    assert first.status_code == second.status_code == 422
    assert "cache-status" not in second.headers
    assert len(checks) == 2
