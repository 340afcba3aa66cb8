"""The JSON error body every quipu answer uses: ``{"detail": ..., "errors"?, "request_id"}``.

Kept apart from :mod:`quipu.http_errors` (the exception handlers, which know Redis's
exceptions) so that plugins get :func:`error_response` from :mod:`quipu.api` without
importing the Redis client at start-up.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response

from quipu.observability.middleware import REQUEST_ID

__all__ = ["error_response"]


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
