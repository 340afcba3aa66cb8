"""Refuse request bodies a JSON route cannot read before anything reads them.

Litestar parses a JSON body whatever its ``Content-Type`` says (a form or ``text/plain``
post was read as JSON) and answers an empty body with a 422 about a missing ``data``
field. For every route whose handler takes a JSON ``data`` body this middleware answers
first, with the JSON error shape of every quipu error (``detail`` and ``request_id``):

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
from litestar.enums import RequestEncodingType, ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send
from litestar.utils.empty import value_or_default

from quipu.security.charset import unsupported_charset

__all__ = ["BodyGuardMiddleware", "BodyRule", "body_rule", "send_json_error"]

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


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


class BodyGuardMiddleware:
    """415/413/400 for bodies a JSON route cannot read (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # id(handler) -> (handler, rule): the handler is kept so its id is never reused.
        self._rules: dict[int, tuple[Any, BodyRule | None]] = {}

    def _rule(self, handler: Any) -> BodyRule | None:
        found = self._rules.get(id(handler))
        if found is None:
            found = self._rules[id(handler)] = (handler, body_rule(handler))
        return found[1]

    def problem(self, scope: Scope, rule: BodyRule) -> tuple[int, str] | None:
        """``(status, detail)`` when the request's headers already rule the body out."""
        content_type: str | None = None
        length: str | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                length = value.decode("latin-1")
        if content_type is not None and not _is_json(content_type):
            shown = content_type[:100]
            return 415, (
                f"unsupported Content-Type {shown!r}: send the request body as JSON with "
                "'Content-Type: application/json'"
            )
        charset = unsupported_charset(content_type) if content_type is not None else None
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
            return 400, f"Content-Length {length[:40]!r} is not a number of bytes"
        if size > self.max_body_bytes:
            return 413, (
                f"request body of {size} bytes is over the limit of {self.max_body_bytes} "
                "bytes; send less (or split a batch)"
            )
        if size == 0 and rule.required:
            return 400, "request body is empty: send a JSON object"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] in _WITH_BODY:
            rule = self._rule(scope.get("route_handler"))
            found = self.problem(scope, rule) if rule is not None else None
            if found is not None:
                await send_json_error(scope, send, *found)
                return
        await self.app(scope, receive, send)
