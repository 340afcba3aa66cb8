"""Bodies a JSON route cannot read: 415, 413, 400, each with a ``detail`` (BodyGuardMiddleware).

The assembled platform's routes are checked over real HTTP in
``tests/fuzz/test_request_bodies.py``; this is the core's own contract, on a test plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import pytest
from litestar import post
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody
from quipu.api import hookimpl


class Invoice(msgspec.Struct):
    amount: int


@post("/api/acme/invoice", status_code=200)
async def invoice(data: JSONBody[Invoice]) -> dict[str, int]:
    return {"amount": data.amount}


@post("/api/acme/maybe", status_code=200)
async def maybe(data: JSONBody[Invoice | None] = None) -> dict[str, bool]:
    return {"empty": data is None}


@post("/api/acme/form", status_code=200)
async def form(
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> dict[str, str]:
    return data


@post("/api/acme/ping", status_code=200)
async def ping() -> dict[str, str]:
    return {"pong": "ok"}


class AcmePlugin:
    @hookimpl
    def register_routes(self) -> list[Any]:
        return [invoice, maybe, form, ping]


@pytest.fixture
def app(make_quipu_app: Callable[..., Any]) -> Any:
    return make_quipu_app([("acme", AcmePlugin())], config="[platform]\nmax_body_bytes = 1024\n")


async def test_refusals_carry_a_detail_and_the_request_id(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        text = await client.post(
            "/api/acme/invoice", content=b'{"amount": 1}', headers={"content-type": "text/plain"}
        )
        big = await client.post("/api/acme/invoice", json={"amount": 1, "pad": "x" * 2000})
        empty = await client.post(
            "/api/acme/invoice", content=b"", headers={"content-type": "application/json"}
        )
        bad_length = await client.post(
            "/api/acme/invoice",
            content=b'{"amount": 1}',
            headers={"content-type": "application/json", "content-length": "lots"},
        )
        cut = await client.post(
            "/api/acme/invoice",
            content=b'{"amount": ',
            headers={"content-type": "application/json"},
        )
        latin1 = await client.post(
            "/api/acme/invoice",
            content='{"amount": 1, "nota": "año"}'.encode("latin-1"),
            headers={"content-type": "application/json"},
        )
    expected = [
        (text, 415, "unsupported Content-Type 'text/plain'"),
        (big, 413, "over the limit of 1024 bytes"),
        (empty, 400, "request body is empty"),
        (bad_length, 400, "is not a number of bytes"),
        (cut, 400, "request body is not valid JSON"),
        (latin1, 400, "not UTF-8"),
    ]
    for response, status, words in expected:
        assert response.status_code == status, response.text
        assert words in response.json()["detail"]
        assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_what_is_readable_passes(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        typed = await client.post(
            "/api/acme/invoice",
            content=b'{"amount": 3}',
            headers={"content-type": "application/json; charset=utf-8"},
        )
        untyped = await client.post("/api/acme/invoice", content=b'{"amount": 4}')
        optional = await client.post("/api/acme/maybe")
        a_form = await client.post("/api/acme/form", data={"a": "b"})
        no_body = await client.post(
            "/api/acme/ping", content=b"x", headers={"content-type": "text/plain"}
        )
    assert typed.json() == {"amount": 3}
    assert untyped.json() == {"amount": 4}
    assert optional.json() == {"empty": True}
    assert a_form.json() == {"a": "b"}  # not a JSON route: not the guard's business
    assert no_body.status_code == 200  # takes no body: nothing to refuse


async def test_optional_bodies_are_documented_as_optional(app: Any, quipu_client: Any) -> None:
    async with quipu_client(app) as client:
        paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert paths["/api/acme/maybe"]["post"]["requestBody"]["required"] is False
    assert paths["/api/acme/invoice"]["post"]["requestBody"]["required"] is True
    responses = paths["/api/acme/invoice"]["post"]["responses"]
    assert {"400", "401", "403", "413", "415", "422", "default"} <= set(responses)
    error = responses["415"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/QuipuError"}


def nested(depth: int) -> tuple[bytes, bytes]:
    """An array and an object nested ``depth`` levels, each inside a valid invoice."""
    array = b"[" * depth + b"]" * depth
    mapping = b'{"a":' * depth + b"1" + b"}" * depth
    return (
        b'{"amount": 1, "pad": ' + array + b"}",
        b'{"amount": 1, "pad": ' + mapping + b"}",
    )


async def test_json_nested_too_deeply_is_400(
    make_quipu_app: Callable[..., Any], quipu_client: Any
) -> None:
    """msgspec raises RecursionError past Python's recursion limit: a 400 saying so, not 500.

    Nesting the decoder can follow (a few hundred levels) is still read.
    """
    app = make_quipu_app([("acme", AcmePlugin())])
    json_type = {"content-type": "application/json"}
    async with quipu_client(app) as client:
        for body in nested(300):
            fine = await client.post("/api/acme/invoice", content=body, headers=json_type)
            assert fine.status_code == 200, fine.text
        # 10**6 levels as an array (2 MB); as an object it would be over the body limit.
        for body in (*nested(1_000), nested(1_000_000)[0]):
            deep = await client.post("/api/acme/invoice", content=body, headers=json_type)
            assert deep.status_code == 400, deep.text
            assert "nested too deeply" in deep.json()["detail"]
            assert deep.json()["request_id"] == deep.headers["x-request-id"]


async def test_a_charset_other_than_utf8_is_415(app: Any, quipu_client: Any) -> None:
    """JSON is UTF-8 (RFC 8259): a body declared in latin-1 (or UTF-16) was read as UTF-8
    regardless; now 415 names the charset. UTF-8 and ASCII declarations are read."""
    body = '{"amount": 1, "nota": "año"}'
    async with quipu_client(app) as client:
        refused = {
            declared: await client.post(
                "/api/acme/invoice",
                content=body.encode(codec),
                headers={"content-type": f"application/json; charset={declared}"},
            )
            for declared, codec in (("latin-1", "latin-1"), ("UTF-16", "utf-16"))
        }
        read = [
            await client.post(
                "/api/acme/invoice",
                content=body.encode(),
                headers={"content-type": f"application/json;charset={declared}"},
            )
            for declared in ('"UTF-8"', "utf8", "us-ascii")
        ]
    for declared, response in refused.items():
        assert response.status_code == 415, response.text
        assert f"unsupported charset {declared.lower()!r}" in response.json()["detail"]
        assert "UTF-8" in response.json()["detail"]
    assert [r.status_code for r in read] == [200, 200, 200]
