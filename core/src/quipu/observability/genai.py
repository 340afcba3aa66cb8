"""OpenTelemetry GenAI semantic-convention names in one place (they are still moving)."""

from __future__ import annotations

__all__ = [
    "ERROR_TYPE",
    "OPERATION",
    "PROVIDER",
    "REQUEST_MAX_TOKENS",
    "REQUEST_MODEL",
    "REQUEST_STREAM",
    "RESPONSE_FINISH_REASONS",
    "RESPONSE_MODEL",
    "TIME_TO_FIRST_CHUNK",
    "USAGE_CACHE_CREATION",
    "USAGE_CACHE_READ",
    "USAGE_INPUT",
    "USAGE_OUTPUT",
]

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_STREAM = "gen_ai.request.stream"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
#: Anthropic's input_tokens excludes cached tokens; the convention counts them in.
USAGE_INPUT = "gen_ai.usage.input_tokens"
USAGE_OUTPUT = "gen_ai.usage.output_tokens"
USAGE_CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
USAGE_CACHE_CREATION = "gen_ai.usage.cache_creation.input_tokens"
ERROR_TYPE = "error.type"
