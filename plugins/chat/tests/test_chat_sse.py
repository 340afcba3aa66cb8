"""SSE framing, parsed back by the WHATWG algorithm and by httpx-sse."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from httpx_sse import aconnect_sse
from litestar import Litestar, get
from litestar.response import Stream
from litestar.testing import AsyncTestClient
from quipu_chat.schemas import TokenUsage
from quipu_chat.sse import (
    SSE_HEADERS,
    DoneEvent,
    DoneMetadata,
    ErrorEvent,
    TextEvent,
    sse_comment,
    sse_event,
    with_keepalive,
)

XML = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n<DTE version="1.0">\r\n'
    '  <Documento ID="F33T1">\n    <Folio>1</Folio>\n    <!-- "comillas" \\n & ñ -->\n'
    "  </Documento>\n</DTE>\n\ndata: not a field\n: not a comment"
)


def parse(stream: str) -> list[dict[str, str]]:
    """The event-stream interpretation of the WHATWG HTML standard (§9.2.6), verbatim."""
    events: list[dict[str, str]] = []
    data, event_type, last_id = "", "", ""
    stream = stream.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", stream)
    for line in lines[:-1]:  # the last piece is an incomplete line: not processed
        if line == "":
            if data == "":
                event_type = ""
                continue
            events.append(
                {"type": event_type or "message", "data": data.removesuffix("\n"), "id": last_id}
            )
            data, event_type = "", ""
            continue
        if line.startswith(":"):
            continue
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            event_type = value
        elif field == "data":
            data += value + "\n"
        elif field == "id" and "\0" not in value:
            last_id = value
    return events


def test_payloads_have_the_original_shapes() -> None:
    assert msgspec.json.decode(sse_event(TextEvent(content="Hola")).split(b"data: ")[1]) == {
        "type": "text",
        "content": "Hola",
    }
    done = DoneEvent(
        metadata=DoneMetadata(
            sources=["Notas de crédito"],
            confidence=85,
            session_id="s1",
            tokens_used=TokenUsage(input_tokens=10, output_tokens=5, total_tokens=15),
            plugin_used="dte.dte",
        )
    )
    body = parse(sse_event(done).decode())[0]["data"]
    assert json.loads(body) == {
        "type": "done",
        "metadata": {
            "sources": ["Notas de crédito"],
            "confidence": 85,
            "session_id": "s1",
            "llm_used": "anthropic",
            "tokens_used": {
                "input_tokens": 10,
                "output_tokens": 5,
                "total_tokens": 15,
                "cache_read_tokens": 0,
                "cache_creation_tokens": 0,
            },
            "plugin_used": "dte.dte",
            "skill": None,
            "usage": None,
            "confidence_reasons": [],
        },
    }
    assert json.loads(parse(sse_event(ErrorEvent(content="falló")).decode())[0]["data"]) == {
        "type": "error",
        "content": "falló",
    }


def test_framing_is_real_lines_and_blank_line_terminated() -> None:
    raw = sse_event(TextEvent(content=XML))
    assert raw.endswith(b"\n\n")
    assert raw.startswith(b"data: {")
    assert raw.count(b"\n") == 2  # one data line (JSON escapes the XML's line breaks)
    assert b"\\n\\n" not in raw[-4:]
    multi = sse_event("uno\ndos\r\ntres\rcuatro", event="note", id="7", retry_ms=1500)
    assert multi == (
        b"event: note\nid: 7\nretry: 1500\ndata: uno\ndata: dos\ndata: tres\ndata: cuatro\n\n"
    )
    assert sse_event(b"") == b"data: \n\n"
    assert sse_comment() == b": keep-alive\n\n"
    assert sse_comment("a\nb") == b": a\n: b\n\n"
    for bad in ({"event": "a\nb"}, {"id": "1\r"}, {"id": "1\0"}):
        with pytest.raises(ValueError, match="line breaks"):
            sse_event("x", **bad)


def test_a_standards_parser_gets_every_event_back_intact() -> None:
    stream = b"".join(
        [
            sse_comment("keep-alive"),
            sse_event(TextEvent(content=XML)),
            sse_event(TextEvent(content=" con espacio inicial")),
            sse_event(XML, event="raw", id="42"),
            sse_comment(),
            sse_event(DoneEvent(metadata=DoneMetadata(sources=[], confidence=40, session_id="s"))),
        ]
    ).decode()
    events = parse(stream)
    assert [e["type"] for e in events] == ["message", "message", "raw", "message"]
    assert msgspec.json.decode(events[0]["data"], type=TextEvent).content == XML
    assert json.loads(events[1]["data"])["content"] == " con espacio inicial"
    assert events[2]["data"] == XML.replace("\r\n", "\n")  # raw text: line breaks normalised
    assert events[2]["id"] == "42"
    assert events[3]["id"] == "42"
    assert json.loads(events[3]["data"])["type"] == "done"


async def test_httpx_sse_parses_it_too() -> None:
    body = sse_event(TextEvent(content=XML)) + sse_event("a\nb", event="raw") + sse_comment()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client,
        aconnect_sse(client, "GET", "http://quipu.test/stream") as source,
    ):
        events = [sse async for sse in source.aiter_sse()]
    assert [e.event for e in events] == ["message", "raw"]
    assert events[0].json() == {"type": "text", "content": XML}
    assert events[1].data == "a\nb"


async def _slow(first_after: float, log: list[str]) -> AsyncIterator[bytes]:
    try:
        await asyncio.sleep(first_after)
        yield sse_event(TextEvent(content="hola"))
        yield sse_event(TextEvent(content=" mundo"))
    finally:
        log.append("closed")


async def test_keepalive_comments_while_the_model_is_slow() -> None:
    log: list[str] = []
    chunks = [c async for c in with_keepalive(_slow(0.17, log), 0.05)]
    comments = [c for c in chunks if c.startswith(b":")]
    assert len(comments) >= 2
    assert all(c == b": keep-alive\n\n" for c in comments)
    assert [c for c in chunks if not c.startswith(b":")] == [
        sse_event(TextEvent(content="hola")),
        sse_event(TextEvent(content=" mundo")),
    ]
    assert log == ["closed"]


async def test_keepalive_closes_the_source_when_the_client_leaves() -> None:
    log: list[str] = []
    stream = with_keepalive(_slow(10, log), 0.02)
    assert await anext(stream) == sse_comment()
    await stream.aclose()
    assert log == ["closed"]


async def test_through_litestar_with_the_right_headers() -> None:
    @get("/stream")
    async def stream() -> Stream:
        return Stream(
            with_keepalive(_slow(0.06, []), 0.02),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )

    app = Litestar(route_handlers=[stream])
    async with (
        AsyncTestClient(app=app) as client,
        aconnect_sse(client, "GET", "/stream") as source,
    ):
        assert source.response.headers["cache-control"] == "no-cache"
        assert source.response.headers["x-accel-buffering"] == "no"
        assert source.response.headers["content-type"].startswith("text/event-stream")
        texts = [e.json()["content"] async for e in source.aiter_sse()]
    assert texts == ["hola", " mundo"]
