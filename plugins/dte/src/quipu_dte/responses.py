"""What a DTE validation answer depends on besides its body: the response cache's ``vary``.

The platform answers a repeated validation from stored bytes before any parsing
(:mod:`quipu.cache.responses`); the key is the raw body, the company and the string built
here: the rule-set and prompt versions, a digest of ``[plugins.dte]`` (rule overrides,
AI mode, time zone...), and today's date in the configured time zone, so a date rule
("emitted in the future", CAF expiry) is exact on the day it is asked.
"""

from __future__ import annotations

from hashlib import blake2b
from typing import TYPE_CHECKING, Any, Final

import msgspec

from quipu_dte import clock
from quipu_dte.prompts import REVIEW_PROMPT_VERSION
from quipu_dte.rules import RULESET_VERSION

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from quipu.api import VaryContext

    from quipu_dte.config import DteConfig

__all__ = ["DEGRADED_TTL_S", "RESPONSE_POLICY", "config_digest", "vary"]

#: The cache policy holding whole answers (``dte.responses``).
RESPONSE_POLICY: Final = "responses"
#: How long an answer given without its AI review is kept: a recovered model reviews the
#: document on the next request after this.
DEGRADED_TTL_S: Final = 5.0

_digests: dict[int, tuple[Any, str, ZoneInfo]] = {}


def config_digest(config: DteConfig) -> tuple[str, ZoneInfo]:
    """``(digest of the config, its time zone)``, computed once per config object."""
    found = _digests.get(id(config))
    if found is None or found[0] is not config:
        encoded = msgspec.json.encode(config, order="sorted")
        found = (config, blake2b(encoded, digest_size=8).hexdigest(), config.zone())
        _digests[id(config)] = found
    return found[1], found[2]


def vary(ctx: VaryContext) -> str:
    """Rule-set, prompt and config versions and today's date: ``r..|p..|c..|YYYY-MM-DD``."""
    digest, zone = config_digest(ctx.config)
    today = clock.today_in(zone)
    return f"r{RULESET_VERSION}|p{REVIEW_PROMPT_VERSION}|c{digest}|{today.isoformat()}"
