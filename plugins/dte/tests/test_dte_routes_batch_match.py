"""``/api/ai/validate/batch`` and ``/api/ai/reception/match_po`` through the whole app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from dte_builders import boleta_39, factura_33, flat_odoo
from dte_http import HISTORY, SCOPED_KEY, messages_calls, review
from test_dte_matching import odoo_payload

BATCH = "/api/ai/validate/batch"
MATCH = "/api/ai/reception/match_po"


async def call(app: Any, client_factory: Any, url: str, body: Any) -> Any:
    async with client_factory(app) as client:
        return await client.post(url, json=body)


async def test_batch_answers_in_order_with_per_item_errors(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    app = dte_app()
    body = {
        "documents": [
            {"dte_data": factura_33()},
            {"dte_data": flat_odoo() | {"monto_iva": "12a"}},
            boleta_39(),
        ],
        "company_id": 1,
    }
    response = await call(app, quipu_client, BATCH, body)
    assert response.status_code == 200
    answer = response.json()
    assert [r["index"] for r in answer["results"]] == [0, 1, 2]
    first, bad, third = answer["results"]
    assert first["result"]["recommendation"] == "send"
    assert third["result"]["recommendation"] == "send"
    assert "result" not in bad
    assert bad["error"]["detail"].startswith("documents[1].dte_data.monto_iva: ")
    assert bad["error"]["errors"][0]["field"] == "documents[1].dte_data.monto_iva"
    assert answer["summary"] == {
        "items": 3,
        "send": 2,
        "review": 0,
        "reject": 0,
        "failed": 1,
        "ai_used": 0,
        "ai_cached": 0,
    }


async def test_batch_of_bare_documents_and_shared_history(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    app = dte_app()
    duplicate = flat_odoo() | {"folio": "1001"}
    body = {
        "documents": [flat_odoo(), duplicate, {"tipo_dte": "33", "monto_total": "x"}],
        "history": HISTORY,
        "company_id": 1,
    }
    answer = (await call(app, quipu_client, BATCH, body)).json()
    first, second, third = answer["results"]
    assert first["result"]["recommendation"] == "send"
    assert second["result"]["recommendation"] == "reject"  # folio 1001 is in the history
    assert third["error"]["errors"][0]["field"] == "documents[2].monto_total"


async def test_batch_limits(dte_app: Callable[..., Any], quipu_client: Any) -> None:
    app = dte_app("batch_max_documents = 2")
    async with quipu_client(app) as client:
        too_many = await client.post(BATCH, json={"documents": [flat_odoo()] * 3, "company_id": 1})
        empty = await client.post(BATCH, json={"documents": [], "company_id": 1})
        bad_history = await client.post(
            BATCH, json={"documents": [flat_odoo()], "company_id": 1, "history": [{"folio": "x"}]}
        )
        scoped = await client.post(
            BATCH, json={"documents": [flat_odoo()], "company_id": 2}, headers=SCOPED_KEY
        )
    assert too_many.status_code == 422
    assert "at most 2" in too_many.json()["detail"]
    assert empty.status_code == 422
    assert "documents" in empty.json()["detail"]
    assert bad_history.status_code == 422
    assert "history[0].folio" in bad_history.json()["detail"]
    assert scoped.status_code == 403


async def test_batch_shares_the_ai_cache(
    dte_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    app = dte_app("batch_llm_concurrency = 2", llm=anthropic_emulator)
    anthropic_emulator.script(review())
    item = {"dte_data": flat_odoo(), "history": HISTORY}
    other = {"dte_data": flat_odoo() | {"folio": "12346"}, "history": HISTORY}
    async with quipu_client(app) as client:
        single = await client.post(
            "/api/ai/validate", json={"dte_data": flat_odoo(), "history": HISTORY, "company_id": 1}
        )
        batch = await client.post(BATCH, json={"documents": [item, other], "company_id": 1})
    assert single.json()["ai"]["status"] == "used"
    statuses = [r["result"]["ai"]["status"] for r in batch.json()["results"]]
    assert statuses == ["cached", "used"]
    assert batch.json()["summary"]["ai_used"] == 1
    assert len(messages_calls(anthropic_emulator)) == 2


async def test_match_po_exact(dte_app: Callable[..., Any], quipu_client: Any) -> None:
    response = await call(dte_app(), quipu_client, MATCH, odoo_payload())
    assert response.status_code == 200
    answer = response.json()
    assert answer["matched_po_id"] == 7
    assert answer["method"] == "rules"
    assert answer["confidence"] >= 95
    assert answer["line_matches"][0]["product_id"] == 3
    assert "RUT del proveedor coincide" in answer["reasoning"]
    assert [c["po_id"] for c in answer["candidates"]] == [7, 8]
    assert answer["ai"] == {"status": "skipped", "reason": "not_needed"}


async def test_match_po_invoice_data_alias_and_errors(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    app = dte_app()
    payload = odoo_payload()
    payload["invoice_data"] = payload.pop("dte_data")
    async with quipu_client(app) as client:
        alias = await client.post(MATCH, json=payload)
        empty = await client.post(MATCH, json=odoo_payload() | {"pending_pos": []})
        scoped = await client.post(
            MATCH, json=odoo_payload() | {"company_id": 2}, headers=SCOPED_KEY
        )
    assert alias.json()["matched_po_id"] == 7
    assert empty.status_code == 422
    assert "pending_pos no puede estar vacío" in empty.json()["detail"]
    assert scoped.status_code == 403


def tied_payload() -> dict[str, Any]:
    payload = odoo_payload()
    twin = dict(payload["pending_pos"][0], id=9, name="P00009")
    payload["pending_pos"].append(twin)
    return payload


def choose(po_id: Any, reasoning: str = "Las cantidades coinciden con P00009.") -> dict[str, Any]:
    return {
        "tool": "choose_po",
        "tool_use": [
            {
                "name": "choose_po",
                "input": {"po_id": po_id, "confidence": 80, "reasoning": reasoning},
            }
        ],
    }


async def test_match_po_tie_broken_by_the_llm(
    dte_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    anthropic_emulator.script(choose(9))
    app = dte_app(llm=anthropic_emulator)
    answer = (await call(app, quipu_client, MATCH, tied_payload())).json()
    assert answer["matched_po_id"] == 9
    assert answer["method"] == "ai"
    assert answer["ai"]["status"] == "used"
    assert "Desempate por IA: OC P00009" in answer["reasoning"]
    assert answer["line_matches"][0]["po_name"] == "Cemento Polpaico 25kg"
    sent = messages_calls(anthropic_emulator)[-1]["body"]
    (tool,) = sent["tools"]
    assert sorted(tool["input_schema"]["properties"]["po_id"]["enum"], key=str) == [7, 9, None]
    assert sent["tool_choice"] == {"type": "tool", "name": "choose_po"}


@pytest.mark.parametrize("reply", [8, 123, None, "siete"])
async def test_match_po_llm_choice_outside_the_tie_is_refused(
    dte_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any, reply: Any
) -> None:
    anthropic_emulator.script(choose(reply))
    app = dte_app(llm=anthropic_emulator)
    answer = (await call(app, quipu_client, MATCH, tied_payload())).json()
    assert answer["matched_po_id"] is None
    assert answer["method"] == "rules_tie_unresolved"
    assert "elija la OC manualmente" in answer["reasoning"]


async def test_match_po_tie_with_the_llm_down(
    dte_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    anthropic_emulator.faults({"fault": "529"})
    app = dte_app(llm=anthropic_emulator)
    response = await call(app, quipu_client, MATCH, tied_payload())
    answer = response.json()
    assert response.status_code == 200
    assert answer["matched_po_id"] is None
    assert answer["method"] == "rules_tie_unresolved"
    assert answer["ai"]["status"] == "unavailable"
    assert "Empate entre" in answer["reasoning"]
    assert "No se pudo desempatar con IA (overloaded)" in answer["reasoning"]


async def test_match_po_tie_without_a_key(dte_app: Callable[..., Any], quipu_client: Any) -> None:
    answer = (await call(dte_app(), quipu_client, MATCH, tied_payload())).json()
    assert answer["matched_po_id"] is None
    assert answer["ai"] == {"status": "skipped", "reason": "not_configured"}


async def test_identical_items_in_one_batch_make_one_call(
    dte_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    """Copies 2-4 are duplicates of copy 1 with identical findings: one review for them."""
    app = dte_app("ai_review = 'always'", llm=anthropic_emulator)
    anthropic_emulator.script(review())
    item = {"dte_data": flat_odoo(), "history": HISTORY}
    answer = (
        await call(app, quipu_client, BATCH, {"documents": [item] * 4, "company_id": 1})
    ).json()
    statuses = sorted(r["result"]["ai"]["status"] for r in answer["results"])
    assert statuses == ["cached", "cached", "used", "used"]
    assert len(messages_calls(anthropic_emulator)) == 2


async def test_a_folio_repeated_across_batch_items_is_a_duplicate(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    """Same (RUTEmisor, TipoDTE, Folio) in two items: the second is rejected (§2.7)."""
    first = flat_odoo()
    # Same key, written differently: RUT without dots, other amounts (a re-issue).
    again = flat_odoo() | {"rut_emisor": "76354771-K", "monto_neto": 1000, "monto_iva": 190}
    again["monto_total"] = 1190
    other_type = flat_odoo() | {"tipo_dte": "34", "monto_neto": 0, "monto_iva": 0}
    other_type |= {"monto_exento": 119000}
    body = {"documents": [first, other_type, {"dte_data": again}], "company_id": "1"}
    answer = (await call(dte_app(), quipu_client, BATCH, body)).json()
    results = [r["result"] for r in answer["results"]]
    assert [r["recommendation"] for r in results] == ["send", "send", "reject"]
    dup = [f for f in results[2]["findings"] if f["code"] == "DTE_DUPLICATE_FOLIO"]
    assert len(dup) == 1
    assert dup[0]["actual"] == "12345"
    assert "documents[0]" in dup[0]["message"]
    assert answer["summary"]["reject"] == 1


async def test_a_failing_item_does_not_fail_the_batch(
    dte_app: Callable[..., Any], quipu_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from quipu_dte import batch

    real = batch.check

    def flaky(rt: Any, dte_data: Any, history: Any, today: Any = None) -> Any:
        if dte_data.get("folio") == "666":
            raise RuntimeError("bug")
        return real(rt, dte_data, history, today)

    monkeypatch.setattr(batch, "check", flaky)
    body = {"documents": [flat_odoo(), flat_odoo() | {"folio": "666"}], "company_id": 1}
    answer = (await call(dte_app(), quipu_client, BATCH, body)).json()
    assert answer["results"][0]["result"]["recommendation"] == "send"
    assert answer["results"][1]["error"]["detail"].startswith("internal error")


async def test_a_full_batch_of_500(dte_app: Callable[..., Any], quipu_client: Any) -> None:
    documents = [flat_odoo() | {"folio": str(10_000 + i)} for i in range(500)]
    documents[250]["monto_iva"] = 1
    answer = (
        await call(dte_app(), quipu_client, BATCH, {"documents": documents, "company_id": 1})
    ).json()
    assert [r["index"] for r in answer["results"]] == list(range(500))
    assert answer["summary"]["send"] == 499
    assert answer["results"][250]["result"]["recommendation"] == "reject"
