"""Request checks that produce the real API's 4xx answers (gateway-anchors A.0, A.5, A.10)."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from quipu.testing.emulator.config import EmulatorConfig
from quipu.testing.emulator.models import ModelSpec
from quipu.testing.emulator.prompt_cache import MAX_BREAKPOINTS, count_breakpoints
from quipu.testing.emulator.protocol import CountTokensRequest
from quipu.testing.emulator.tokens import Segment, request_segments

__all__ = [
    "API_VERSIONS",
    "ApiError",
    "Prepared",
    "authenticate",
    "check_version",
    "prepare",
]

LEGACY_VERSION = "2023-06-01"
CURRENT_VERSION = "2026-10-21"
API_VERSIONS = (LEGACY_VERSION, CURRENT_VERSION)
_SAMPLING = ("temperature", "top_p", "top_k")

RequestT = TypeVar("RequestT", bound=CountTokensRequest)


class ApiError(Exception):
    """An HTTP error answer in Anthropic's shape."""

    def __init__(
        self, status: int, error_type: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.details = details


def invalid(message: str) -> ApiError:
    """A 400 ``invalid_request_error``."""
    return ApiError(400, "invalid_request_error", message)


def authenticate(config: EmulatorConfig, headers: dict[str, str]) -> str:
    """The caller's API key: ``x-api-key`` wins over ``Authorization: Bearer`` (A.0)."""
    key = headers.get("x-api-key", "")
    if not key:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            key = token.strip()
    if not key:
        raise ApiError(401, "authentication_error", "x-api-key header is required")
    if config.api_keys and key not in config.api_keys:
        raise ApiError(401, "authentication_error", "invalid x-api-key")
    return key


def check_version(headers: dict[str, str]) -> str:
    """The ``anthropic-version`` header, which must be one of :data:`API_VERSIONS`."""
    version = headers.get("anthropic-version", "")
    if not version:
        raise invalid("anthropic-version: header is required")
    if version not in API_VERSIONS:
        raise invalid(f"anthropic-version: invalid version {version!r}")
    return version


_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]+)`(?: - at `\$(?P<at>.*)`)?")
_AT = re.compile(r"^(?P<what>.*) - at `\$(?P<at>.*)`$")


def _path(at: str) -> str:
    # "$.messages[0].role" -> "messages.0.role", the way the API names fields.
    return re.sub(r"\[(\d+)\]", r".\1", at).lstrip(".")


def _validation_message(error: str) -> str:
    missing = _MISSING.match(error)
    if missing:
        where = _path(missing["at"] or "")
        return f"{where + '.' if where else ''}{missing['field']}: Field required"
    located = _AT.match(error)
    if located:
        return f"{_path(located['at'])}: {located['what']}"
    return error


def decode(body: bytes, kind: type[RequestT]) -> RequestT:
    """Decode a request body into ``kind`` or raise a 400 naming the bad field."""
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise invalid(_validation_message(str(exc))) from None
    except msgspec.DecodeError:
        raise invalid("There was an error parsing the body of your request: invalid JSON") from None


class Prepared(msgspec.Struct, frozen=True):
    """A request that passed validation, with what the handlers derive from it."""

    model_id: str
    cache_min_tokens: int
    segments: list[Segment]

    @property
    def input_tokens(self) -> int:
        """Total input tokens by the rule in :mod:`tokens`."""
        return sum(segment.tokens for segment in self.segments)


def _check_version_rules(request: CountTokensRequest, version: str) -> None:
    if version != CURRENT_VERSION:
        return
    for name in _SAMPLING:
        if getattr(request, name) is not None:
            raise invalid(f"{name}: is not supported with anthropic-version {CURRENT_VERSION}")
    for i, message in enumerate(request.messages):
        if isinstance(message.content, str):
            continue
        for j, block in enumerate(message.content):
            if message.role == "assistant" and block.get("type") == "document":
                raise invalid(f"messages.{i}.content.{j}: document blocks are not allowed here")
            if message.role == "user" and block.get("type") == "text" and block.get("citations"):
                raise invalid(f"messages.{i}.content.{j}.citations: must be empty in user turns")


def _check_tool_choice(request: CountTokensRequest) -> None:
    """The real API's 400s for a ``tool_choice`` that cannot be honoured."""
    choice = request.tool_choice
    if choice is None:
        return
    kind = choice.get("type")
    if kind not in ("auto", "any", "tool", "none"):
        raise invalid(f"tool_choice.type: {kind!r} is not one of 'auto', 'any', 'tool', 'none'")
    names = [tool.get("name") for tool in request.tools or ()]
    if kind in ("any", "tool") and not names:
        raise invalid(f"tool_choice.type: {kind!r} requires `tools` to be provided")
    if kind == "tool" and choice.get("name") not in names:
        raise invalid(
            f"tool_choice.name: tool {choice.get('name')!r} not found in `tools` "
            f"(offered: {', '.join(map(str, names))})"
        )


def prepare(
    config: EmulatorConfig,
    models: dict[str, ModelSpec],
    request: CountTokensRequest,
    version: str,
    max_tokens: int | None = None,
) -> Prepared:
    """Apply the semantic checks and compute the segments."""
    spec = models.get(request.model)
    if spec is None and not config.accept_unknown_models:
        raise ApiError(404, "not_found_error", f"model: {request.model}")
    _check_version_rules(request, version)
    if spec is not None and max_tokens is not None and max_tokens > spec.max_tokens:
        raise invalid(
            f"max_tokens: {max_tokens} > {spec.max_tokens}, which is the maximum allowed "
            f"number of output tokens for {spec.id}"
        )
    _check_tool_choice(request)
    try:
        segments = request_segments(request)
    except msgspec.ValidationError as exc:
        raise invalid(f"cache_control: {exc}") from None
    found = count_breakpoints(segments)
    if found > MAX_BREAKPOINTS:
        raise invalid(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {found}."
        )
    if spec is None:
        return Prepared(request.model, config.unknown_model_cache_min_tokens, segments)
    return Prepared(spec.id, spec.cache_min_tokens, segments)
