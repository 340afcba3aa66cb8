"""Every error answers JSON with a ``detail`` string, which the ERP clients read."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from quipu.json_errors import error_response
from quipu.security.body import body_rule
from quipu.state import platform_state

__all__ = ["ERROR_SCHEMA", "EXCEPTION_HANDLERS", "document_errors", "error_response"]

log = logging.getLogger("quipu.http")

#: ``Retry-After`` of a 503 for Redis down: about the cache breaker's probe and recovery.
_REDIS_RETRY_S = 5
#: Litestar's own detail of a body over ``request_max_body_size``.
_LITESTAR_413 = "Request Entity Too Large"
#: Nesting depth every JSON route reads (tests/fuzz/test_request_bodies.py); msgspec's real
#: ceiling is Python's recursion limit less the stack already in use, somewhat higher.
_MAX_NESTING = 500
#: Litestar functions that decode a request body.
_BODY_READERS = frozenset({"decode_json", "json", "json_extractor", "to_kwargs"})


def _describe(item: dict[str, Any]) -> str:
    key = item.get("key")
    message = str(item.get("message", "invalid value"))
    source = item.get("source")
    where = f"{source} field {key!r}" if key else (str(source) if source else "request")
    return f"{where}: {message}"


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    items = [e for e in extra if isinstance(e, dict)]
    messages = [_describe(e) for e in items]
    malformed = any("malformed" in str(e.get("message", "")).lower() for e in items) or (
        "malformed" in str(exc.detail).lower()
    )
    if malformed:
        return error_response(
            request,
            HTTP_400_BAD_REQUEST,
            "request body is not valid JSON: " + ("; ".join(messages) or str(exc.detail)),
        )
    detail = "; ".join(messages) if messages else str(exc.detail)
    return error_response(
        request,
        HTTP_422_UNPROCESSABLE_ENTITY,
        detail,
        errors=[
            {"field": e.get("key"), "source": e.get("source"), "message": e.get("message")}
            for e in items
        ],
    )


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = str(exc.detail)
    if isinstance(exc.__cause__, SerializationException):
        # msgspec's words alone ("Input data was truncated") do not say what was wrong.
        detail = f"request body is not valid JSON: {detail}"
    elif exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE and detail == _LITESTAR_413:
        limit = request.route_handler.resolve_request_max_body_size()
        detail = f"request body is over the limit of {limit} bytes; send less (or split a batch)"
    return error_response(request, exc.status_code, detail, headers=exc.headers)


def _from_body_reader(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while Litestar decoded the request body."""
    return any(
        frame.f_code.co_name in _BODY_READERS and "litestar" in frame.f_code.co_filename
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def _body_encoding(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """Bytes that are not UTF-8 in a JSON body: 400, not 500 (msgspec raises this raw)."""
    if not _from_body_reader(exc):
        return _unhandled(request, exc)
    return error_response(
        request,
        HTTP_400_BAD_REQUEST,
        f"request body is not valid JSON: the bytes are not UTF-8 ({exc.reason})",
    )


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """JSON nested deeper than the decoder's recursion limit: 400, not 500.

    msgspec raises ``RecursionError`` (not ``DecodeError``) past Python's recursion limit,
    which Litestar lets through; it fails fast (microseconds), so there is nothing to cap
    before it. A ``RecursionError`` from anywhere else is a bug: 500.
    """
    if not _from_body_reader(exc):
        return _unhandled(request, exc)
    return error_response(
        request,
        HTTP_400_BAD_REQUEST,
        "request body is not valid JSON: its arrays or objects are nested too deeply "
        f"to decode; keep them under {_MAX_NESTING} levels",
    )


def _unhandled(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.scope.get("path_template"))
    return error_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal error; quote the request_id when reporting it",
    )


def _redis_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Redis unreachable where a route needs it (a plugin's own data): 503."""
    log.warning(
        "Redis unavailable on %s %s: %s",
        request.method,
        request.scope.get("path_template"),
        type(exc).__name__,
    )
    # The cache's breaker owns Redis's health: an error met here counts there too, so
    # /health says so as soon as a route does.
    cache = platform_state(request).services.get("cache")
    if cache is not None:
        cache.redis_failed("route", exc)
    return error_response(
        request,
        HTTP_503_SERVICE_UNAVAILABLE,
        f"Redis cannot be reached ({type(exc).__name__}); retry in {_REDIS_RETRY_S} s",
        headers={"Retry-After": str(_REDIS_RETRY_S)},
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: _validation,
    HTTPException: _http,
    UnicodeDecodeError: _body_encoding,
    RecursionError: _too_deep,
    RedisConnectionError: _redis_down,
    RedisTimeoutError: _redis_down,
    Exception: _unhandled,
}


#: The shape of every error quipu answers, documented as component ``QuipuError``.
ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["detail"],
    properties={
        "detail": Schema(type=OpenAPIType.STRING, description="what went wrong, and what to do"),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.OBJECT, additional_properties=Schema()),
            description="one entry per field that could not be read (422)",
        ),
        "request_id": Schema(
            one_of=[Schema(type=OpenAPIType.STRING), Schema(type=OpenAPIType.NULL)],
            description="the X-Request-ID of the request: quote it when reporting an error",
        ),
    },
    description="Every quipu error: JSON with a `detail` string.",
)
_ERROR_REF = Reference(ref="#/components/schemas/QuipuError")
_OPERATIONS = ("get", "put", "post", "delete", "patch")


