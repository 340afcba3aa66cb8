"""``/api/payroll/indicators/{period}`` through the assembled app: published values, admin
loads, errors and the cache."""

from __future__ import annotations

import re
from typing import Any

import pytest
from previred_kit import CLIENT
from quipu.errors import StartupError
from quipu_previred.indicators import ERP_KEYS


async def test_july_2025_answers_the_published_values_with_their_source(
    previred_app: Any, quipu_client: Any
) -> None:
    async with quipu_client(previred_app()) as client:
        first = await client.get("/api/payroll/indicators/2025-07")
        again = await client.get("/api/payroll/indicators/2025-07", headers=CLIENT)
    assert first.status_code == again.status_code == 200
    body = first.json()
    assert body["success"] is True
    ind = body["indicators"]
    assert ind["uf"] == 39179.01
    assert ind["utm"] == 68923
    assert ind["afp_tope_uf"] == 87.8
    assert ind["sueldo_minimo"] == 529000
    assert ind["exvida_pct"] == ind["sis_pct"] == 1.88
    assert set(ERP_KEYS) <= set(ind)
    meta = body["metadata"]
    assert meta["source"] == "published"
    assert meta["period"] == "2025-07"
    assert meta["obtained_at"] == "2026-11"
    assert meta["fields_count"] == len(ind)
    assert meta["url"] is None
    cited = {key: note["source"] for note in meta["sources"] for key in note["keys"]}
    assert "neo-control.cl" in cited["utm"]
    assert "§4.2" in cited["uf"]
    assert "87.8 UF" in cited["afp_tope_uf"]
    assert "529,000" in cited["sueldo_minimo"]
    # A closed month is cached 30 days.
    assert first.headers["cache-status"] == "quipu; fwd=miss; stored; ttl=2592000"
    assert re.match(r"quipu; hit; ttl=\d+; detail=l1", again.headers["cache-status"])
    assert again.json() == body


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2024-12", {"uf": 38416.69, "utm": 67294, "afp_tope_uf": 84.3, "sueldo_minimo": 500000}),
        ("2025-03", {"uf": 38894.11, "utm": 68034, "sueldo_minimo": 510636, "afc_tope_uf": 131.9}),
        (
            "2025-11",
            {"uf": 39643.59, "utm": 69542, "afp_uno_pct": 10.46, "asig_fam_tramo_1": 22007},
        ),
        ("2026-03", {"uf": 39841.72, "utm": 69889, "afp_tope_uf": 90.0, "sueldo_minimo": 539000}),
    ],
)
async def test_shipped_months_match_their_published_figures(
    previred_app: Any, quipu_client: Any, period: str, expected: dict[str, float]
) -> None:
    async with quipu_client(previred_app()) as client:
        response = await client.get(f"/api/payroll/indicators/{period}")
    assert response.status_code == 200
    ind = response.json()["indicators"]
    assert {key: ind[key] for key in expected} == expected


async def test_a_month_without_data_is_404_and_nothing_is_fetched(
    previred_app: Any, quipu_client: Any, document_server: Any, anthropic_emulator: Any
) -> None:
    async with quipu_client(previred_app(document_server)) as client:
        response = await client.get("/api/payroll/indicators/2030-01")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "No hay indicadores para 2030-01" in detail
    assert "No se extrapolan" in detail
    assert document_server.hits == []
    assert anthropic_emulator.requests()["count"] == 0


@pytest.mark.parametrize("period", ["2025-13", "abc", "2025-7", "2025-00"])
async def test_a_malformed_period_is_400_with_a_detail(
    previred_app: Any, quipu_client: Any, period: str
) -> None:
    async with quipu_client(previred_app()) as client:
        response = await client.get(f"/api/payroll/indicators/{period}")
        loaded = await client.put(f"/api/payroll/indicators/{period}", json={"uf": 39000})
    assert response.status_code == loaded.status_code == 400
    assert period in response.json()["detail"]


async def test_loading_values_needs_the_admin_role(previred_app: Any, quipu_client: Any) -> None:
    async with quipu_client(previred_app()) as client:
        put = await client.put(
            "/api/payroll/indicators/2026-06", json={"uf": 40700}, headers=CLIENT
        )
        remove = await client.delete("/api/payroll/indicators/2026-06", headers=CLIENT)
        after = await client.get("/api/payroll/indicators/2026-06", headers=CLIENT)
    assert put.status_code == remove.status_code == 403
    assert "admin" in put.json()["detail"]
    assert after.json()["metadata"]["source"] == "published"


FULL_MONTH = {
    "uf": 40850.33,
    "utm": 71900,
    "uta": 862800,
    "sueldo_minimo": 539000,
    "afp_tope_uf": 90.0,
    "salud_tope_uf": 90.0,
    "afc_tope_uf": 135.2,
    "afp_uno_pct": 10.46,
}


