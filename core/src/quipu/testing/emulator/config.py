"""Emulator configuration: one frozen msgspec Struct, serialisable to JSON.

The config travels to the Granian worker process as JSON in an environment variable
(``QUIPU_EMULATOR_CONFIG``), so everything in it must be plain data.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import msgspec

from quipu.testing.emulator.models import DEFAULT_MODELS, ModelSpec

__all__ = [
    "CONFIG_ENV_VAR",
    "INSTANCE_ENV_VAR",
    "EmulatorConfig",
    "config_from_env",
    "config_to_env",
    "model_index",
    "patch_config",
]

CONFIG_ENV_VAR = "QUIPU_EMULATOR_CONFIG"
INSTANCE_ENV_VAR = "QUIPU_EMULATOR_INSTANCE"
"""Opaque id echoed by ``/_emulator/health`` so a launcher knows it reached its own server."""

NonNegFloat = Annotated[float, msgspec.Meta(ge=0)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]


class EmulatorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Behaviour of the emulator. Every field can be changed at runtime via ``/_emulator/config``.

    Latency: a reply takes ``ttft_ms`` before the first content token, then one chunk per
    word paced at ``tokens_per_s`` (0 means no pacing, as fast as possible).
    """

    ttft_ms: NonNegFloat = 0.0
    """Delay before the first content token (streaming) or before the JSON body."""
    tokens_per_s: NonNegFloat = 0.0
    """Output pacing; 0 disables pacing."""
    reply_words: Annotated[int, msgspec.Meta(ge=1)] = 40
    """Length of the default (unscripted) reply, in words."""
    api_keys: tuple[str, ...] = ()
    """Accepted API keys; empty accepts any non-empty key."""
    models: tuple[ModelSpec, ...] = DEFAULT_MODELS
    """Model catalogue served by ``/v1/models`` and used for validation and cache minimums."""
    accept_unknown_models: bool = False
    """When False an unknown model answers 404 ``not_found_error`` like the real API."""
    unknown_model_cache_min_tokens: Annotated[int, msgspec.Meta(ge=1)] = 1024
    """Minimum cacheable prefix for models outside the catalogue."""
    slow_first_token_ms: NonNegFloat = 3000.0
    """Time to first token used by the ``slow-first-token`` fault."""
    hang_s: NonNegFloat = 120.0
    """How long the ``timeout`` fault stalls before answering normally."""
    retry_after_s: Annotated[int, msgspec.Meta(ge=0)] = 1
    """Value of ``retry-after`` on emulated 429 and 529 answers."""
    request_log_size: Annotated[int, msgspec.Meta(ge=1)] = 200
    """How many request records ``/_emulator/requests`` keeps."""
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 32 * 1024 * 1024
    """Larger bodies answer 413 ``request_too_large``."""
    fault_seed: int | None = None
    """Seed for rate-based faults, so a test run is reproducible."""
    tool_seed: int = 0
    """Seed of the generated inputs of forced tool calls (with the prompt: same prompt and
    seed, same input)."""


def config_to_env(config: EmulatorConfig) -> str:
    """Serialise ``config`` for :data:`CONFIG_ENV_VAR`."""
    return msgspec.json.encode(config).decode()


def config_from_env(environ: dict[str, str] | None = None) -> EmulatorConfig:
    """Read the config from :data:`CONFIG_ENV_VAR`, defaults when unset."""
    raw = (os.environ if environ is None else environ).get(CONFIG_ENV_VAR, "")
    if not raw:
        return EmulatorConfig()
    return msgspec.json.decode(raw, type=EmulatorConfig)


def patch_config(config: EmulatorConfig, changes: dict[str, Any]) -> EmulatorConfig:
    """Return ``config`` with ``changes`` applied, validated as a whole.

    Going through ``msgspec.convert`` (not ``structs.replace``) means bad values such as a
    negative latency or an unknown field are rejected with a ``msgspec.ValidationError``.
    """
    merged = msgspec.to_builtins(config)
    merged.update(changes)
    return msgspec.convert(merged, EmulatorConfig)


def model_index(models: tuple[ModelSpec, ...]) -> dict[str, ModelSpec]:
    """Map every id and alias to its spec."""
    index: dict[str, ModelSpec] = {}
    for spec in models:
        index[spec.id] = spec
        for alias in spec.aliases:
            index[alias] = spec
    return index
