"""The chat routes, with the original service's paths and shapes (reference §1.3.13–1.3.18).

======================================  ==================================================
``POST /api/chat/session/new``          ``{"user_context"?}`` → ``{session_id, welcome_message}``
``POST /api/chat/message``              ``{message, session_id?, user_context?}`` → answer JSON
``POST /api/chat/message/stream``       same body → ``text/event-stream`` (text…, done | error)
``GET /api/chat/session/{id}``          history and stats (unknown id: ``exists: false``);
                                        ``?company_id=`` names the company it belongs to
``DELETE /api/chat/session/{id}``       ``{status: "cleared"}``, idempotent; ``?company_id=``
``GET /api/chat/knowledge/search``      ``?query=&top_k=3`` → passages
``POST /api/chat``                      the Odoo wizard: ``context``, any session id,
                                        ``stream``; JSON unless ``Accept: text/event-stream``
======================================  ==================================================

Sessions belong to the company the request acts for: the context's ``company_id`` on the
question routes, ``?company_id=`` on the session routes, else the key's own scope (``*``
for the full-access key). The same id under two companies names two sessions, so a
session can never be read, taken or locked by another company.

Every route answers 200 on success. Errors are JSON ``{"detail": ...}``: 422 for a message
or context over the limit (or a bad session id), 403 for a company outside the key's
scope, 503 when the assistant is not configured or the model is
paused (``Retry-After``), 413 for a request over the LLM token or cost limit, 502/504 when
the model fails. A stream that fails after it started ends with an ``error`` event.
"""

from typing import Annotated, Any, cast

from litestar import Request, Response, delete, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, JSONBody, Parameter, QueryParameter
from litestar.response import Stream
from quipu.api import Caller, Plugin, Principal

from quipu_chat.config import ChatConfig
from quipu_chat.schemas import (
    MAX_TOP_K,
    ChatMessageRequest,
    ChatRequest,
    ChatResponse,
    DeleteSessionResponse,
    KnowledgeSearchResponse,
    NewSessionRequest,
    NewSessionResponse,
    SessionResponse,
    configured,
    session_response,
)
from quipu_chat.service import Exchange, chat_response, chat_service, http_error
from quipu_chat.session_base import (
    SESSION_ID_PATTERN,
    SessionForbidden,
    SessionNotFound,
    owner_for,
    validate_session_id,
)
from quipu_chat.sse import SSE_HEADERS, with_keepalive
from quipu_chat.streaming import answer_events

__all__ = ["chat_routes"]

EVENT_STREAM = "text/event-stream"
AnyRequest = Request[Any, Any, Any]
#: The chat plugin's context, injected into every handler (``plugin`` parameter).
Chat = Plugin[ChatConfig]


def _session_id(session_id: str) -> str:
    try:
        return validate_session_id(session_id)
    except ValueError as exc:
        raise http_error(exc) from None


def _owner(principal: Principal, company_id: int | None) -> str:
    """The owner a session route reads: ``company_id`` if given (403 outside the key's
    scope), else the key's own scope."""
    if company_id is not None:
        principal.require_company(company_id)
    else:
        principal.require_some_company()
    return owner_for(principal, company_id)


#: ``{session_id}`` of the session routes (checked by validate_session_id: 422 in its words).
SessionIdPath = Annotated[
    str,
    Parameter(
        description="the session's id",
        schema_extra={"pattern": SESSION_ID_PATTERN.pattern},
    ),
]
#: ``?company_id=`` of the session routes.
CompanyQuery = Annotated[
    int | None,
    QueryParameter(
        ge=1,
        le=2**63 - 1,
        description="the company the session belongs to (the `company_id` of the context "
        "it was created with); leave it out for the key's own scope",
    ),
]


async def _answer_json(
    request: AnyRequest, plugin: Chat, principal: Principal, data: ChatMessageRequest
) -> Response[Any]:
    service = chat_service(plugin)
    company = service.check(data, principal)
    gateway = service.gateway(request)
    exchange = await service.begin(request, principal, data, company)
    answer, headers = await service.answer(exchange, gateway)
    await service.finish_answered(exchange, answer)  # before answering: see ChatService
    return Response(chat_response(exchange.session_id, answer), headers=headers)


async def _answer_stream(
    request: AnyRequest, plugin: Chat, principal: Principal, data: ChatMessageRequest
) -> Stream:
    service = chat_service(plugin)
    company = service.check(data, principal)
    gateway = service.gateway(request)
    exchange: Exchange = await service.begin(request, principal, data, company)
    cached = await service.cached(exchange)
    if cached is None:
        service.check_breaker(gateway)
    events = answer_events(service.streamer(exchange, gateway, cached))
    return Stream(
        with_keepalive(events, service.config.keepalive_s),
        media_type=EVENT_STREAM,
        headers=SSE_HEADERS,
    )


