"""The chat service of one app: engine, session store and the steps every chat route shares.

Built by the plugin's lifespan (after the platform's, so Redis and the LLM gateway exist)
and kept in the plugin's :class:`~quipu_chat.runtime.ChatRuntime`; handlers reach it from
their ``plugin`` context with :func:`chat_service`.

The steps of one question, whatever the route:

1. :meth:`ChatService.check`: limits (422) and the company (the one in the request
   context, checked against the API key: 403); :meth:`ChatService.gateway`: 503 when no
   model is configured; :meth:`ChatService.begin`: the session (created, or got-or-created
   for a client-chosen id), the history window, and the
   :class:`~quipu_chat.engine.Plan`. Sessions live under the company the request acts
   for (:func:`~quipu_chat.session_base.owner_for`): another company's same id is another
   session.
2. the answer: from the response cache for a stateless question (:meth:`cached`,
   :meth:`answer`), else from :meth:`ChatEngine.run`.
3. :meth:`ChatService.finish`: the user message and the answer appended to the session in
   one atomic step (so concurrent questions to one session lose nothing), cached answers
   included, before the answer is sent: the next question may reach another replica a
   moment later, and it must find this turn (the write costs one Redis round trip).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY, HTTP_503_SERVICE_UNAVAILABLE
from quipu.api import (
    CacheResult,
    LlmGateway,
    LlmUnavailable,
    PluginContext,
    Principal,
    retry_after_seconds,
)

from quipu_chat.config import ChatConfig
from quipu_chat.engine import Answer, ChatEngine, Emit, Plan
from quipu_chat.runtime import CHAT_RUNTIME
from quipu_chat.schemas import (
    ChatMessageRequest,
    ChatResponse,
    InputTooLarge,
    NewSessionRequest,
    check_limits,
)
from quipu_chat.session_base import (
    BaseSessionStore,
    History,
    SessionForbidden,
    SessionNotFound,
    Turn,
    owner_for,
)
from quipu_chat.sse import DoneMetadata
from quipu_chat.tools import ToolContext

__all__ = [
    "ChatService",
    "Exchange",
    "chat_response",
    "chat_service",
    "done_metadata",
    "http_error",
]

log = logging.getLogger("quipu.chat")

#: The response-cache policy of chat answers (``chat.answers``).
ANSWERS_POLICY = "answers"
NOT_CONFIGURED = (
    "the assistant is not configured: ANTHROPIC_API_KEY is not set on the quipu server. "
    "Set it (or ANTHROPIC_BASE_URL for the emulator) and restart; the other quipu "
    "services keep working without it"
)


class _Miss(Exception):
    """Raised inside a cache probe: there is nothing cached, compute nothing."""


def http_error(exc: Exception) -> HTTPException:
    """The HTTP answer for a session error or a limit."""
    if isinstance(exc, SessionForbidden):
        return PermissionDeniedException(detail=str(exc))
    if isinstance(exc, SessionNotFound):
        return NotFoundException(detail=str(exc))
    return HTTPException(status_code=HTTP_422_UNPROCESSABLE_ENTITY, detail=str(exc))


def _single_company(principal: Principal) -> int | None:
    companies = principal.companies
    return next(iter(companies)) if companies is not None and len(companies) == 1 else None


@dataclass
class Exchange:
    """One question on its way: who asks, in which session, and the plan to answer it."""

    session_id: str
    message: str
    owner: str
    principal: Principal
    plan: Plan
    tools: ToolContext
    request: ASGIConnection[Any, Any, Any, Any]

    @property
    def stateless(self) -> bool:
        """Whether the response cache may answer (it still stores only what qualifies)."""
        return self.plan.cache_key is not None


class ChatService:
    """The chat plugin's runtime: configuration, engine and session store."""

    def __init__(
        self,
        config: ChatConfig,
        engine: ChatEngine,
        store: BaseSessionStore,
        plugin: PluginContext[ChatConfig],
    ) -> None:
        self.config = config
        self.engine = engine
        self.store = store
        self.plugin = plugin
        """The newest write-back still running, by session id."""

    # -- 1. begin ------------------------------------------------------------------------

    def check(
        self, data: ChatMessageRequest | NewSessionRequest, principal: Principal
    ) -> int | None:
        """Limits and company; the company named in the request context, if any.

        Raises:
            HTTPException: 422 over a limit, 403 for a company outside the key's scope.
        """
        try:
            check_limits(data, self.config)
        except InputTooLarge as exc:
            raise http_error(exc) from None
        company = data.company_id
        if company is not None:
            principal.require_company(company)
        else:  # the session and the cache would belong to the key's (empty) scope
            principal.require_some_company()
        return company

    def gateway(self, request: ASGIConnection[Any, Any, Any, Any]) -> LlmGateway:
        """The LLM gateway; 503 with a clear message when no API key is configured."""
        gateway = self.plugin.llm_for(request)
        if gateway is None or not gateway.available:
            raise HTTPException(status_code=HTTP_503_SERVICE_UNAVAILABLE, detail=NOT_CONFIGURED)
        return gateway

    def check_breaker(self, gateway: LlmGateway) -> None:
        """503 with ``Retry-After`` before streaming, rather than an error event, if paused."""
        breaker = gateway.breaker(self.engine.model or gateway.model)
        paused_for = breaker.retry_after()  # > 0 when open, or half-open with a probe out
        if paused_for > 0:
            wait = retry_after_seconds(paused_for)  # one figure: body and header
            raise LlmUnavailable(
                "breaker_open",
                f"the AI service is failing and paused; retry in {wait} s",
                retry_after_s=wait,
            )

    async def begin(
        self,
        request: ASGIConnection[Any, Any, Any, Any],
        principal: Principal,
        data: ChatMessageRequest,
        company: int | None,
    ) -> Exchange:
        """Open the session, read its history, choose skill, passages and tools.

        ``company`` is what :meth:`check` returned for ``data``.
        """
        owner = owner_for(principal, company)
        context = data.effective_context
        history: History | None = None
        try:
            if data.session_id is None:
                info = await self.store.create(owner=owner, context=context)
                stored_context = info.context
            else:
                history = await self.store.open_history(
                    data.session_id, caller=principal, owner=owner, context=context
                )
                stored_context = history.session.context
                info = history.session
        except (SessionForbidden, SessionNotFound, ValueError) as exc:
            raise http_error(exc) from None
        plan = self.engine.plan(data.message, context=stored_context, history=history)
        tools = ToolContext(
            principal=principal,
            company_id=company if company is not None else _single_company(principal),
            session_id=info.session_id,
            skill=plan.skill_key,
        )
        return Exchange(
            session_id=info.session_id,
            message=data.message,
            owner=owner,
            principal=principal,
            plan=plan,
            tools=tools,
            request=request,
        )

    # -- 2. answer -----------------------------------------------------------------------

    async def answer(
        self, exchange: Exchange, gateway: LlmGateway
    ) -> tuple[Answer, dict[str, str]]:
        """The answer (JSON routes), through the response cache for stateless questions.

        Concurrent identical stateless questions make one model call (single-flight).
        Returns the answer and the ``Cache-Status`` header, if the cache was asked.
        """

        async def compute() -> Answer:
            return await self.engine.run(gateway, exchange.plan, exchange.tools)

        if exchange.plan.cache_key is None:
            return await compute(), {}
        try:
            result = await self.plugin.cache_for(exchange.request).get_or_compute(
                ANSWERS_POLICY, exchange.plan.cache_key, compute, company=exchange.owner
            )
        except _Miss:  # joined a stream's cache probe in flight: ask the model ourselves
            return await compute(), {}
        answer = self._answer_of(result)
        if result.hit or result.collapsed:
            answer = answer.from_cache()
        return answer, result.headers

    async def cached(self, exchange: Exchange) -> Answer | None:
        """A cached answer to a stateless question (streaming), or None: nothing is computed."""
        if exchange.plan.cache_key is None:
            return None

        async def miss() -> Answer:
            raise _Miss

        try:
            result = await self.plugin.cache_for(exchange.request).get_or_compute(
                ANSWERS_POLICY, exchange.plan.cache_key, miss, company=exchange.owner
            )
        except _Miss:
            return None
        return self._answer_of(result).from_cache()

    async def remember(self, exchange: Exchange, answer: Answer) -> None:
        """Store a streamed answer in the response cache, if it qualifies."""
        if exchange.plan.cache_key is None or not self.engine.cacheable(answer):
            return

        async def ready() -> Answer:
            return answer

        await self.plugin.cache_for(exchange.request).get_or_compute(
            ANSWERS_POLICY, exchange.plan.cache_key, ready, company=exchange.owner
        )

    @staticmethod
    def _answer_of(result: CacheResult) -> Answer:
        value = result.value if not result.hit else None
        return value if isinstance(value, Answer) else result.decode(Answer)

    def streamer(
        self, exchange: Exchange, gateway: LlmGateway, cached: Answer | None
    ) -> Callable[[Emit], Awaitable[DoneMetadata]]:
        """The producer of a streamed answer (see :mod:`quipu_chat.streaming`)."""

        async def produce(emit: Emit) -> DoneMetadata:
            if cached is not None:
                emit(cached.message)
                answer = cached
            else:
                answer = await self.engine.run(gateway, exchange.plan, exchange.tools, emit=emit)
            await self.finish(exchange, answer)
            if cached is None:
                await self.remember(exchange, answer)
            return done_metadata(exchange.session_id, answer)

        return produce

    # -- 3. finish -----------------------------------------------------------------------

    async def finish(self, exchange: Exchange, answer: Answer) -> None:
        """Append the question and its answer to the session, atomically."""
        turns = [
            Turn(role="user", content=exchange.message),
            Turn(role="assistant", content=answer.message, skill=answer.skill),
        ]
        await self.store.append(
            exchange.session_id, turns, owner=exchange.owner, caller=exchange.principal
        )

    async def finish_answered(self, exchange: Exchange, answer: Answer) -> None:
        """:meth:`finish` for an answer the client gets whatever happens to its session."""
        try:
            await self.finish(exchange, answer)
        except (SessionForbidden, SessionNotFound) as exc:
            # Deleted (or re-created for another company) while the model answered.
            log.warning("chat answer not stored: session %s is gone (%s)", exchange.session_id, exc)


