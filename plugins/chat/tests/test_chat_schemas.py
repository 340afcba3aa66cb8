"""Request decoding (the Odoo wizard's payload included), limits, response shapes, config."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from litestar import post
from litestar.params import JSONBody
from quipu.api import hookimpl
from quipu_chat import plugin
from quipu_chat.config import ChatConfig
from quipu_chat.runtime import CHAT_RUNTIME
from quipu_chat.schemas import (
    ChatMessageRequest,
    ChatRequest,
    ChatResponse,
    DeleteSessionResponse,
    InputTooLarge,
    KnowledgeResult,
    KnowledgeSearchResponse,
    NewSessionRequest,
    NewSessionResponse,
    SessionMessage,
    SessionResponse,
    SessionStats,
    TokenUsage,
    check_limits,
    session_response,
)
from quipu_chat.session_base import History, SessionInfo, Turn

XML = (
    '<DTE version="1.0">\n  <Documento ID="F1"><RUTEmisor>76086428-5</RUTEmisor>'
    "</Documento>\n</DTE>"
)

#: The Odoo universal chat wizard's body (reference §7.3), as it sends it.
WIZARD = {
    "message": "¿Por qué el SII rechazó esta factura?",
    "session_id": "chat_7_1a2b3c4d",
    "context": {
        "user": {
            "id": 7,
            "name": "Juana Pérez",
            "login": "juana@acme.cl",
            "company_id": 3,
            "company_name": "Acme SpA",
            "language": "es_CL",
        },
        "odoo": {"active_model": "account.move", "active_id": 42, "active_record_name": "F 1"},
        "session_id": "chat_7_1a2b3c4d",
        "active_record_data": {
            "partner_id": {"id": 9, "name": "Cliente"},
            "invoice_date": "2025-01-31",
            "amount_total": 119000.0,
        },
        "module": "l10n_cl_dte",
    },
    "stream": True,
}


def decode(body: Any, kind: type[Any]) -> Any:
    return msgspec.json.decode(json.dumps(body).encode(), type=kind)


def test_the_odoo_wizard_payload_decodes() -> None:
    request = decode({**WIZARD, "unknown_extra": [1]}, ChatRequest)
    assert request.session_id == "chat_7_1a2b3c4d"
    assert request.stream is True
    assert request.module == "l10n_cl_dte"
    assert request.company_id == 3
    assert request.effective_context == WIZARD["context"]
    assert request.message == WIZARD["message"]


def test_message_request_with_user_context_and_alias() -> None:
    request = decode(
        {
            "message": XML,
            "session_id": "3f1c1b1e-8d2a-4c55-9a77-0e6f1f0b8a10",
            "user_context": {"company_name": "Acme", "module": " hr_payroll "},
            "context": {"company_name": "ignored", "company_id": "5"},
        },
        ChatMessageRequest,
    )
    assert request.message == XML  # the text is data: never stripped of its tags
    assert request.effective_context == {
        "company_name": "Acme",
        "module": " hr_payroll ",
        "company_id": "5",
    }
    assert request.module == "hr_payroll"
    assert request.company_id == 5
    bare = decode({"message": "hola", "session_id": ""}, ChatMessageRequest)
    assert bare.session_id is None
    assert bare.effective_context is None
    assert bare.module is None
    assert decode({}, NewSessionRequest).effective_context is None
    assert decode({"user_context": {"a": 1}}, NewSessionRequest).effective_context == {"a": 1}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"message": "   \n"}, "message is empty: send the question"),
        ({"message": "hola", "session_id": "../etc/passwd"}, "session_id '../etc/passwd' is not"),
        ({"message": "hola", "session_id": "a" * 129}, "use 1 to 128 letters"),
        ({"message": "x" * 100_001}, "shorten it or split it"),
        ({"session_id": "abc"}, "missing required field `message`"),
    ],
)
def test_invalid_requests_say_how_to_fix(body: dict[str, Any], says: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=says.replace("(", r"\(")):
        decode(body, ChatRequest)


def test_configured_limits() -> None:
    config = ChatConfig(max_message_chars=10, max_context_bytes=40)
    check_limits(decode({"message": "0123456789"}, ChatMessageRequest), config)
    with pytest.raises(InputTooLarge, match="message has 11 characters; the limit is 10"):
        check_limits(decode({"message": "0123456789X"}, ChatMessageRequest), config)
    with pytest.raises(InputTooLarge, match="limit is 40: send only the fields"):
        check_limits(decode({"user_context": {"k": "v" * 40}}, NewSessionRequest), config)


def test_responses_have_the_original_field_names_first() -> None:
    chat = ChatResponse(
        message="m",
        sources=["Notas de crédito"],
        confidence=85,
        session_id="s",
        tokens_used=TokenUsage(input_tokens=1, output_tokens=2, total_tokens=3),
        plugin_used="dte.dte",
    )
    assert list(msgspec.to_builtins(chat)) == [
        "message",
        "sources",
        "confidence",
        "session_id",
        "llm_used",
        "tokens_used",
        "plugin_used",
        "skill",  # ours from here on
        "usage",
        "confidence_reasons",
    ]
    assert msgspec.to_builtins(NewSessionResponse(session_id="s"))["welcome_message"]
    session = SessionResponse(
        session_id="s",
        message_count=1,
        messages=[SessionMessage(role="user", content="hola", timestamp="2025-01-01T00:00:00")],
        stats=SessionStats(session_id="s", message_count=1, ttl_remaining_seconds=5, exists=True),
    )
    assert msgspec.to_builtins(session)["messages"] == [
        {"role": "user", "content": "hola", "timestamp": "2025-01-01T00:00:00"}
    ]
    assert msgspec.to_builtins(DeleteSessionResponse(session_id="s")) == {
        "session_id": "s",
        "status": "cleared",
        "message": "Session history and context deleted",
    }
    found = KnowledgeSearchResponse(
        query="q",
        results_found=1,
        results=[
            KnowledgeResult(id="a#0", title="t", module="dte", tags=[], content="c", file_path="a")
        ],
    )
    assert set(msgspec.to_builtins(found)["results"][0]) >= {
        "id",
        "title",
        "module",
        "tags",
        "content",
        "file_path",
    }


def test_session_response_for_known_and_unknown_ids() -> None:
    unknown = msgspec.to_builtins(session_response("nope", None))
    assert unknown == {
        "session_id": "nope",
        "message_count": 0,
        "messages": [],
        "stats": {
            "session_id": "nope",
            "message_count": 0,
            "ttl_remaining_seconds": 0,
            "exists": False,
        },
    }
    info = SessionInfo(
        session_id="s", owner="1", created_at="", context=None, message_count=30, ttl_s=99
    )
    turns = (
        Turn(role="user", content=XML, timestamp="2025-01-01T00:00:00"),
        Turn(role="assistant", content="ok", timestamp="2025-01-01T00:00:01", skill="dte.dte"),
    )
    known = msgspec.to_builtins(
        session_response("s", History(session=info, turns=turns, total=30, older=28))
    )
    assert known["message_count"] == 2
    assert known["messages"][0] == {
        "role": "user",
        "content": XML,
        "timestamp": "2025-01-01T00:00:00",
    }
    assert known["messages"][1]["plugin_used"] == "dte.dte"
    assert known["stats"] == {
        "session_id": "s",
        "message_count": 30,
        "ttl_remaining_seconds": 99,
        "exists": True,
    }


def test_config_defaults_and_checks() -> None:
    config = ChatConfig()
    assert (config.session_ttl_s, config.max_tool_rounds, config.knowledge_top_k) == (3600, 4, 3)
    assert config.keepalive_s == 5.0
    assert config.modules["hr_payroll"] == "payroll"
    for bad, says in (
        ({"session_ttl_s": 0}, "session_ttl_s = 0: use a positive number"),
        ({"history_window": 300}, "raise max_stored_messages"),
        ({"nope": 1}, "unknown field"),
    ):
        with pytest.raises(msgspec.ValidationError, match=says):
            msgspec.convert(bad, ChatConfig)


class _Probe:
    """A test plugin with one route that decodes the wizard's body."""

    @staticmethod
    @post("/probe/chat", status_code=200)
    async def probe(data: JSONBody[ChatRequest]) -> dict[str, Any]:
        return {"module": data.module, "session_id": data.session_id}

    @staticmethod
    @hookimpl
    def register_routes() -> list[Any]:
        return [_Probe.probe]


async def test_the_plugin_in_the_platform(make_quipu_app: Any, quipu_client: Any) -> None:
    app = make_quipu_app(
        [("chat", plugin), ("probe", _Probe)],
        config="[plugins.chat]\nsession_ttl_s = 600\n[plugins.chat.module_map]\nstock = 'dte'\n",
    )
    state = app.state["quipu"]
    config = state.registry.configs["chat"]
    assert isinstance(config, ChatConfig)
    assert config.session_ttl_s == 600
    assert config.modules["stock"] == "dte"
    runtime = state.registry.contexts["chat"].service(CHAT_RUNTIME)
    assert runtime.documents["chat.uso_asistente"].title == "Uso del asistente"
    async with quipu_client(app) as client:
        ok = await client.post("/probe/chat", json=WIZARD)
        assert ok.status_code == 200
        assert ok.json() == {"module": "l10n_cl_dte", "session_id": "chat_7_1a2b3c4d"}
        bad = await client.post("/probe/chat", json={**WIZARD, "message": " "})
        assert bad.status_code == 422
        assert "message is empty: send the question" in bad.json()["detail"]
