"""Refuse request bodies a JSON route cannot read before anything reads them.

Litestar parses a JSON body whatever its ``Content-Type`` says (a form or ``text/plain``
post was read as JSON) and answers an empty body with a 422 about a missing ``data``
field. For every route whose handler takes a JSON ``data`` body the platform layer
(:mod:`quipu.edge`) answers first, with the JSON error shape of every quipu error
(``detail`` and ``request_id``):

- **415** when ``Content-Type`` is present and is not JSON (``application/json`` or a
  ``+json`` type), or declares a charset other than UTF-8
  (:func:`quipu.security.charset.unsupported_charset`); a missing ``Content-Type`` is read
  as JSON, as the original service did;
- **413** when ``Content-Length`` announces more than ``[platform] max_body_bytes`` (a
  chunked body over the limit is cut off by Litestar while it is read: also 413);
- **400** when ``Content-Length`` is not a number, or is 0 on a route that needs a body.

Malformed JSON (400) and bodies of the wrong shape (422) are answered by the exception
handlers in :mod:`quipu.http_errors`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.enums import RequestEncodingType
from litestar.types import HTTPResponseStartEvent, Scope, Send
from litestar.utils.empty import value_or_default

from quipu.security.charset import unsupported_charset

__all__ = ["BodyRule", "body_problem", "body_rule", "send_json_error"]


class BodyRule(msgspec.Struct, frozen=True):
    """What a route's handler reads from the body."""

    required: bool
    """False when ``data`` is optional or has a default (an empty body is fine)."""


def body_rule(handler: Any) -> BodyRule | None:
    """The rule of a route handler taking a JSON ``data`` body, else None."""
    signature = getattr(handler, "parsed_fn_signature", None)
    field = signature.parameters.get("data") if signature is not None else None
    if field is None:
        return None
    media_type = getattr(field.kwarg_definition, "media_type", RequestEncodingType.JSON)
    if value_or_default(media_type, RequestEncodingType.JSON) != RequestEncodingType.JSON:
        return None
    return BodyRule(required=not (field.is_optional or field.has_default))


async def send_json_error(
    scope: Scope,
    send: Send,
    status: int,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer ``{"detail": ..., "request_id": ...}`` straight from a middleware."""
    body = msgspec.json.encode(
        {"detail": detail, "request_id": scope.get("state", {}).get("quipu.request_id")}
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *(headers or []),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def body_problem(
    content_type: bytes | None, length: bytes | None, rule: BodyRule, max_body_bytes: int
) -> tuple[int, str] | None:
    """``(status, detail)`` when the request's headers already rule its body out, else None.

    ``content_type`` and ``length`` are the raw header values (None when absent).
    """
    if content_type is not None:
        text = content_type.decode("latin-1")
        if not _is_json(text):
            return 415, (
                f"unsupported Content-Type {text[:100]!r}: send the request body as JSON with "
                "'Content-Type: application/json'"
            )
        charset = unsupported_charset(text)
        if charset is not None:
            return 415, (
                f"unsupported charset {charset[:40]!r}: quipu reads JSON as UTF-8; send the "
                "body in UTF-8, with 'charset=utf-8' or no charset"
            )
    if length is None:
        return None
    try:
        size = int(length)
    except ValueError:
        return 400, f"Content-Length {length.decode('latin-1')[:40]!r} is not a number of bytes"
    if size > max_body_bytes:
        return 413, (
            f"request body of {size} bytes is over the limit of {max_body_bytes} "
            "bytes; send less (or split a batch)"
        )
    if size == 0 and rule.required:
        return 400, "request body is empty: send a JSON object"
    return None
