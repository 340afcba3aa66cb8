"""``[plugins.payroll]``: tolerance, line codes and the optional AI review.

A bad ``line_codes`` entry stops start-up: ``__post_init__`` builds the code table, and
the platform reports its ``ValueError`` as a problem of the section.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from quipu_payroll.odoo_codes import build_code_map

__all__ = ["AiReview", "PayrollConfig"]

AiReview = Literal["off", "auto", "always"]


class PayrollConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The payroll plugin's settings.

    Attributes:
        tolerance: Pesos a declared amount (AFP, salud, cesantía, impuesto, asignación
            familiar, subtotals, líquido) may differ from the exact one and still pass,
            noted as ``PAY_ROUNDING``. 0 (default) is strict: each contribution and the
            tax are rounded half-up to whole pesos, so any difference is an error stating
            the declared and expected amounts.
        line_codes: Odoo line code → concept, over the default table
            (``{ BONO_TURNO = "otros_imponibles" }``; concepts in the README).
        ai_review: ``off``; ``auto`` (default): only when the rules leave warnings or could
            not judge a line; ``always``. The model can only add observations.
        ai_deadline_s: Time for the AI review, retries included (Odoo waits 10 s).
        ai_max_observations: At most this many AI observations are kept.
    """

    tolerance: int = 0
    line_codes: dict[str, str] = {}
    ai_review: AiReview = "auto"
    ai_deadline_s: float = 6.0
    ai_max_observations: int = 5

    def __post_init__(self) -> None:
        build_code_map(self.line_codes)  # raises ValueError naming every bad entry
        if self.tolerance < 0:
            raise ValueError(
                f"tolerance = {self.tolerance}: use 0 (exact) or a positive peso count"
            )
        if self.ai_deadline_s <= 0:
            raise ValueError("ai_deadline_s must be > 0")
        if not 0 <= self.ai_max_observations <= 20:
            raise ValueError("ai_max_observations must be between 0 and 20")