def chat_response(session_id: str, answer: Answer) -> ChatResponse:
    """The JSON answer of ``/api/chat/message`` and ``/api/chat``."""
    return ChatResponse(
        message=answer.message,
        sources=answer.sources,
        confidence=float(answer.confidence),
        session_id=session_id,
        tokens_used=answer.usage.tokens_used(),
        plugin_used=answer.skill,
        skill=answer.skill,
        usage=answer.usage,
        confidence_reasons=answer.confidence_reasons,
    )


def done_metadata(session_id: str, answer: Answer) -> DoneMetadata:
    """The ``metadata`` of the final ``done`` event."""
    return DoneMetadata(
        sources=answer.sources,
        confidence=float(answer.confidence),
        session_id=session_id,
        tokens_used=answer.usage.tokens_used(),
        plugin_used=answer.skill,
        skill=answer.skill,
        usage=answer.usage,
        confidence_reasons=answer.confidence_reasons,
    )


def chat_service(plugin: PluginContext[ChatConfig]) -> ChatService:
    """The chat service of the app ``plugin`` (the chat plugin's context) belongs to.

    Raises:
        HTTPException: 503 when the app has not started (the lifespan builds it).
    """
    service: ChatService | None = plugin.service(CHAT_RUNTIME).service
    if service is None:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE, detail="the assistant is starting"
        )
    return service
