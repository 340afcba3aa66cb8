"""Model catalogue of the emulator: ids, aliases and minimum cacheable prefix per model.

This is data, not logic (gateway-anchors A.8: "the minimum-cache table must be configuration
data"); replace it through ``EmulatorConfig.models``. Minimums come from gateway-anchors A.7.
Where the reference has no figure the value of the closest older model of the same line is
assumed, marked "assumed" below.
"""

from __future__ import annotations

import msgspec

__all__ = ["DEFAULT_MODELS", "EPOCH", "ModelSpec"]

EPOCH = "1970-01-01T00:00:00Z"
"""``created_at`` for models whose release date the reference does not give (the API allows it)."""


class ModelSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One model as served by ``GET /v1/models`` and used for request validation."""

    id: str
    display_name: str
    cache_min_tokens: int
    """Prefixes shorter than this are silently not cached (no error, both counters 0)."""
    aliases: tuple[str, ...] = ()
    created_at: str = EPOCH
    lifecycle: str = "active"
    max_input_tokens: int = 200_000
    max_tokens: int = 64_000


DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="claude-sonnet-4-5-20250929",
        aliases=("claude-sonnet-4-5",),
        display_name="Claude Sonnet 4.5",
        created_at="2025-09-29T00:00:00Z",
        lifecycle="deprecated",
        cache_min_tokens=1024,
    ),
    ModelSpec(
        id="claude-haiku-4-5-20251001",
        aliases=("claude-haiku-4-5",),
        display_name="Claude Haiku 4.5",
        created_at="2025-10-01T00:00:00Z",
        cache_min_tokens=4096,
    ),
    ModelSpec(
        id="claude-opus-4-5-20251101",
        aliases=("claude-opus-4-5",),
        display_name="Claude Opus 4.5",
        created_at="2025-11-01T00:00:00Z",
        lifecycle="deprecated",
        cache_min_tokens=4096,
    ),
    ModelSpec(id="claude-opus-4-6", display_name="Claude Opus 4.6", cache_min_tokens=4096),
    # Docs say 1024, issue #1194 observed 2048: use the stricter observed value.
    ModelSpec(id="claude-sonnet-4-6", display_name="Claude Sonnet 4.6", cache_min_tokens=2048),
    ModelSpec(
        id="claude-opus-4-7", display_name="Claude Opus 4.7", cache_min_tokens=4096
    ),  # assumed
    ModelSpec(
        id="claude-opus-4-8", display_name="Claude Opus 4.8", cache_min_tokens=4096
    ),  # assumed
    ModelSpec(
        id="claude-sonnet-5", display_name="Claude Sonnet 5", cache_min_tokens=2048
    ),  # assumed
    ModelSpec(id="claude-opus-5", display_name="Claude Opus 5", cache_min_tokens=4096),  # assumed
    ModelSpec(
        id="claude-sonnet-5-5", display_name="Claude Sonnet 5.5", cache_min_tokens=2048
    ),  # assumed
    ModelSpec(
        id="claude-opus-5-5", display_name="Claude Opus 5.5", cache_min_tokens=4096
    ),  # assumed
    ModelSpec(
        id="claude-haiku-5-5", display_name="Claude Haiku 5.5", cache_min_tokens=4096
    ),  # assumed
)
