"""Large batches are checked over worker processes, with exactly the single-call answers."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from dte_builders import dte_xml, factura_lineas, flat_odoo

BATCH = "/api/ai/validate/batch"
SINGLE = "/api/ai/validate"


def test_input_errors_cross_process_boundaries_intact() -> None:
    from quipu_dte.errors import DteInputError

    error = DteInputError([("dte_data.monto_iva", "not a number")])
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert isinstance(again, DteInputError)
    assert again.problems == error.problems
    assert str(again) == str(error)


@pytest.mark.slow
async def test_a_parallel_batch_answers_exactly_as_single_calls(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    from quipu_dte.batch import PARALLEL_FROM

    documents: list[Any] = []
    for i in range(PARALLEL_FROM * 2):
        doc = flat_odoo() | {"folio": str(20_000 + i)}
        if i % 5 == 1:
            doc["monto_iva"] = 1  # a rule error
        if i % 7 == 3:
            doc["monto_total"] = "12a"  # unreadable: this item's own 422-like error
        documents.append(doc)
    app = dte_app("batch_workers = 2")
    async with quipu_client(app) as client:
        batch = (await client.post(BATCH, json={"documents": documents, "company_id": 1})).json()
        singles = [
            await client.post(SINGLE, json={"dte_data": doc, "company_id": 1}) for doc in documents
        ]
    assert [r["index"] for r in batch["results"]] == list(range(len(documents)))
    for index, (item, single) in enumerate(zip(batch["results"], singles, strict=True)):
        if single.status_code == 200:
            assert item["result"] == single.json(), f"document {index}"
        else:
            assert single.status_code == 422
            assert item["error"]["detail"].startswith(f"documents[{index}].monto_total")


@pytest.mark.slow
async def test_500_documents_of_60_lines_are_accepted(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    xml = dte_xml(factura_lineas(60))
    documents = [
        {"dte_xml": xml.replace("<Folio>170</Folio>", f"<Folio>{1000 + i}</Folio>")}
        for i in range(500)
    ]
    body = json.dumps({"documents": documents, "company_id": 1}).encode()
    assert len(body) > 5 * 1024 * 1024, "over the platform's default body limit"
    async with quipu_client(dte_app()) as client:
        answer = await client.post(
            BATCH, content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 200, answer.text[:300]
    results = answer.json()["results"]
    assert len(results) == 500
    assert {r["result"]["recommendation"] for r in results} == {
        results[0]["result"]["recommendation"]
    }
    assert all("error" not in r for r in results)


async def test_a_batch_over_its_own_limit_is_413(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    from quipu_dte.routes import BATCH_MAX_BODY_BYTES

    async with quipu_client(dte_app()) as client:
        answer = await client.post(
            BATCH,
            content=b"{}",
            headers={
                "Content-Type": "application/json",
                "Content-Length": str(BATCH_MAX_BODY_BYTES + 1),
            },
        )
    assert answer.status_code == 413
    assert str(BATCH_MAX_BODY_BYTES) in answer.json()["detail"]


@pytest.mark.slow
async def test_a_folio_repeated_across_workers_is_flagged_on_its_later_item(
    dte_app: Callable[..., Any], quipu_client: Any
) -> None:
    from quipu_dte.batch import PARALLEL_FROM

    documents = [flat_odoo() | {"folio": str(40_000 + i)} for i in range(PARALLEL_FROM + 4)]
    documents[-2] = documents[2] | {}  # the same folio again, in another worker's chunk
    async with quipu_client(dte_app("batch_workers = 2")) as client:
        answer = await client.post(BATCH, json={"documents": documents, "company_id": 1})
    results = answer.json()["results"]

    def codes(item: dict[str, Any]) -> list[str]:
        return [f["code"] for f in item["result"]["findings"]]

    assert "DTE_DUPLICATE_FOLIO" not in codes(results[2])
    assert "DTE_DUPLICATE_FOLIO" in codes(results[-2])
    assert results[-2]["result"]["recommendation"] == "reject"
    assert "documents[2]" in " ".join(results[-2]["result"]["errors"])
