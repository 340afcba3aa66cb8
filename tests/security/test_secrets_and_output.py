"""Keys are never echoed or logged; personal data is masked in logs; model output is data.

Against the live ``quipu serve`` (Granian, JSON logs of every worker captured), so what is
checked is what an operator's log pipeline would receive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from platform_kit import AUTH_1, FULL, KEY_1
from quipu.testing.pytest_plugin import TEST_API_KEY
from quipu.testing.server import QuipuServer

pytestmark = pytest.mark.slow

WRONG_KEYS = [
    "wrong-key-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    TEST_API_KEY[:-1],  # one character short of the real key
    TEST_API_KEY + "x",
]
HOSTILE = '<script>alert("quipu")</script><img src=x onerror="alert(1)">'


@pytest.fixture
def client(live_quipu: QuipuServer, anthropic_emulator: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_quipu.url, timeout=20.0) as http:
        yield http


def test_wrong_keys_are_never_echoed_nor_logged(
    client: httpx.Client, live_quipu: QuipuServer
) -> None:
    """Sent: near-miss and wrong keys (bearer, lowercase scheme, Basic), plus right keys.
    Seen: 401 that names no key; no key, right or wrong, anywhere in the server's logs."""
    responses = []
    for key in WRONG_KEYS:
        for header in (f"Bearer {key}", f"bearer {key}", f"Basic {key}"):
            responses.append(
                client.post(
                    "/api/ai/validate",
                    json={"dte_data": {"tipo_dte": "33"}, "company_id": 1},
                    headers={"Authorization": header},
                )
            )
    ok = client.get("/api/payroll/indicators/2025-07", headers=AUTH_1)
    assert ok.status_code == 200
    assert client.get("/metrics/costs", headers=FULL).status_code == 200
    for response in responses:
        assert response.status_code == 401
        shown = response.text + json.dumps(dict(response.headers))
        for key in [*WRONG_KEYS, TEST_API_KEY, KEY_1]:
            assert key not in shown
    logs = live_quipu.output()
    assert logs, "the server logs something"
    for key in [*WRONG_KEYS, TEST_API_KEY, KEY_1, "test-key"]:
        assert key not in logs, f"a key is in the logs: {key[:6]}…"


def test_personal_data_sent_in_requests_is_not_in_the_logs(
    client: httpx.Client, live_quipu: QuipuServer
) -> None:
    """Sent: a slip with the employee's name and RUT, a chat message with a RUT and an
    e-mail, a DTE with RUTs. Seen in the logs at INFO: none of them."""
    rut, name, mail = "12.345.678-5", "Josefina Irarrázaval", "josefina.irarrazaval@acme.cl"
    before = len(live_quipu.output())
    client.post(
        "/api/payroll/validate",
        json={
            "employee_name": name,
            "employee_rut": rut,
            "period": "2025-07",
            "lines": [{"code": "BASIC", "name": f"Sueldo {name}", "amount": 529000}],
        },
        headers=FULL,
    )
    client.post(
        "/api/chat/message",
        json={"message": f"Soy {name}, RUT {rut}, correo {mail}: ¿cuánto es la UF?"},
        headers=FULL,
    )
    client.post(
        "/api/ai/validate",
        json={"dte_data": {"tipo_dte": "33", "rut_emisor": rut, "razon_social_emisor": name}},
        headers=FULL,
    )
    logged = live_quipu.output()[before:]
    for private in (rut, "12345678-5", name, "Irarrázaval", mail):
        assert private not in logged


def test_model_output_is_returned_as_data_never_as_markup(
    client: httpx.Client, anthropic_emulator: Any
) -> None:
    """Injected: the model answers with HTML/JavaScript. Seen: the text exactly as the
    model wrote it, inside JSON (``application/json``) or JSON-encoded SSE events, never
    served as HTML: clients must escape it (docs/security.md)."""
    anthropic_emulator.script({"user_contains": "markup", "text": HOSTILE})
    answer = client.post("/api/chat/message", json={"message": "markup por favor"}, headers=FULL)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["message"] == HOSTILE
    with client.stream(
        "POST", "/api/chat/message/stream", json={"message": "markup otra vez"}, headers=FULL
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line[len("data: ") :])
            for line in stream.iter_lines()
            if line.startswith("data: ")
        ]
    text = "".join(e.get("content", "") for e in events if e["type"] == "text")
    assert text == HOSTILE
