"""A repeated slip check is the stored answer, until the period's indicators change."""

from __future__ import annotations

import json
from typing import Any

from payroll_examples import EXAMPLE_A
from payroll_kit import AUGUST_2026, SCOPED

URL = "/api/payroll/validate"
MONTH = AUGUST_2026
SLIP = {
    "periodo": "2026-08",
    "afp": {"nombre": "Habitat"},
    "haberes": {"sueldo_base": 1_000_000, "regimen_gratificacion": "art47"},
    "descuentos": {"afp": 112700, "salud": 70000, "afc": 6000},
}


def hit(response: Any) -> bool:
    return bool(response.headers.get("cache-status", "").startswith("quipu; hit"))


async def test_a_repeat_is_a_hit_and_an_admin_load_makes_it_a_miss(
    payroll_app: Any, quipu_client: Any
) -> None:
    raw = json.dumps(SLIP).encode()
    headers = {"Content-Type": "application/json"}
    async with quipu_client(payroll_app()) as client:
        before = await client.post(URL, content=raw, headers=headers)
        repeat = await client.post(URL, content=raw, headers=headers)
        assert not hit(before)
        assert hit(repeat)
        assert repeat.content == before.content
        loaded = await client.put("/api/payroll/indicators/2026-08", json=MONTH)
        assert loaded.status_code == 200
        after = await client.post(URL, content=raw, headers=headers)
        assert not hit(after), "an admin load must never leave a stale answer"
        assert after.json()["indicators"]["source"] == "admin"
        assert hit(await client.post(URL, content=raw, headers=headers))
        removed = await client.delete("/api/payroll/indicators/2026-08")
        assert removed.status_code == 200
        gone = await client.post(URL, content=raw, headers=headers)
    assert not hit(gone)
    assert gone.json()["indicators"]["source"] == "none"


async def test_answers_are_scoped_to_the_callers_companies(
    payroll_app: Any, quipu_client: Any
) -> None:
    raw = json.dumps(EXAMPLE_A).encode()  # no company_id: the key's own scope labels it
    scoped = {**SCOPED, "Content-Type": "application/json"}
    async with quipu_client(payroll_app()) as client:
        full = await client.post(URL, content=raw, headers={"Content-Type": "application/json"})
        own = await client.post(URL, content=raw, headers=scoped)
        again = await client.post(URL, content=raw, headers=scoped)
        other = await client.post(
            URL, content=json.dumps({**EXAMPLE_A, "company_id": 2}).encode(), headers=scoped
        )
    assert full.status_code == own.status_code == 200
    assert not hit(own), "the full-access key's answer is not company 1's"
    assert hit(again)
    assert other.status_code == 403
