"""Bodies quipu cannot read are refused cleanly, over real HTTP (Granian), on every JSON route.

Each case states what was sent and what the client must see: a 4xx with a ``detail``
that says what to fix and the ``request_id``, never a 5xx and never a model call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from platform_kit import FULL, messages_calls

pytestmark = pytest.mark.slow

#: Every route taking a JSON body, with a body each accepts.
JSON_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/ai/validate", {"dte_data": {"tipo_dte": "33"}, "company_id": 1}),
    ("POST", "/api/ai/validate/batch", {"documents": [{"tipo_dte": "33"}], "company_id": 1}),
    ("POST", "/api/ai/reception/match_po", {"dte_data": {}, "pending_pos": [], "company_id": 1}),
    ("POST", "/api/payroll/validate", {"period": "2025-07", "lines": []}),
    ("PUT", "/api/payroll/indicators/2025-07", {"uf": 39179.01}),
    ("POST", "/api/chat/message", {"message": "hola"}),
    ("POST", "/api/chat/message/stream", {"message": "hola"}),
    ("POST", "/api/chat", {"message": "hola"}),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in JSON_ROUTES]
MAX_BODY = 5 * 1024 * 1024  # [platform] max_body_bytes, the default


@pytest.fixture
def client(live_quipu: Any, anthropic_emulator: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_quipu.url, headers=FULL, timeout=20.0) as http:
        yield http


def assert_refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    for word in words:
        assert word in body["detail"], body
    assert body["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(("method", "path", "body"), JSON_ROUTES, ids=ROUTE_IDS)
def test_wrong_content_type_is_415(
    client: httpx.Client, anthropic_emulator: Any, method: str, path: str, body: dict[str, Any]
) -> None:
    """Sent: valid JSON labelled ``text/plain``, then as a form, then as JSON in latin-1.
    Seen: 415 naming the type (or the charset)."""
    raw = json.dumps(body).encode()
    plain = client.request(method, path, content=raw, headers={"content-type": "text/plain"})
    form = client.request(
        method, path, content=raw, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    latin1 = client.request(
        method,
        path,
        content=raw,
        headers={"content-type": "application/json; charset=ISO-8859-1"},
    )
    assert_refused(plain, 415, "'text/plain'", "Content-Type: application/json")
    assert_refused(form, 415, "application/x-www-form-urlencoded")
    assert_refused(latin1, 415, "charset 'iso-8859-1'", "UTF-8")
    assert messages_calls(anthropic_emulator) == []


@pytest.mark.parametrize(("method", "path", "body"), JSON_ROUTES, ids=ROUTE_IDS)
def test_malformed_json_is_400(
    client: httpx.Client, anthropic_emulator: Any, method: str, path: str, body: dict[str, Any]
) -> None:
    """Sent: cut-off JSON, bytes that are not UTF-8, an empty body. Seen: 400 each, saying so."""
    json_type = {"content-type": "application/json"}
    cut = client.request(method, path, content=b'{"company_id": 1, "dte', headers=json_type)
    latin1 = client.request(
        method, path, content='{"x": "año"}'.encode("latin-1"), headers=json_type
    )
    empty = client.request(method, path, content=b"", headers=json_type)
    assert_refused(cut, 400, "not valid JSON")
    assert_refused(latin1, 400, "not valid JSON", "UTF-8")
    assert_refused(empty, 400, "empty")
    assert messages_calls(anthropic_emulator) == []


def nested_body(body: dict[str, Any], depth: int) -> bytes:
    """``body`` with one more field holding an array nested ``depth`` levels."""
    head = json.dumps(body).encode()[:-1]
    return head + b', "pad": ' + b"[" * depth + b"]" * depth + b"}"


def server_ms(response: httpx.Response) -> float:
    """The server's own time to the response start (``Server-Timing: app;dur=``)."""
    found = re.search(r"\bapp;dur=([0-9.]+)", response.headers["server-timing"])
    assert found, response.headers["server-timing"]
    return float(found.group(1))


@pytest.mark.parametrize(("method", "path", "body"), JSON_ROUTES, ids=ROUTE_IDS)
def test_deeply_nested_json_is_400_and_quick(
    client: httpx.Client, anthropic_emulator: Any, method: str, path: str, body: dict[str, Any]
) -> None:
    """Sent: a valid body plus an array nested 1,000 levels (~2 KB), then 10^6 levels
    (2 MB). Seen: 400 saying it is nested too deeply, the 10^6 one handled by the server in
    under 50 ms (its ``Server-Timing``, so network time is left out); 500 levels (the
    documented limit) are read: no 5xx, no nesting complaint."""
    json_type = {"content-type": "application/json"}
    deep = client.request(method, path, content=nested_body(body, 1_000), headers=json_type)
    huge = client.request(method, path, content=nested_body(body, 1_000_000), headers=json_type)
    fine = client.request(method, path, content=nested_body(body, 500), headers=json_type)
    assert_refused(deep, 400, "nested too deeply")
    assert_refused(huge, 400, "nested too deeply")
    assert server_ms(huge) < 50
    assert fine.status_code < 500, fine.text
    assert "nested" not in fine.text


def test_oversized_bodies_are_413_announced_or_chunked(
    client: httpx.Client, anthropic_emulator: Any
) -> None:
    """Sent: 6 MiB with a Content-Length, then 6 MiB chunked (no length). Seen: 413 both."""
    blob = b'{"dte_data": {"dte_xml": "' + b"x" * (6 * 1024 * 1024) + b'"}, "company_id": 1}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(blob), 64 * 1024):
            yield blob[start : start + 64 * 1024]

    json_type = {"content-type": "application/json"}
    announced = client.post("/api/ai/validate", content=blob, headers=json_type)
    chunked = client.post("/api/ai/validate", content=chunks(), headers=json_type)
    assert_refused(announced, 413, f"limit of {MAX_BODY} bytes", f"{len(blob)} bytes")
    assert_refused(chunked, 413, f"limit of {MAX_BODY} bytes")
    assert messages_calls(anthropic_emulator) == []


def test_a_json_content_type_with_parameters_or_a_json_suffix_is_read(
    client: httpx.Client,
) -> None:
    """Sent: ``application/json; charset=utf-8``, ``application/vnd.odoo+json``, no type.
    Seen: each read as JSON (200), so real clients are not refused."""
    body = b'{"query_ignored": 1, "message": "hola"}'
    for content_type in ("application/json; charset=utf-8", "application/vnd.odoo+json", None):
        headers = {"content-type": content_type} if content_type else {}
        response = client.post("/api/chat/session/new", content=body, headers=headers)
        assert response.status_code == 200, (content_type, response.text)


def test_an_optional_body_may_be_empty(client: httpx.Client) -> None:
    """Sent: ``POST /api/chat/session/new`` with no body. Seen: 200, a new session."""
    response = client.post("/api/chat/session/new")
    assert response.status_code == 200, response.text
    assert response.json()["session_id"]
