"""quipu with a stopwatch on each phase of an LLM-backed request, for docs/profiling.md.

A Granian factory (``phases_app:create_app``, ``perf/`` on ``PYTHONPATH``) that wraps the
functions each phase runs in (session read and write, knowledge search, prompt assembly,
token pre-count, the SDK's request building, httpx, the response parse, cost ledger,
metrics, tracing, the rules) with ``perf_counter`` timers, then builds the normal app.
``GET /_phases`` answers every phase's durations since the last call (and resets them).
Inclusive times: a phase that calls another includes it. Used by
``perf/bench_llm_overhead.py --phases``; never in production (the wrappers cost a few µs).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import time
from collections import defaultdict
from typing import Any

from litestar import Litestar, get

_TIMES: defaultdict[str, list[float]] = defaultdict(list)

#: (module, attribute path, phase name)
PHASES = (
    ("quipu_chat.service", "ChatService.begin", "chat: begin (session read + plan)"),
    ("quipu_chat.sessions", "SessionStore.open", "chat: session open (Redis)"),
    ("quipu_chat.sessions", "SessionStore.create", "chat: session create (Redis)"),
    ("quipu_chat.sessions", "SessionStore.history", "chat: session history (Redis)"),
    ("quipu_chat.engine", "ChatEngine.plan", "chat: plan (routing, knowledge, prompt)"),
    ("quipu_chat.knowledge", "KnowledgeBase.search", "chat: knowledge search (BM25)"),
    ("quipu_chat.engine", "ChatEngine.run", "chat: engine run (model call and after)"),
    ("quipu_chat.confidence", "assess_answer", "chat: confidence of the answer"),
    ("quipu_chat.service", "ChatService.finish", "chat: session write-back (Redis)"),
    ("quipu_chat.service", "ChatService.answer", "chat: answer (cache + engine)"),
    ("quipu_dte.service", "check", "dte: parse + rules"),
    ("quipu_dte.service", "_review", "dte: review (cache + model)"),
    ("quipu_payroll.review", "run_review", "payroll: review"),
    ("quipu.llm.prompts", "render", "llm: prompt render"),
    ("quipu.llm.gateway", "LlmGateway.create", "llm: gateway create (whole call)"),
    ("quipu.llm.gateway", "LlmGateway.preflight", "llm: preflight (budget, size, breaker)"),
    ("quipu.llm.calls", "estimate_tokens", "llm: local token pre-count"),
    ("quipu.llm.gateway", "LlmGateway.account", "llm: accounting (metrics + ledger)"),
    ("quipu.llm.ledger", "UsageLedger.record", "llm: cost ledger (Redis)"),
    ("quipu.llm.result", "LlmResult.from_message", "llm: result from SDK message"),
    ("anthropic.resources.messages.messages", "AsyncMessages.create", "sdk: messages.create"),
    ("anthropic._base_client", "BaseClient._build_request", "sdk: build request"),
    ("httpx2", "AsyncClient.send", "sdk: httpx send (includes emulator time)"),
    ("anthropic._response", "AsyncAPIResponse.parse", "sdk: parse response"),
    ("quipu.llm.transport", "DirectTransport.post", "llm: direct POST (includes emulator time)"),
    ("quipu.observability.tracing", "span", "tracing: span"),
)


def _wrap(fn: Any, name: str) -> Any:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                _TIMES[name].append((time.perf_counter() - started) * 1000)

        return timed_async

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _TIMES[name].append((time.perf_counter() - started) * 1000)

    return timed


def _install() -> None:
    for module_name, path, phase in PHASES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        owner: Any = module
        *parents, attr = path.split(".")
        for part in parents:
            owner = getattr(owner, part, None)
        original = getattr(owner, attr, None)
        if original is None or inspect.isasyncgenfunction(original):
            continue
        if path == "span":  # a context manager: time its whole with-block
            continue
        setattr(owner, attr, _wrap(original, phase))
        # Functions imported by name elsewhere (``from x import render``) are patched there too.
        if not parents:
            for other in list(__import__("sys").modules.values()):
                if getattr(other, attr, None) is original and other is not module:
                    name = getattr(other, "__name__", "")
                    if name.startswith(("quipu", "anthropic")):
                        setattr(other, attr, _wrap(original, phase))


@get("/_phases", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False)
def phases() -> dict[str, list[float]]:
    """Every phase's durations (ms) since the last call; resets them."""
    found = {name: list(values) for name, values in _TIMES.items()}
    _TIMES.clear()
    return found


def create_app() -> Litestar:
    """The normal quipu app, with every phase timed."""
    from quipu.app import create_app as create_quipu

    _install()
    app = create_quipu()
    app.register(phases)
    return app
