"""Token prices per model and the cost of a call, computed from the exact usage fields."""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from functools import cache

import msgspec

from quipu.config import ModelPrice

__all__ = ["Usage", "cost_usd", "price_table"]

PER_MILLION = 1_000_000


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Token counts of one call, as Anthropic reports them.

    ``input_tokens`` excludes cached tokens: cache writes and reads are counted apart,
    and writes are split by TTL.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0

    @property
    def cache_write_tokens(self) -> int:
        """Both TTLs together (``cache_creation_input_tokens``)."""
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def total_input_tokens(self) -> int:
        """Every input token, cached or not."""
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    @classmethod
    def from_anthropic(cls, usage: object) -> Usage:
        """From the SDK's ``Usage``/``MessageDeltaUsage`` (missing fields count as 0)."""
        creation = getattr(usage, "cache_creation", None)
        write_total = getattr(usage, "cache_creation_input_tokens", None) or 0
        write_1h = getattr(creation, "ephemeral_1h_input_tokens", None) or 0
        write_5m = getattr(creation, "ephemeral_5m_input_tokens", None)
        if write_5m is None:  # no split reported: all writes are 5-minute ones
            write_5m = write_total - write_1h
        return cls(
            input_tokens=getattr(usage, "input_tokens", None) or 0,
            output_tokens=getattr(usage, "output_tokens", None) or 0,
            cache_write_5m_tokens=write_5m,
            cache_write_1h_tokens=write_1h,
            cache_read_tokens=getattr(usage, "cache_read_input_tokens", None) or 0,
        )


@cache
def _shipped() -> dict[str, ModelPrice]:
    raw = importlib.resources.files("quipu.llm").joinpath("prices.toml").read_bytes()
    return msgspec.toml.decode(raw, type=dict[str, ModelPrice])


def price_table(overrides: Mapping[str, ModelPrice]) -> dict[str, ModelPrice]:
    """The shipped prices with ``[llm.prices]`` from platform.toml on top."""
    return {**_shipped(), **overrides}


def cost_usd(usage: Usage, price: ModelPrice, *, batch: bool = False) -> float:
    """USD for ``usage`` at ``price``: every token kind at its own rate."""
    write_5m = price.cache_write_5m if price.cache_write_5m is not None else price.input * 1.25
    write_1h = price.cache_write_1h if price.cache_write_1h is not None else price.input * 2
    read = price.cache_read if price.cache_read is not None else price.input * 0.1
    total = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_write_5m_tokens * write_5m
        + usage.cache_write_1h_tokens * write_1h
        + usage.cache_read_tokens * read
    ) / PER_MILLION
    return total * (1 - price.batch_discount) if batch else total
