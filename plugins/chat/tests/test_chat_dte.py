"""Issue 7's acceptance test with the real DTE plugin: an IVA error found by ``validate_dte``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chat_kit import AUTH_1, CONFIG, KEY_1, KEY_2, emulator_messages

quipu_dte = pytest.importorskip("quipu_dte.plugin")

DTE = {
    "tipo_dte": 33,
    "folio": 1234,
    "fecha_emision": "2025-10-01",
    "rut_emisor": "76.354.771-K",
    "rut_receptor": "96.670.340-7",
    "monto_neto": 100000,
    "monto_iva": 18000,
    "monto_total": 118000,
}


async def test_a_dte_with_an_iva_error_makes_the_assistant_call_validate_dte_and_cite_it(
    make_quipu_app: Callable[..., Any],
    quipu_client: Any,
    anthropic_emulator: Any,
    flush_redis: None,
) -> None:
    from quipu_chat import plugin as chat_plugin

    anthropic_emulator.script(
        {
            "tool": "validate_dte",
            "user_contains": "IVA 18.000",
            "tool_use": [{"name": "validate_dte", "input": {"dte_data": DTE}}],
            "times": 1,
        },
        {
            "user_contains": "DTE_IVA_MISMATCH",
            "text": (
                "La factura tiene un error de IVA (DTE_IVA_MISMATCH): declara $18.000 y debe "
                "ser $19.000, el 19% del neto de $100.000. Corrígelo con una nota de crédito."
            ),
        },
    )
    env = {
        "ANTHROPIC_API_KEY": "test",
        "ANTHROPIC_BASE_URL": anthropic_emulator.url,
        "CHAT_KEY_1": KEY_1,
        "CHAT_KEY_2": KEY_2,
    }
    app = make_quipu_app([("chat", chat_plugin), ("dte", quipu_dte)], config=CONFIG, env=env)
    question = (
        "Mi factura 33 folio 1234 del 76.354.771-K tiene neto 100.000, IVA 18.000 y total "
        "118.000. ¿Está bien?"
    )
    async with quipu_client(app) as client:
        response = await client.post(
            "/api/chat",
            json={"message": question, "session_id": "chat_5_0badf00d", "context": {"user": {}}},
            headers=AUTH_1,
        )
    body = response.json()

    assert response.status_code == 200, body
    assert body["skill"] == "dte.dte"
    first, second = emulator_messages(anthropic_emulator)
    assert "validate_dte" in [tool["name"] for tool in first["tools"]]
    call = second["messages"][-2]["content"][-1]
    result = second["messages"][-1]["content"][0]
    assert call["name"] == "validate_dte"
    assert result["tool_use_id"] == call["id"]
    assert "is_error" not in result
    assert "DTE_IVA_MISMATCH" in result["content"]
    assert '"company_id":1' in result["content"]  # ran with the caller's company
    assert "DTE_IVA_MISMATCH" in body["message"]
    assert "$19.000" in body["message"]
    assert body["usage"]["tool_calls"] == 1
    assert any("tool result" in reason for reason in body["confidence_reasons"])
