"""Every error answers JSON with a ``detail`` string, which the ERP clients read."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types import ExceptionHandlersMap

from quipu.observability.middleware import REQUEST_ID

__all__ = ["EXCEPTION_HANDLERS", "error_response"]

log = logging.getLogger("quipu.http")


def error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """A JSON error: ``{"detail": ..., "errors"?: [...], "request_id": ...}``."""
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    body["request_id"] = request.scope.get("state", {}).get(REQUEST_ID)
    return Response(body, status_code=status_code, media_type=MediaType.JSON, headers=headers)


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
    return error_response(request, exc.status_code, str(exc.detail), headers=exc.headers)


def _unhandled(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.scope.get("path_template"))
    return error_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal error; quote the request_id when reporting it",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unhandled,
}