def chat_routes(config: ChatConfig) -> list[HTTPRouteHandler]:
    """The chat routes, their request bodies stating ``config``'s message limit in OpenAPI."""
    message_request = configured(ChatMessageRequest, config)
    odoo_request = configured(ChatRequest, config)

    @post("/api/chat/session/new", status_code=200, summary="Start a chat session")
    async def new_session(
        request: AnyRequest,
        plugin: Chat,
        principal: Caller,
        data: Annotated[NewSessionRequest | None, Body(media_type=RequestEncodingType.JSON)] = None,
    ) -> NewSessionResponse:
        """A new session (UUID) owned by the caller's company, with an optional ``user_context``."""
        service = chat_service(plugin)
        body = data or NewSessionRequest()
        company = service.check(body, principal)
        info = await service.store.create(
            owner=owner_for(principal, company), context=body.effective_context
        )
        return NewSessionResponse(session_id=info.session_id)

    @post("/api/chat/message", status_code=200, summary="Ask the assistant (JSON answer)")
    async def message(
        request: AnyRequest,
        plugin: Chat,
        principal: Caller,
        data: JSONBody[message_request],  # type: ignore[valid-type]
    ) -> Response[ChatResponse]:
        """Answer ``message`` in the session ``session_id`` (a new one when left out)."""
        return await _answer_json(request, plugin, principal, data)

    @post(
        "/api/chat/message/stream",
        status_code=200,
        summary="Ask the assistant (server-sent events)",
        media_type=EVENT_STREAM,
    )
    async def message_stream(
        request: AnyRequest,
        plugin: Chat,
        principal: Caller,
        data: JSONBody[message_request],  # type: ignore[valid-type]
    ) -> Stream:
        """The answer as ``text/event-stream``: ``text`` events, then ``done`` (or ``error``)."""
        return await _answer_stream(request, plugin, principal, data)

    @post(
        "/api/chat",
        status_code=200,
        summary="Ask the assistant (Odoo chat wizard)",
        responses={
            200: ResponseSpec(
                ChatResponse,
                description="The answer as JSON (server-sent events, as on "
                "/api/chat/message/stream, only when the body has `stream: true` and `Accept` "
                "has `text/event-stream`)",
                generate_examples=False,
            )
        },
    )
    async def chat(
        request: AnyRequest,
        plugin: Chat,
        principal: Caller,
        data: JSONBody[odoo_request],  # type: ignore[valid-type]
    ) -> Response[Any]:
        """The Odoo universal chat wizard's call: answers JSON with ``message``.

        ``stream: true`` is honoured only when the client also accepts ``text/event-stream``;
        the wizard sends ``stream: true`` but reads ``response.json()``, so it gets JSON.
        """
        if cast(ChatRequest, data).stream and EVENT_STREAM in request.headers.get("accept", ""):
            return await _answer_stream(request, plugin, principal, data)
        return await _answer_json(request, plugin, principal, data)

    @get("/api/chat/session/{session_id:str}", summary="A session's history")
    async def get_session(
        request: AnyRequest,
        plugin: Chat,
        principal: Caller,
        session_id: SessionIdPath,
        company_id: CompanyQuery = None,
    ) -> SessionResponse:
        """Stored messages and stats; an unknown or expired id answers ``exists: false``."""
        service = chat_service(plugin)
        sid = _session_id(session_id)
        owner = _owner(principal, company_id)
        try:
            history = await service.store.history(
                sid, owner=owner, caller=principal, window=service.store.max_stored
            )
        except SessionNotFound:
            return session_response(sid, None)
        except SessionForbidden as exc:
            raise http_error(exc) from None
        return session_response(sid, history)

    @delete("/api/chat/session/{session_id:str}", status_code=200, summary="Delete a session")
    async def delete_session(
        request: AnyRequest,
        plugin: Chat,
        principal: Caller,
        session_id: SessionIdPath,
        company_id: CompanyQuery = None,
    ) -> DeleteSessionResponse:
        """Delete history and context; 200 whether or not it existed."""
        service = chat_service(plugin)
        sid = _session_id(session_id)
        owner = _owner(principal, company_id)
        try:
            await service.store.delete(sid, owner=owner, caller=principal)
        except SessionForbidden as exc:
            raise http_error(exc) from None
        return DeleteSessionResponse(session_id=sid)

    @get("/api/chat/knowledge/search", summary="Search the assistant's knowledge base")
    async def knowledge_search(
        plugin: Chat,
        text: Annotated[
            str,
            QueryParameter(name="query", min_length=1, max_length=2000, description="what to find"),
        ],
        top_k: Annotated[
            int, QueryParameter(ge=1, le=MAX_TOP_K, description="passages to return (1-20)")
        ] = 3,
    ) -> KnowledgeSearchResponse:
        """The passages of the plugins' documents that best match ``query`` (BM25), best first."""
        found = chat_service(plugin).engine.knowledge.search(text, top_k)
        return KnowledgeSearchResponse(
            query=text, results_found=len(found), results=[p.to_result() for p in found]
        )

    return [
        new_session,
        message,
        message_stream,
        chat,
        get_session,
        delete_session,
        knowledge_search,
    ]
