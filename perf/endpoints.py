"""What the perf suite measures: every endpoint, its Locust name and its targets.

Shared by the Locust users, the runner and the report (no Locust import here: the runner
must not load gevent's monkey-patching).

Audit targets are the original audit's (health < 100 ms, cached DTE validation < 50 ms,
uncached < 2 s, chat first byte < 1 s, payroll < 2.5 s, indicators < 5 s), checked at
the report's percentile (p99 by default). Ours are stricter: p99 of health and of a cached
validation under 10 ms at the suite's default load.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MIX", "ENDPOINTS", "FAMILIES", "Endpoint", "by_name", "parse_mix"]


@dataclass(frozen=True)
class Endpoint:
    """One measured line of the report."""

    key: str
    """Short id used in CSV and chart labels."""
    name: str
    """Locust's request name."""
    family: str
    """The mix family (one Locust user class) that sends it."""
    method: str
    path: str
    """OpenAPI path template: the endpoint is served when quipu's OpenAPI lists it."""
    audit_ms: float | None = None
    """The audit's target, in milliseconds."""
    ours_ms: float | None = None
    """quipu's own p99 target, in milliseconds."""
    llm: bool = False
    """Whether it may call the LLM (its overhead over the emulator is measured)."""
    request_type: str | None = None
    """Locust request type when not the HTTP method (``SSE`` for the first-byte metric)."""


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("health", "GET /health", "health", "GET", "/health", audit_ms=100, ours_ms=10),
    Endpoint(
        "dte_cached",
        "POST /api/ai/validate [cached]",
        "dte",
        "POST",
        "/api/ai/validate",
        audit_ms=50,
        ours_ms=10,
    ),
    Endpoint(
        "dte_uncached",
        "POST /api/ai/validate [uncached]",
        "dte",
        "POST",
        "/api/ai/validate",
        audit_ms=2000,
        llm=True,
    ),
    Endpoint(
        "dte_batch",
        "POST /api/ai/validate/batch",
        "batch",
        "POST",
        "/api/ai/validate/batch",
        llm=True,
    ),
    Endpoint(
        "payroll",
        "POST /api/payroll/validate",
        "payroll",
        "POST",
        "/api/payroll/validate",
        audit_ms=2500,
        llm=True,
    ),
    Endpoint(
        "indicators",
        "GET /api/payroll/indicators/{period}",
        "indicators",
        "GET",
        "/api/payroll/indicators/{period}",
        audit_ms=5000,
    ),
    Endpoint("chat", "POST /api/chat/message", "chat", "POST", "/api/chat/message", llm=True),
    Endpoint("chat_wizard", "POST /api/chat", "chat", "POST", "/api/chat", llm=True),
    Endpoint(
        "chat_stream",
        "POST /api/chat/message/stream",
        "chat_stream",
        "POST",
        "/api/chat/message/stream",
        llm=True,
    ),
    Endpoint(
        "chat_ttfb",
        "chat ttfb",
        "chat_stream",
        "POST",
        "/api/chat/message/stream",
        audit_ms=1000,
        llm=True,
        request_type="SSE",
    ),
)

#: Families and the share of users each gets by default (integers: Locust user weights).
DEFAULT_MIX = "health=10,dte=12,batch=1,payroll=4,indicators=2,chat=3,chat_stream=3"
FAMILIES = ("health", "dte", "batch", "payroll", "indicators", "chat", "chat_stream")


def parse_mix(text: str) -> dict[str, int]:
    """``"health=10,dte=12"`` -> ``{"health": 10, "dte": 12}``; unnamed families get 0."""
    mix = dict.fromkeys(FAMILIES, 0)
    for part in filter(None, (p.strip() for p in text.split(","))):
        family, _, weight = part.partition("=")
        if family.strip() not in mix:
            raise ValueError(f"unknown family {family!r} in the mix; known: {', '.join(FAMILIES)}")
        mix[family.strip()] = int(weight or 1)
    return mix


def by_name(name: str) -> Endpoint | None:
    """The endpoint Locust reports as ``name``."""
    for endpoint in ENDPOINTS:
        if endpoint.name == name:
            return endpoint
    return None
