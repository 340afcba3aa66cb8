"""Prometheus metrics of the LLM gateway."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "LLM_BREAKER_STATE",
    "LLM_COST",
    "LLM_LATENCY",
    "LLM_OVERHEAD",
    "LLM_PROMPT_CACHE_RATIO",
    "LLM_REQUESTS",
    "LLM_RETRIES",
    "LLM_TOKENS",
    "LLM_TTFT",
]

_SLOW_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 60.0)

LLM_REQUESTS = Counter(
    "quipu_llm_requests",
    "LLM calls by plugin, model and outcome (ok, error kind, refused_*, unavailable_*).",
    ["plugin", "model", "outcome"],
)
LLM_RETRIES = Counter(
    "quipu_llm_retries", "Upstream attempts retried, by model and failure kind.", ["model", "kind"]
)
LLM_LATENCY = Histogram(
    "quipu_llm_request_duration_seconds",
    "Whole LLM call, retries included, by plugin and model.",
    ["plugin", "model"],
    buckets=_SLOW_BUCKETS,
)
LLM_OVERHEAD = Histogram(
    "quipu_llm_overhead_seconds",
    "quipu's own time around one model call (request handling before it, accounting after "
    "it; not the SDK call itself), by plugin and model. Target: p50 < 1 ms.",
    ["plugin", "model"],
    buckets=(
        0.0001,
        0.00025,
        0.0005,
        0.00075,
        0.001,
        0.0015,
        0.002,
        0.003,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
    ),
)
LLM_TTFT = Histogram(
    "quipu_llm_time_to_first_token_seconds",
    "Time from sending a streaming request to its first text delta.",
    ["plugin", "model"],
    buckets=_SLOW_BUCKETS,
)
LLM_TOKENS = Counter(
    "quipu_llm_tokens",
    "Tokens by plugin, model and kind (input, output, cache_read, cache_write).",
    ["plugin", "model", "kind"],
)
LLM_COST = Counter("quipu_llm_cost_usd", "Cost in USD by plugin and model.", ["plugin", "model"])
LLM_PROMPT_CACHE_RATIO = Gauge(
    "quipu_llm_prompt_cache_hit_ratio",
    "Cache-read input tokens over all input tokens, per model, since start.",
    ["model"],
    multiprocess_mode="mostrecent",  # several workers: the latest value any worker computed
)
LLM_BREAKER_STATE = Gauge(
    "quipu_llm_breaker_state",
    "Circuit breaker per model: 0 closed, 1 half-open, 2 open.",
    ["model"],
    multiprocess_mode="livemax",  # several workers: the worst breaker among live workers
)
