"""The Previred fetch end to end: a local server serves a PDF made here, the Anthropic
emulator plays the model, and the route answers, stores, caches, refuses and refetches."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from previred_kit import CLIENT, DocumentServer, make_pdf

PERIOD = "2026-09"
#: The first template misses (404); the document is where the second points.
DOC_PATH = "/alt/2026/Indicadores-Septiembre-26.pdf"

PDF_LINES = [
    "INDICADORES PREVISIONALES - Periodo SEPTIEMBRE 2026",
    "Valor UF al 30/09/2026: $ 40.850,33   Valor UF al 31/08/2026: $ 40.702,11",
    "UTM septiembre 2026: $ 71.900   UTA: $ 862.800",
    "Rentas topes imponibles: AFP 90,0 UF   IPS 60 UF   Seguro de cesantia 135,2 UF",
    "Rentas minimas imponibles: trab. dependientes $ 539.000",
    "Tasa AFP dependientes: Capital 11,44%  Cuprum 11,44%  Habitat 11,27%  Modelo 10,58%",
    "PlanVital 11,16%  ProVida 11,45%  Uno 10,46%",
    "Seguro de cesantia: indefinido empleador 2,4% trabajador 0,6%; plazo fijo empleador 3,0%",
]

EXTRACTED: dict[str, Any] = {
    "period": PERIOD,
    "uf": 40850.33,
    "uf_mes_anterior": 40702.11,
    "utm": 71900,
    "uta": 862800,
    "sueldo_minimo": 539000,
    "afp_tope_uf": 90.0,
    "salud_tope_uf": 90.0,
    "afc_tope_uf": 135.2,
    "ips_tope_uf": 60,
    "afp_capital_pct": 11.44,
    "afp_cuprum_pct": 11.44,
    "afp_habitat_pct": 11.27,
    "afp_modelo_pct": 10.58,
    "afp_planvital_pct": 11.16,
    "afp_provida_pct": 11.45,
    "afp_uno_pct": 10.46,
    "afc_trabajador_indefinido": 0.6,
    "afc_empleador_indefinido": 2.4,
    "afc_trabajador_plazo_fijo": 0,
    "afc_empleador_plazo_fijo": 3.0,
    "sis_pct": None,
    "fonasa_pct": None,
}


def script_extraction(emulator: Any, values: dict[str, Any], times: int | None = None) -> None:
    rule: dict[str, Any] = {
        "tool": "record_indicators",
        "tool_use": [{"name": "record_indicators", "input": values}],
    }
    if times is not None:
        rule["times"] = times
    emulator.script(rule)


def messages_calls(emulator: Any) -> list[dict[str, Any]]:
    return [r for r in emulator.requests()["requests"] if r["path"] == "/v1/messages"]


@pytest.fixture
def served(document_server: DocumentServer) -> tuple[DocumentServer, bytes]:
    pdf = make_pdf(PDF_LINES)
    document_server.serve(DOC_PATH, pdf)
    return document_server, pdf


async def test_fetch_end_to_end_then_served_from_cache_and_redis(
    previred_app: Any,
    quipu_client: Any,
    anthropic_emulator: Any,
    served: tuple[DocumentServer, bytes],
    redis_url: str,
) -> None:
    server, pdf = served
    script_extraction(anthropic_emulator, EXTRACTED)
    async with quipu_client(previred_app(server)) as client:
        first = await client.get(f"/api/payroll/indicators/{PERIOD}", headers=CLIENT)
        second = await client.get(f"/api/payroll/indicators/{PERIOD}", headers=CLIENT)
    assert first.status_code == 200, first.text
    body = first.json()
    ind = body["indicators"]
    assert (ind["uf"], ind["utm"], ind["uta"], ind["sueldo_minimo"]) == (
        40850.33,
        71900,
        862800,
        539000,
    )
    assert ind["afp_tope_uf"] == 90.0
    assert ind["afp_uno_comision_pct"] == 0.46
    assert "sis_pct" not in ind  # null in the document: omitted, never 0
    meta = body["metadata"]
    assert meta["source"] == "previred_fetch"
    assert meta["period"] == PERIOD
    assert meta["url"] == server.url + DOC_PATH
    assert meta["size_bytes"] == len(pdf)
    assert meta["model"] == "claude-sonnet-4-6"
    assert meta["obtained_at"].endswith("Z")
    # Both templates were tried, in order; the first missed.
    assert server.hits == [
        "/wp-content/uploads/2026/09/Indicadores-Previsionales-Previred-septiembre-2026.pdf",
        DOC_PATH,
    ]
    calls = messages_calls(anthropic_emulator)
    assert len(calls) == 1
    sent = calls[0]["body"]
    assert sent["tool_choice"] == {"type": "tool", "name": "record_indicators"}
    user = sent["messages"][0]["content"]
    assert '<data name="document">' in user
    assert "40.850,33" in user
    assert all("40.850,33" not in block["text"] for block in sent["system"])
    # Second call: the platform cache answered; nothing fetched, no model call.
    assert second.json() == body
    assert "hit" in second.headers["cache-status"]
    assert len(server.hits) == 2
    import redis

    stored = redis.Redis.from_url(redis_url).get(f"previred:fetched:{PERIOD}")
    assert stored is not None
    assert msgspec.json.decode(stored)["url"] == server.url + DOC_PATH
    # Another process (a new app on the same Redis): its cache and the stored fetch answer.
    async with quipu_client(previred_app(server)) as client:
        other = await client.get(f"/api/payroll/indicators/{PERIOD}")
    assert other.json()["indicators"] == ind
    assert len(messages_calls(anthropic_emulator)) == 1
    assert len(server.hits) == 2


async def test_range_check_refusal_is_a_clear_502_and_nothing_is_stored(
    previred_app: Any,
    quipu_client: Any,
    anthropic_emulator: Any,
    served: tuple[DocumentServer, bytes],
    redis_url: str,
) -> None:
    import redis

    server, _ = served
    script_extraction(anthropic_emulator, EXTRACTED | {"uf": 99.999, "utm": 0}, times=1)
    script_extraction(anthropic_emulator, EXTRACTED)
    store = redis.Redis.from_url(redis_url)
    async with quipu_client(previred_app(server)) as client:
        refused = await client.get(f"/api/payroll/indicators/{PERIOD}")
        stored_after_refusal = store.get(f"previred:fetched:{PERIOD}")
        again = await client.get(f"/api/payroll/indicators/{PERIOD}")
        calls_before_force = len(messages_calls(anthropic_emulator))
        forced = await client.get(f"/api/payroll/indicators/{PERIOD}", params={"force": "true"})
    assert refused.status_code == 502
    detail = refused.json()["detail"]
    assert "rechazados por el control de rangos" in detail
    assert "uf=99.999 fuera de rango [30000, 60000]" in detail
    assert "utm=0 fuera de rango" in detail
    assert "No se guardó nada" in detail
    assert stored_after_refusal is None
    # The refusal is remembered: the same answer, without a new download or model call...
    assert again.status_code == 502
    assert again.json()["detail"] == detail
    assert calls_before_force == 1
    # ...until forced: the document is read again and, now plausible, stored.
    assert forced.status_code == 200
    assert forced.json()["indicators"]["uf"] == 40850.33
    assert len(messages_calls(anthropic_emulator)) == 2
    assert store.get(f"previred:fetched:{PERIOD}") is not None


async def test_the_document_of_another_month_is_refused(
    previred_app: Any,
    quipu_client: Any,
    anthropic_emulator: Any,
    served: tuple[DocumentServer, bytes],
) -> None:
    server, _ = served
    script_extraction(anthropic_emulator, EXTRACTED | {"period": "2026-08"})
    async with quipu_client(previred_app(server)) as client:
        response = await client.get(f"/api/payroll/indicators/{PERIOD}")
    assert response.status_code == 502
    assert "el documento es de 2026-08, se pidió 2026-09" in response.json()["detail"]


async def test_force_refetches_and_replaces_the_cached_answer(
    previred_app: Any,
    quipu_client: Any,
    anthropic_emulator: Any,
    served: tuple[DocumentServer, bytes],
) -> None:
    server, _ = served
    script_extraction(anthropic_emulator, EXTRACTED, times=1)
    corrected = EXTRACTED | {"uf": 40851.02}
    script_extraction(anthropic_emulator, corrected)
    async with quipu_client(previred_app(server)) as client:
        first = await client.get(f"/api/payroll/indicators/{PERIOD}")
        forced = await client.get(f"/api/payroll/indicators/{PERIOD}", params={"force": "true"})
        after = await client.get(f"/api/payroll/indicators/{PERIOD}")
        published = await client.get("/api/payroll/indicators/2025-07", params={"force": "true"})
    assert first.json()["indicators"]["uf"] == 40850.33
    assert forced.status_code == 200
    assert forced.headers["cache-status"] == "quipu; fwd=request"
    assert forced.json()["indicators"]["uf"] == 40851.02
    assert after.json()["indicators"]["uf"] == 40851.02
    assert len(messages_calls(anthropic_emulator)) == 2
    # Shipped months are answered from the shipped data even when forced: no fetch.
    assert published.json()["metadata"]["source"] == "published"
    assert len(messages_calls(anthropic_emulator)) == 2


async def test_forced_refetches_within_the_minimum_interval_reuse_the_last_fetch(
    previred_app: Any,
    quipu_client: Any,
    anthropic_emulator: Any,
    served: tuple[DocumentServer, bytes],
) -> None:
    server, _ = served
    script_extraction(anthropic_emulator, EXTRACTED)
    async with quipu_client(previred_app(server, force_min_interval_s=300)) as client:
        first = await client.get(f"/api/payroll/indicators/{PERIOD}")
        forced = [
            await client.get(f"/api/payroll/indicators/{PERIOD}", params={"force": "true"})
            for _ in range(3)
        ]
    assert first.status_code == 200
    assert [r.json()["indicators"] for r in forced] == [first.json()["indicators"]] * 3
    assert len(messages_calls(anthropic_emulator)) == 1  # no LLM spend multiplied
    assert len(server.hits) == 2


async def test_fetch_problems_are_404_or_503_never_500(
    previred_app: Any,
    quipu_client: Any,
    anthropic_emulator: Any,
    document_server: DocumentServer,
) -> None:
    # Previred has nothing for the month (404 everywhere) → 404 naming the URLs tried.
    async with quipu_client(previred_app(document_server)) as client:
        missing = await client.get("/api/payroll/indicators/2026-10")
        hits = len(document_server.hits)
        remembered = await client.get("/api/payroll/indicators/2026-10")
    assert missing.status_code == remembered.status_code == 404
    assert len(document_server.hits) == hits == 2  # not asked again for failure_ttl_s
    assert "Previred no tiene el documento del mes" in missing.json()["detail"]
    assert "HTTP 404" in missing.json()["detail"]
    # A 200 that is an HTML page, not a PDF → also "not there".
    document_server.serve(
        "/alt/2026/Indicadores-Octubre-26.pdf", b"<html>Mantencion</html>", "text/html"
    )
    async with quipu_client(previred_app(document_server)) as client:
        html = await client.get("/api/payroll/indicators/2026-10")
    assert html.status_code == 404
    assert "no es un PDF (text/html)" in html.json()["detail"]
    # Previred failing (5xx) → 503 with Retry-After.
    document_server.serve("/alt/2026/Indicadores-Octubre-26.pdf", b"oops", "text/plain", 503)
    async with quipu_client(previred_app(document_server)) as client:
        down = await client.get("/api/payroll/indicators/2026-10", params={"force": "true"})
    assert down.status_code == 503
    assert down.headers["retry-after"] == "60"
    assert "intente más tarde" in down.json()["detail"]
    assert anthropic_emulator.requests()["count"] == 0


async def test_unreachable_previred_is_503(
    previred_app: Any, quipu_client: Any, anthropic_emulator: Any
) -> None:
    closed = DocumentServer()  # bound, never served, then closed: connection refused
    closed.httpd.server_close()
    async with quipu_client(previred_app(closed)) as client:
        response = await client.get(f"/api/payroll/indicators/{PERIOD}")
    assert response.status_code == 503
    assert "ConnectError" in response.json()["detail"]


async def test_no_llm_key_or_an_overloaded_llm_is_503(
    previred_app: Any,
    quipu_client: Any,
    anthropic_emulator: Any,
    served: tuple[DocumentServer, bytes],
) -> None:
    server, _ = served
    async with quipu_client(previred_app(server, llm=False)) as client:
        no_key = await client.get(f"/api/payroll/indicators/{PERIOD}")
    assert no_key.status_code == 503
    assert "el LLM no está disponible (not_configured" in no_key.json()["detail"]
    anthropic_emulator.faults({"fault": "529-no-retry"})
    script_extraction(anthropic_emulator, EXTRACTED)
    async with quipu_client(previred_app(server)) as client:
        overloaded = await client.get(f"/api/payroll/indicators/{PERIOD}")
    assert overloaded.status_code == 503
    assert "el LLM no respondió (overloaded)" in overloaded.json()["detail"]


async def test_fetch_can_be_turned_off(
    make_quipu_app: Any, quipu_client: Any, flush_redis: None
) -> None:
    from quipu_previred import plugin

    app = make_quipu_app([("previred", plugin)], config="[plugins.previred]\nfetch_urls = []\n")
    async with quipu_client(app) as client:
        response = await client.get(f"/api/payroll/indicators/{PERIOD}")
    assert response.status_code == 404
    assert "la descarga desde Previred está desactivada" in response.json()["detail"]