async def test_admin_values_are_stored_and_answer_before_any_other_source(
    previred_app: Any, quipu_client: Any, redis_url: str
) -> None:
    body = {"indicators": FULL_MONTH, "source": "PDF Previred agosto 2026", "note": "manual"}
    async with quipu_client(previred_app()) as client:
        before = await client.get("/api/payroll/indicators/2026-08")
        put = await client.put("/api/payroll/indicators/2026-08", json=body)
        got = await client.get("/api/payroll/indicators/2026-08", headers=CLIENT)
    assert before.status_code == 404
    assert put.status_code == 200
    record = put.json()["record"]
    assert record["loaded_by"] == "API_KEY"
    assert record["source"] == "PDF Previred agosto 2026"
    assert "afp_uno_comision_pct" in record["keys"]
    assert got.status_code == 200
    meta = got.json()["metadata"]
    assert meta["source"] == "admin"
    assert meta["base_source"] is None
    assert meta["loaded_by"] == "API_KEY"
    assert meta["obtained_at"] == record["loaded_at"]
    assert "PDF Previred agosto 2026" in meta["sources"][0]["source"]
    ind = got.json()["indicators"]
    assert (ind["uf"], ind["utm"], ind["afp_uno_pct"]) == (40850.33, 71900, 10.46)
    import redis

    stored = redis.Redis.from_url(redis_url).get("previred:indicators:2026-08")
    assert stored is not None
    assert b"40850.33" in stored


async def test_admin_values_override_shipped_ones_key_by_key_and_clear_the_cache(
    previred_app: Any, quipu_client: Any
) -> None:
    async with quipu_client(previred_app()) as client:
        shipped = await client.get("/api/payroll/indicators/2026-06")
        put = await client.put("/api/payroll/indicators/2026-06", json={"uf": 40711.08})
        merged = await client.get("/api/payroll/indicators/2026-06")
        removed = await client.delete("/api/payroll/indicators/2026-06")
        back = await client.get("/api/payroll/indicators/2026-06")
    assert "uf" not in shipped.json()["indicators"]
    assert put.status_code == 200
    body = merged.json()
    assert body["indicators"]["uf"] == 40711.08
    assert body["indicators"]["utm"] == 71506  # the shipped value stays
    assert body["metadata"]["source"] == "admin"
    assert body["metadata"]["base_source"] == "published"
    assert body["metadata"]["admin_keys"] == ["uf"]
    assert "utm" in body["metadata"]["provisional"]
    assert removed.json() == {"period": "2026-06", "deleted": True, "success": True}
    assert back.json()["metadata"]["source"] == "published"


async def test_implausible_admin_values_are_422_listing_every_problem(
    previred_app: Any, quipu_client: Any
) -> None:
    async with quipu_client(previred_app()) as client:
        bad_uf = await client.put("/api/payroll/indicators/2026-06", json={"uf": 99.999})
        several = await client.put(
            "/api/payroll/indicators/2026-09",
            json={"uf": 71900, "utm": 40850, "bono": 1, "sueldo_minimo": "mucho"},
        )
        after = await client.get("/api/payroll/indicators/2026-06")
    assert bad_uf.status_code == 422
    detail = bad_uf.json()["detail"]
    assert "uf=99.999 fuera de rango [30000, 60000]" in detail
    assert bad_uf.json()["errors"][0]["field"] == "uf"
    assert several.status_code == 422
    problems = several.json()["detail"]
    assert "clave desconocida: bono" in problems
    assert "sueldo_minimo" in problems
    assert after.json()["metadata"]["source"] == "published"


async def test_a_month_without_shipped_values_needs_the_core_keys(
    previred_app: Any, quipu_client: Any
) -> None:
    async with quipu_client(previred_app()) as client:
        response = await client.put("/api/payroll/indicators/2026-09", json={"uf": 40850.33})
    assert response.status_code == 422
    assert "falta utm" in response.json()["detail"]
    assert "falta sueldo_minimo" in response.json()["detail"]


def test_a_bad_fetch_url_stops_start_up(make_quipu_app: Any) -> None:
    from quipu_previred import plugin

    config = '[plugins.previred]\nfetch_urls = ["ftp://previred/{anio}.pdf"]\nfetch_timeout_s = 0\n'
    with pytest.raises(StartupError) as raised:
        make_quipu_app([("previred", plugin)], config=config)
    message = str(raised.value)
    assert "[plugins.previred]" in message
    assert "unknown placeholders ['anio']" in message
    assert "fetch_timeout_s must be > 0" in message


async def test_redis_down_still_answers_shipped_values_and_refuses_loads(
    make_quipu_app: Any, quipu_client: Any
) -> None:
    from quipu.testing.redis_server import free_port
    from quipu_previred import plugin

    app = make_quipu_app(
        [("previred", plugin)],
        config="[plugins.previred]\nfetch_urls = []\n",
        env={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
    )
    async with quipu_client(app) as client:
        got = await client.get("/api/payroll/indicators/2025-07")
        put = await client.put("/api/payroll/indicators/2026-06", json={"uf": 40711.08})
    assert got.status_code == 200
    body = got.json()
    assert body["indicators"]["uf"] == 39179.01
    assert body["metadata"]["source"] == "published"
    assert body["metadata"]["warnings"]  # admin values could not be read: said, not cached
    assert put.status_code == 503
    assert "No se pudieron guardar" in put.json()["detail"]
