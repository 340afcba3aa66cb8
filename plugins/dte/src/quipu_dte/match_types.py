"""Data shapes of purchase-order matching (see :mod:`quipu_dte.matching`)."""

from datetime import date
from decimal import Decimal
from typing import Any, Final

import msgspec

__all__ = [
    "MAX_MATCH_LINES",
    "MAX_POS",
    "Candidate",
    "InvoiceData",
    "InvoiceLine",
    "LineMatch",
    "MatchConfig",
    "MatchResult",
    "PoId",
    "PurchaseOrder",
]

MAX_POS: Final = 200  # original POMatchRequest max_items
MAX_MATCH_LINES: Final = 500
PoId = int | str


class MatchConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Weights and thresholds of the scoring (see module docstring)."""

    weight_partner: float = 40.0
    weight_amount: float = 35.0
    weight_lines: float = 25.0
    amount_full_pct: float = 0.5
    amount_zero_pct: float = 20.0
    threshold: float = 70.0
    tie_margin: float = 5.0
    late_po_penalty: float = 10.0
    #: Above this many invoice×PO line pairs, only the 10 best POs by partner
    #: and amount get line scoring (keeps the worst case well under a second).
    max_line_pairs: int = 20_000


class InvoiceLine(msgspec.Struct, frozen=True, kw_only=True):
    """One invoice (DTE) line as far as matching cares."""

    name: str = ""
    qty: Decimal | None = None
    price: Decimal | None = None
    subtotal: Decimal | None = None
    product_id: PoId | None = None


class InvoiceData(msgspec.Struct, frozen=True, kw_only=True):
    """The received invoice side of the match."""

    partner_id: PoId | None = None
    partner_rut: str | None = None
    partner_name: str | None = None
    total: Decimal | None = None
    untaxed: Decimal | None = None
    invoice_date: date | None = None
    reference: str | None = None
    lines: tuple[InvoiceLine, ...] = ()


class PurchaseOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One pending purchase order."""

    id: PoId
    name: str = ""
    partner_id: PoId | None = None
    partner_rut: str | None = None
    partner_name: str | None = None
    amount_total: Decimal | None = None
    amount_untaxed: Decimal | None = None
    order_date: date | None = None
    currency: str | None = None
    lines: tuple[InvoiceLine, ...] = ()


class LineMatch(msgspec.Struct, frozen=True, kw_only=True):
    """An invoice line paired with a PO line."""

    invoice_line: int
    po_line: int
    invoice_name: str
    po_name: str
    product_id: PoId | None
    name_similarity: float
    qty_invoice: str | None
    qty_po: str | None
    price_invoice: str | None
    price_po: str | None
    score: float


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """Score breakdown of one PO (components are 0–1, ``None`` if not scorable)."""

    po_id: PoId
    po_name: str
    score: float
    partner_score: float
    amount_score: float | None
    line_score: float | None
    eligible: bool
    reasons: tuple[str, ...]


class MatchResult(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of matching; :meth:`to_response` gives the original API shape."""

    matched_po_id: PoId | None
    confidence: float
    line_matches: tuple[LineMatch, ...]
    reasoning: str
    candidates: tuple[Candidate, ...]
    tie: bool

    def to_response(self) -> dict[str, Any]:
        """``{"matched_po_id", "confidence", "line_matches", "reasoning"}`` (§1.3.8)."""
        return {
            "matched_po_id": self.matched_po_id,
            "confidence": self.confidence,
            "line_matches": msgspec.to_builtins(self.line_matches),
            "reasoning": self.reasoning,
        }
