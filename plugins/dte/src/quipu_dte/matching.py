"""Deterministic purchase-order matching for ``POST /api/ai/reception/match_po``.

Input is what Odoo sends (original-ai-service.md §1.3.8, §7.2): ``dte_data``
(or its alias ``invoice_data``) plus ``pending_pos``. Each PO gets a score in
0–100 from three components, each in 0–1, weighted and averaged over the
components that have data:

* partner (40): RUT equal → 1, RUT different → 0 and the PO is not eligible;
  without RUTs, Odoo partner id, then a name similarity;
* amount (35): relative difference of totals (or untaxed amounts): ≤ 0,5 % → 1,
  ≥ 20 % → 0, linear in between;
* lines (25): greedy one-to-one pairing of invoice and PO lines by
  0,6 × name similarity (difflib) + 0,2 × quantity closeness + 0,2 × price
  closeness; the sum of pair scores over the longer list.

A PO dated after the invoice loses 10 points. The best eligible PO at or above
the threshold (70) is matched unless the runner-up is within the tie margin
(5 points): then ``tie`` is set, ``matched_po_id`` is ``None`` and the caller
can let the LLM break the tie among ``candidates``.
"""

import difflib
import re
import unicodedata
from decimal import Decimal
from typing import Any, Final

from quipu_dte.match_input import invoice_from_document, parse_match_request
from quipu_dte.match_types import (
    Candidate,
    InvoiceData,
    InvoiceLine,
    LineMatch,
    MatchConfig,
    MatchResult,
    PurchaseOrder,
)
from quipu_dte.money import fmt_amount
from quipu_dte.rut import canonical_rut

__all__ = [
    "Candidate",
    "InvoiceData",
    "InvoiceLine",
    "LineMatch",
    "MatchConfig",
    "MatchResult",
    "PurchaseOrder",
    "invoice_from_document",
    "match_po_request",
    "match_purchase_orders",
    "parse_match_request",
    "similarity",
]

_LEGAL_SUFFIX_RE: Final = re.compile(
    r"\b(spa|s ?p ?a|ltda|limitada|s ?a|sociedad anonima|eirl|y cia|cia|sa)\b"
)
#: Below this, two line names are different products ("cemento" vs "fierro"
#: scores ~0,37; "arena gruesa" vs "arena fina" ~0,64).
_MIN_NAME_SIMILARITY: Final = 0.5
_NON_WORD_RE: Final = re.compile(r"[^a-z0-9]+")


def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c))
    return _NON_WORD_RE.sub(" ", ascii_text).strip()


def similarity(a: str, b: str) -> float:
    """0–1 similarity of two names (accent/case-insensitive, token- and character-based)."""
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    ta, tb = set(na.split()), set(nb.split())
    jaccard = len(ta & tb) / len(ta | tb)
    matcher = difflib.SequenceMatcher(None, na, nb, autojunk=False)
    if matcher.quick_ratio() < 0.5:  # cheap upper bound: skip the full comparison
        return max(jaccard, matcher.quick_ratio() * 0.5)
    return max(jaccard, matcher.ratio())


def _closeness(a: Decimal | None, b: Decimal | None) -> float:
    if a is None or b is None:
        return 0.5
    top = max(abs(a), abs(b))
    return 1.0 if top == 0 else max(0.0, 1.0 - float(abs(a - b) / top))


def _pair_lines(
    inv: tuple[InvoiceLine, ...], po: tuple[InvoiceLine, ...]
) -> tuple[float, list[LineMatch]]:
    """Greedy best-first one-to-one pairing; returns (score 0–1, matches)."""
    pairs: list[tuple[float, float, int, int]] = []
    for i, a in enumerate(inv):
        for j, b in enumerate(po):
            name = similarity(a.name, b.name)
            if name < _MIN_NAME_SIMILARITY:
                continue  # different products: quantities alike mean nothing
            score = 0.6 * name + 0.2 * _closeness(a.qty, b.qty) + 0.2 * _closeness(a.price, b.price)
            pairs.append((score, name, i, j))
    pairs.sort(key=lambda p: (-p[0], p[2], p[3]))
    used_i: set[int] = set()
    used_j: set[int] = set()
    matches = []
    total = 0.0
    for score, name, i, j in pairs:
        if i in used_i or j in used_j:
            continue
        used_i.add(i)
        used_j.add(j)
        total += score
        a, b = inv[i], po[j]
        matches.append(
            LineMatch(
                invoice_line=i,
                po_line=j,
                invoice_name=a.name,
                po_name=b.name,
                product_id=b.product_id,
                name_similarity=round(name, 3),
                qty_invoice=_s(a.qty),
                qty_po=_s(b.qty),
                price_invoice=_s(a.price),
                price_po=_s(b.price),
                score=round(score, 3),
            )
        )
    matches.sort(key=lambda m: m.invoice_line)
    return total / max(len(inv), len(po)), matches


