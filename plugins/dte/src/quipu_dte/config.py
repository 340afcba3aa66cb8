"""``[plugins.dte]``: the plugin's settings, checked when quipu starts.

```toml
[plugins.dte]
tolerance = 0                 # pesos of slack on totals; 0 (default) = exact to the peso
ai_review = "auto"            # "off" | "auto" | "always"
require_ai_review = false     # true: without an AI review a clean document is "review"
batch_max_documents = 500
batch_llm_concurrency = 4
batch_workers = 0             # processes checking a large batch; 0 = one per core
timezone = "America/Santiago"
ai_deadline_s = 8.0

[plugins.dte.rules]           # RuleConfig overrides (quipu_dte.rules.config)
line_tolerance = 1
severity_overrides = { DTE_DATE_OLD = "warning" }
```

Every problem (an unknown key, a bad rule override, an unknown time zone) stops start-up
with a message naming the key, instead of surfacing on the first request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from quipu_dte.rules.config import RuleConfig

__all__ = ["AiMode", "DteConfig"]

AiMode = Literal["off", "auto", "always"]


class DteConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Settings of the DTE plugin.

    Attributes:
        tolerance: Pesos of slack when a declared total (MntNeto, MntExe, IVA, MntTotal,
            MontoImp, CredEC…) is compared with the exact one. 0 (default) is strict: any
            difference, even 1 peso, is an error naming the declared and expected values.
            The same setting as ``rules.amount_tolerance``; giving both with different
            values stops start-up.
        ai_review: ``off`` never calls the LLM; ``auto`` (default) calls it only where it
            can add something the rules cannot (vendor history to compare against, line
            descriptions to check against the supplier's line of business) and never when
            the rules already reject; ``always`` reviews every document.
        require_ai_review: When True, a document is never recommended ``send`` without an
            AI review: if the AI is not configured or unavailable the recommendation is at
            least ``review`` (with the warning ``AI_REVIEW_UNAVAILABLE``), and ``auto`` reviews
            every document the rules would send.
        rules: Overrides of :class:`quipu_dte.rules.RuleConfig` (tolerances, disabled codes,
            severity overrides...), validated at start-up.
        batch_max_documents: Most documents ``POST /api/ai/validate/batch`` accepts.
        batch_llm_concurrency: AI reviews in flight at once for one batch.
        batch_workers: Processes that parse and check a large batch (0: one per core;
            1: one thread, no extra processes).
        timezone: Where "today" is taken for date rules (emission in the future, CAF expiry).
        ai_deadline_s: Time budget of one AI call, retries included; Odoo waits 10 s for the
            whole answer, so the default leaves room for the rest of the request.
    """

    tolerance: int = 0
    ai_review: AiMode = "auto"
    require_ai_review: bool = False
    rules: dict[str, Any] = msgspec.field(default_factory=dict)
    batch_max_documents: int = 500
    batch_llm_concurrency: int = 4
    batch_workers: int = 0
    timezone: str = "America/Santiago"
    ai_deadline_s: float = 8.0

    def __post_init__(self) -> None:
        # msgspec turns a ValueError raised here into a ValidationError naming this section,
        # which the platform reports at start-up.
        self.rule_config()
        if self.batch_max_documents < 1:
            raise ValueError(f"batch_max_documents = {self.batch_max_documents}: use 1 or more")
        if self.batch_workers < 0:
            raise ValueError(f"batch_workers = {self.batch_workers}: use 0 (one per core) or more")
        if self.batch_llm_concurrency < 1:
            raise ValueError(f"batch_llm_concurrency = {self.batch_llm_concurrency}: use 1 or more")
        if not self.ai_deadline_s > 0:
            raise ValueError(f"ai_deadline_s = {self.ai_deadline_s}: use a positive number")
        if self.require_ai_review and self.ai_review == "off":
            raise ValueError(
                'require_ai_review = true with ai_review = "off": no document could ever be '
                'recommended "send"; set ai_review = "auto" or require_ai_review = false'
            )
        self.zone()

    def rule_config(self) -> RuleConfig:
        """The :class:`~quipu_dte.rules.RuleConfig` built from ``rules``.

        Raises:
            ValueError: an unknown key or a value of the wrong type in ``rules``.
        """
        from quipu_dte.rules.catalogue import CATALOGUE
        from quipu_dte.rules.config import RuleConfig

        if self.tolerance < 0:
            raise ValueError(
                f"tolerance = {self.tolerance}: use 0 (exact) or a positive peso count"
            )
        overrides = dict(self.rules)
        both = "amount_tolerance" in overrides and self.tolerance
        if both and overrides["amount_tolerance"] != self.tolerance:
            raise ValueError(
                f"tolerance = {self.tolerance} and rules.amount_tolerance = "
                f"{overrides['amount_tolerance']!r} disagree: set only tolerance"
            )
        overrides.setdefault("amount_tolerance", self.tolerance)
        try:
            config = msgspec.convert(overrides, RuleConfig, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(f"rules: {exc}") from None
        if config.amount_tolerance < 0 or config.line_tolerance < 0:
            raise ValueError("rules: amount_tolerance and line_tolerance cannot be negative")
        unknown = sorted(
            (set(config.disabled_codes) | set(config.severity_overrides)) - set(CATALOGUE)
        )
        if unknown:
            raise ValueError(
                f"rules: unknown finding code(s) {', '.join(unknown)}; "
                "see the rule catalogue in the dte plugin's README"
            )
        return config

    def zone(self) -> ZoneInfo:
        """The :class:`zoneinfo.ZoneInfo` of ``timezone``.

        Raises:
            ValueError: the time zone is unknown.
        """
        import zoneinfo

        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timezone = {self.timezone!r} is not a known IANA time zone "
                "(e.g. America/Santiago)"
            ) from None