def _error(description: str, headers: dict[str, str] | None = None) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={MediaType.JSON: OpenAPIMediaType(schema=_ERROR_REF)},
        headers={
            name: OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description=text)
            for name, text in (headers or {}).items()
        }
        or None,
    )


def _litestar_400(response: Any) -> bool:
    """Litestar's generated 400 (``status_code``/``detail``/``extra``), not quipu's shape."""
    content = getattr(response, "content", None) or {}
    schema = getattr(content.get(MediaType.JSON), "schema", None)
    return "status_code" in (getattr(schema, "properties", None) or {})


def document_errors(app: Litestar, rate_limited: Callable[[str | None, str], bool]) -> None:
    """Document quipu's error answers on every operation of ``app``'s OpenAPI schema.

    Litestar documents a 400 with its own error shape (``status_code``, ``extra``), which
    quipu never sends; this replaces it and adds what the platform answers on every route:
    401/403 (keys, roles, companies), 400/422 (unreadable input), 413/415 (bodies), 429
    (rate limits, where configured) and ``default`` (any other error, e.g. 404, 502, 503),
    all as ``QuipuError``. Public routes (``/health``...) are marked as needing no key.
    ``rate_limited(plugin, path)`` says whether a route has a rate limit.

    Builds the schema now (once per process, ~40 ms), so every reader sees the same one.
    """
    openapi = app.openapi_schema
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    openapi.components.schemas["QuipuError"] = ERROR_SCHEMA
    paths = openapi.paths or {}
    for route in app.routes:
        item = paths.get(route.path_format or "/")
        if item is None:
            continue
        for handler in getattr(route, "route_handlers", ()):
            for method in sorted(getattr(handler, "http_methods", ())):
                operation = getattr(item, method.lower(), None)
                if method.lower() not in _OPERATIONS or operation is None:
                    continue
                _document_operation(operation, handler, route.path, rate_limited)


def _document_operation(
    operation: Operation,
    handler: Any,
    path: str,
    rate_limited: Callable[[str | None, str], bool],
) -> None:
    responses = operation.responses if operation.responses is not None else {}
    operation.responses = responses
    opt = getattr(handler, "opt", {}) or {}
    rule = body_rule(handler)
    if rule is not None and isinstance(operation.request_body, RequestBody):
        # Litestar marks every body required, even ``data: T | None = None``.
        operation.request_body.required = rule.required
    if opt.get("public"):
        operation.security = []
        return
    add: dict[str, OpenAPIResponse] = {
        "400": _error("the request cannot be read: malformed JSON or parameters"),
        "401": _error("missing or invalid API key", {"WWW-Authenticate": 'Bearer realm="quipu"'}),
        "403": _error("the key lacks the route's role or may not act for that company"),
    }
    if operation.parameters or operation.request_body is not None:
        add["422"] = _error("a value is of the wrong type or out of range; `errors` lists each")
    if operation.request_body is not None:
        add["413"] = _error("the body is over `[platform] max_body_bytes`")
        add["415"] = _error(
            "the body is not JSON (`Content-Type: application/json`) or not UTF-8 (a "
            "declared `charset` other than `utf-8`)"
        )
    if rate_limited(opt.get("plugin"), path):
        add["429"] = _error(
            "over the rate limit of this key on this route",
            {"Retry-After": "seconds until the window resets"},
        )
    for status, response in add.items():
        if status not in responses or (status == "400" and _litestar_400(responses[status])):
            responses[status] = response
    responses.setdefault("default", _error("any other error (404, 5xx...), same shape"))
