"""Serving a route's repeated requests from the response cache (:mod:`quipu.cache.responses`).

The platform layer (:mod:`quipu.edge`) hands a POST to a route that declares a
``ResponseCache`` here, after the API key, rate limit and body checks: the body is read
once, the company field decoded and checked against the key, the route's ``vary`` asked,
and a stored answer sent as it was; otherwise the request goes through the app with its
body replayed, and a 200 answer is stored (misses for one key single-flight).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from quipu.cache.http import NO_STORE, USE, parse_cache_control
from quipu.cache.responses import (
    RESPONSE_TTL,
    ResponseCache,
    ResponseCacheEngine,
    StoredResponse,
    VaryContext,
    response_digest,
)
from quipu.observability.middleware import add_timing
from quipu.security.body import send_json_error

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from quipu.security.auth import Principal

__all__ = ["ResponseCacheServer"]

_clock = time.perf_counter


class ResponseCacheServer:
    """Answers repeated bodies from stored bytes; everything else through ``app``.

    Args:
        app: What answers a miss (Litestar's exception handling and router).
        services: ``() -> (ResponseCacheEngine | None, redis)``, ready after start-up.
    """

    def __init__(
        self, app: ASGIApp, services: Callable[[], tuple[ResponseCacheEngine | None, Any]]
    ) -> None:
        self.app = app
        self.services = services

    async def handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        rule: ResponseCache,
        policy: str,
        plugin: Any,
        max_body: int,
        principal: Principal,
        cache_control: bytes | None,
    ) -> None:
        """Answer a POST to a route declaring ``rule`` (its policy ``policy``)."""
        directive = parse_cache_control(cache_control.decode("latin-1") if cache_control else None)
        engine, _ = self.services()
        if engine is None or directive == NO_STORE:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive, max_body)
        except _ClientGone:  # nobody is left to answer
            return
        if body is None:  # over the limit while streaming (no Content-Length)
            await send_json_error(
                scope,
                send,
                413,
                f"request body is over the limit of {max_body} bytes; send less (or split a batch)",
            )
            return
        replay = _replay(body, receive)
        pol = engine.policy(policy)
        key = self._key(rule, plugin, principal, body, engine, pol)
        if key is not None and not isinstance(key, str):  # an async vary: await its answer
            key = await key
        if key is None:  # unreadable, another company's, or no version now: the app answers
            await self.app(scope, replay, send)
            return
        started = _clock()
        if directive == USE:
            entry = engine.peek_l1(pol, key)
            tier = "l1"
            if entry is None:
                entry = await engine.peek_redis(pol, key)
                tier = "redis"
            answer = engine.unpack(entry[0]) if entry is not None else None
            if answer is not None and entry is not None:
                status = f"quipu; hit; ttl={int(entry[1])}; detail={tier}"
                add_timing(scope, "cache", (_clock() - started) * 1000, f"response {tier} hit")
                await _send_stored(send, answer, status)
                return
            flight = engine.flight(key)
            if flight is not None:
                waited = await asyncio.shield(flight)
                if waited is not None:
                    await _send_stored(send, waited, "quipu; fwd=miss; collapsed; detail=response")
                    return
        await self._fill(scope, replay, send, engine, pol, key)

    def _key(
        self,
        rule: ResponseCache,
        plugin: Any,
        principal: Principal,
        body: bytes,
        engine: ResponseCacheEngine,
        pol: Any,
    ) -> str | Awaitable[str | None] | None:
        """The answer's key, None when it must not be cached, or an awaitable of either
        (a ``vary`` that reads Redis). Synchronous on the hot path: no coroutine to run."""
        try:
            fields = rule.decoder().decode(body)
        except Exception:  # malformed, wrong shape, too deep: the app says what is wrong
            return None
        sent = getattr(fields, rule.company_field, None)
        company: int | str | None = _company_id(sent)
        if company is None and sent is None and rule.company_optional:
            if principal.companies is not None and not principal.companies:
                return None  # a key for no company: the app answers 403
            company = principal.company_scope
        elif company is None or not principal.can_act_for(company):
            return None
        if rule.vary is None:
            return engine.key(pol, company, response_digest(engine.fingerprint, body))
        values = {name: getattr(fields, name, None) for name in (rule.company_field, *rule.fields)}
        found = rule.vary(VaryContext(fields=values, plugin=plugin))
        if found is None or type(found) is str:
            return self._keyed(engine, pol, company, found, body)

        async def later() -> str | None:
            return self._keyed(engine, pol, company, await found, body)  # type: ignore[misc]

        return later()

    @staticmethod
    def _keyed(
        engine: ResponseCacheEngine, pol: Any, company: int | str, vary: str | None, body: bytes
    ) -> str | None:
        if vary is None:
            return None
        return engine.key(pol, company, response_digest(f"{engine.fingerprint}|{vary}", body))

    async def _fill(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        engine: ResponseCacheEngine,
        pol: Any,
        key: str,
    ) -> None:
        """Go through the app; store a 200 answer; let identical waiters reuse it."""
        future = engine.begin(key)
        generation = engine.generation
        captured: dict[str, Any] = {"chunks": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", ()))
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    captured["complete"] = True
            await send(message)

        answer: StoredResponse | None = None
        try:
            await self.app(scope, receive, capture)
            ttl = scope.get("state", {}).get(RESPONSE_TTL, pol.ttl_s)
            if (
                captured.get("status") == 200
                and captured.get("complete")
                and ttl > 0
                and generation == engine.generation
            ):
                answer = StoredResponse(200, captured["headers"], b"".join(captured["chunks"]))
                if not engine.store(pol, key, answer, ttl):
                    answer = None
        finally:
            engine.end(key, future, answer)


def _company_id(value: Any) -> int | None:
    """A company id as sent (an int, or a numeric string as some Odoo clients send it)."""
    if type(value) is int:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


class _ClientGone(Exception):
    """The client disconnected before its body was read."""


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it grows past ``limit`` bytes.

    Raises:
        _ClientGone: the client disconnected first.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out ``body`` once, then defers to the real one."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_stored(send: Send, answer: StoredResponse, cache_status: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [*answer.headers, (b"cache-status", cache_status.encode())],
        }
    )
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})
