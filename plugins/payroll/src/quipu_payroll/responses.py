"""What a payroll check's answer depends on besides its body: the response cache's ``vary``.

The platform answers a repeated ``POST /api/payroll/validate`` from stored bytes before
any parsing (:mod:`quipu.cache.responses`). Besides the raw body and the company, the
answer depends on the rules' and the review prompt's versions, ``[plugins.payroll]``,
today's date in Chile (mapping Odoo lines uses it), and the period's indicators: their
version, read through the previred plugin's service
(:meth:`quipu_previred.lookup.IndicatorsLookup.version`), is bumped by every admin load,
admin delete and Previred fetch, so an answer computed with replaced indicators is never
served again.
"""

from __future__ import annotations

from hashlib import blake2b
from typing import TYPE_CHECKING, Any, Final

import msgspec
from quipu_previred.clock import today_chile
from quipu_previred.lookup import INDICATORS

from quipu_payroll.findings import RULESET_VERSION
from quipu_payroll.review import REVIEW_PROMPT_VERSION

if TYPE_CHECKING:
    from quipu.api import VaryContext

__all__ = ["DEGRADED_TTL_S", "RESPONSE_POLICY", "vary"]
#: The cache policy holding whole answers (``payroll.responses``).
RESPONSE_POLICY: Final = "responses"
#: How long an answer given without its AI review is kept.
DEGRADED_TTL_S: Final = 5.0

_digests: dict[int, tuple[Any, str]] = {}


def _config_digest(config: Any) -> str:
    found = _digests.get(id(config))
    if found is None or found[0] is not config:
        encoded = msgspec.json.encode(config, order="sorted")
        found = (config, blake2b(encoded, digest_size=8).hexdigest())
        _digests[id(config)] = found
    return found[1]


async def vary(ctx: VaryContext) -> str | None:
    """Versions, config digest, the period's indicators version and today's date."""
    period = ctx.fields.get("period") or ctx.fields.get("periodo")
    if not isinstance(period, str) or len(period) > 16:
        return None  # the handler says what is wrong with the period
    version = await ctx.plugin.service(INDICATORS).version(period)
    if version is None:
        return None
    return (
        f"r{RULESET_VERSION}|p{REVIEW_PROMPT_VERSION}|c{_config_digest(ctx.config)}|"
        f"i{period}:{version}|{today_chile().isoformat()}"
    )