def _s(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _amount_score(
    invoice: InvoiceData, po: PurchaseOrder, cfg: MatchConfig
) -> tuple[float | None, str]:
    pairs = [
        (invoice.total, po.amount_total, "total"),
        (invoice.untaxed, po.amount_untaxed, "neto"),
    ]
    best: tuple[float, str] | None = None
    for a, b, label in pairs:
        if a is None or b is None:
            continue
        top = max(abs(a), abs(b))
        pct = 0.0 if top == 0 else float(abs(a - b) / top * 100)
        if pct <= cfg.amount_full_pct:
            score = 1.0
        elif pct >= cfg.amount_zero_pct:
            score = 0.0
        else:
            score = 1 - (pct - cfg.amount_full_pct) / (cfg.amount_zero_pct - cfg.amount_full_pct)
        if pct:
            text = (
                f"monto {label} {fmt_amount(a)} vs {fmt_amount(b)} de la OC "
                f"(diferencia {_pts(pct)}%)"
            )
        else:
            text = f"monto {label} {fmt_amount(a)} igual al de la OC"
        if best is None or score > best[0]:
            best = (score, text)
    return (best[0], best[1]) if best else (None, "sin montos comparables")


def _partner_score(invoice: InvoiceData, po: PurchaseOrder) -> tuple[float, bool, str]:
    """(score, eligible, reason)."""
    a, b = canonical_rut(invoice.partner_rut), canonical_rut(po.partner_rut)
    if a and b:
        if a == b:
            return 1.0, True, "RUT del proveedor coincide"
        return 0.0, False, f"RUT del proveedor distinto ({a} vs {b})"
    if invoice.partner_id is not None and po.partner_id is not None:
        if str(invoice.partner_id) == str(po.partner_id):
            return 1.0, True, "mismo proveedor en Odoo"
        return 0.0, False, "proveedor distinto en Odoo"
    if invoice.partner_name and po.partner_name:
        stripped = [
            _LEGAL_SUFFIX_RE.sub(" ", _norm(n)) for n in (invoice.partner_name, po.partner_name)
        ]
        ratio = similarity(*stripped)
        return ratio, True, f"nombre del proveedor similar al {ratio:.0%}"
    return 0.5, True, "proveedor no verificable (sin RUT)"


def _score(
    invoice: InvoiceData, po: PurchaseOrder, cfg: MatchConfig, with_lines: bool
) -> tuple[Candidate, list[LineMatch]]:
    partner, eligible, why_partner = _partner_score(invoice, po)
    amount, why_amount = _amount_score(invoice, po, cfg)
    reasons = [why_partner, why_amount]
    parts = [(cfg.weight_partner, partner)]
    if amount is not None:
        parts.append((cfg.weight_amount, amount))
    line_score: float | None = None
    matches: list[LineMatch] = []
    if with_lines and invoice.lines and po.lines:
        line_score, matches = _pair_lines(invoice.lines, po.lines)
        parts.append((cfg.weight_lines, line_score))
        reasons.append(
            f"{len(matches)} de {max(len(invoice.lines), len(po.lines))} líneas coinciden"
        )
    score = 100 * sum(w * s for w, s in parts) / sum(w for w, _ in parts)
    if invoice.invoice_date and po.order_date and po.order_date > invoice.invoice_date:
        score -= cfg.late_po_penalty
        reasons.append("la OC es posterior a la factura")
    if not eligible:
        score *= 0.25  # a PO of another supplier can never be the match
    candidate = Candidate(
        po_id=po.id,
        po_name=po.name,
        score=round(max(score, 0.0), 1),
        partner_score=round(partner, 3),
        amount_score=None if amount is None else round(amount, 3),
        line_score=None if line_score is None else round(line_score, 3),
        eligible=eligible,
        reasons=tuple(reasons),
    )
    return candidate, matches


def match_purchase_orders(
    invoice: InvoiceData,
    pending_pos: tuple[PurchaseOrder, ...] | list[PurchaseOrder],
    config: MatchConfig | None = None,
) -> MatchResult:
    """Score every PO against the invoice and pick the match (see module docstring)."""
    cfg = config or MatchConfig()
    pos = list(pending_pos)
    pair_count = len(invoice.lines) * sum(len(p.lines) for p in pos)
    scored_lines: set[int] = set(range(len(pos)))
    if pair_count > cfg.max_line_pairs:
        prelim = sorted(
            range(len(pos)), key=lambda k: -_score(invoice, pos[k], cfg, False)[0].score
        )
        scored_lines = set(prelim[:10])
    results = [_score(invoice, po, cfg, k in scored_lines) for k, po in enumerate(pos)]
    order = sorted(range(len(results)), key=lambda k: (-results[k][0].score, k))
    ranked = tuple(results[k][0] for k in order)
    if not ranked:
        return MatchResult(
            matched_po_id=None,
            confidence=0.0,
            line_matches=(),
            reasoning="No hay órdenes de compra pendientes.",
            candidates=(),
            tie=False,
        )
    best, best_lines = ranked[0], results[order[0]][1]
    runner = ranked[1] if len(ranked) > 1 else None
    good = best.eligible and best.score >= cfg.threshold
    tie = bool(
        good
        and runner is not None
        and runner.eligible
        and best.score - runner.score <= cfg.tie_margin
    )
    summary = f"OC {best.po_name}: " + "; ".join(best.reasons)
    if tie and runner is not None:
        reasoning = (
            f"Empate entre {best.po_name} ({_pts(best.score)}) y {runner.po_name} "
            f"({_pts(runner.score)}); se requiere desempate. {summary}."
        )
    elif good:
        reasoning = f"{summary}. Puntaje {_pts(best.score)}."
    else:
        reasoning = (
            f"Ninguna OC alcanza el umbral de {_pts(cfg.threshold)}; la mejor es "
            f"{summary} ({_pts(best.score)})."
        )
    return MatchResult(
        matched_po_id=best.po_id if good and not tie else None,
        confidence=best.score,
        line_matches=tuple(best_lines),
        reasoning=reasoning,
        candidates=ranked,
        tie=tie,
    )


def _pts(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def match_po_request(payload: Any, config: MatchConfig | None = None) -> MatchResult:
    """Parse an Odoo ``match_po`` payload and match it (raises DteInputError if malformed)."""
    invoice, pos = parse_match_request(payload)
    return match_purchase_orders(invoice, pos, config)
