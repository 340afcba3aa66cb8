"""Purchase-order matching for Odoo's reception, with the LLM only breaking ties.

:func:`quipu_dte.matching.match_purchase_orders` scores every pending PO deterministically.
When two or more eligible POs end within the tie margin of the best, the model is asked to
choose among *those* candidates through the forced tool ``choose_po``, whose ``po_id`` is an
enum of the tied ids (plus ``null`` to abstain). Its answer is accepted only if it names one
of them; anything else, or the AI being unavailable, leaves ``matched_po_id`` null with the
explanation in ``reasoning``: Odoo then asks a person, which is safe. Never a guess.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import msgspec

from quipu_dte.match_types import Candidate, MatchConfig, MatchResult, PoId
from quipu_dte.matching import match_purchase_orders, parse_match_request
from quipu_dte.schemas import AiInfo, AiUsage, MatchPoResponse

if TYPE_CHECKING:
    from quipu.api import LlmGateway, LlmResult

    from quipu_dte.match_types import InvoiceData, PurchaseOrder

__all__ = ["choose_po_tool", "match_po", "tied_candidates"]

log = logging.getLogger("quipu.dte.match")

MAX_PO_LINES_FOR_AI: Final = 50
MAX_REASONING_CHARS: Final = 500
_CONFIG: Final = MatchConfig()


def tied_candidates(result: MatchResult, config: MatchConfig = _CONFIG) -> list[Candidate]:
    """The eligible candidates within the tie margin of the best one."""
    if not result.tie or not result.candidates:
        return []
    best = result.candidates[0].score
    return [c for c in result.candidates if c.eligible and best - c.score <= config.tie_margin]


def choose_po_tool(ids: list[PoId]) -> dict[str, Any]:
    """The ``choose_po`` tool: ``po_id`` is one of ``ids`` or null."""
    return {
        "name": "choose_po",
        "description": (
            "Registra la orden de compra elegida entre las candidatas empatadas, o null para "
            "abstenerse si no se pueden distinguir."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "po_id": {"enum": [*ids, None]},
                "confidence": {"type": "number", "minimum": 0, "maximum": 100},
                "reasoning": {"type": "string", "maxLength": MAX_REASONING_CHARS},
            },
            "required": ["po_id", "confidence", "reasoning"],
            "additionalProperties": False,
        },
    }


def _same_id(chosen: Any, candidate: PoId) -> bool:
    if isinstance(chosen, bool):
        return False
    if type(chosen) is type(candidate):
        return bool(chosen == candidate)
    # The model may quote 7 as "7": accept it only as an exact string match.
    return isinstance(chosen, int | str) and str(chosen) == str(candidate)


def _data(
    invoice: InvoiceData, tied: list[Candidate], pos: dict[str, PurchaseOrder], total: int
) -> dict[str, Any]:
    candidates = []
    for candidate in tied:
        po = pos[str(candidate.po_id)]
        order = msgspec.to_builtins(po)
        order["lines"] = order.get("lines", [])[:MAX_PO_LINES_FOR_AI]
        candidates.append({"score": msgspec.to_builtins(candidate), "purchase_order": order})
    return {
        "context": {
            "margen_empate": _CONFIG.tie_margin,
            "umbral": _CONFIG.threshold,
            "oc_pendientes": total,
        },
        "invoice": msgspec.to_builtins(invoice),
        "candidates": candidates,
    }


def _usage(result: LlmResult) -> AiUsage:
    u = result.usage
    return AiUsage(
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cache_read_tokens=u.cache_read_tokens,
        cache_write_tokens=u.cache_write_tokens,
    )


def _unresolved(result: MatchResult, why: str, ai: AiInfo) -> MatchPoResponse:
    return MatchPoResponse(
        matched_po_id=None,
        confidence=result.confidence,
        line_matches=list(result.line_matches),
        reasoning=f"{result.reasoning} {why}",
        candidates=list(result.candidates),
        method="rules_tie_unresolved",
        ai=ai,
    )


async def match_po(
    payload: dict[str, Any],
    *,
    gateway: LlmGateway | None,
    plugin: str,
    company: int | None,
    deadline_s: float,
) -> MatchPoResponse:
    """Match the invoice of ``payload`` to a pending PO (see the module docstring).

    Raises:
        DteInputError: the payload could not be read.
    """
    invoice, pos = parse_match_request(payload)
    result = match_purchase_orders(invoice, pos, _CONFIG)
    tied = tied_candidates(result)
    if not result.tie or len(tied) < 2:
        return MatchPoResponse(
            matched_po_id=result.matched_po_id,
            confidence=result.confidence,
            line_matches=list(result.line_matches),
            reasoning=result.reasoning,
            candidates=list(result.candidates),
            method="rules",
            ai=AiInfo(status="skipped", reason="not_needed"),
        )
    if gateway is None or not gateway.available:
        return _unresolved(
            result,
            "Sin servicio de IA configurado para desempatar: elija la OC manualmente.",
            AiInfo(status="skipped", reason="not_configured"),
        )
    from quipu.api import LlmRequestTooLarge, LlmUnavailable, LlmUpstreamError

    from quipu_dte.prompts import MATCH_PROMPT

    ids = [c.po_id for c in tied]
    by_id = {str(po.id): po for po in pos}
    try:
        reply = await gateway.complete(
            plugin=plugin,
            prompt=MATCH_PROMPT,
            company=company,
            data=_data(invoice, tied, by_id, len(pos)),
            tools=[choose_po_tool(ids)],
            tool_choice={"type": "tool", "name": "choose_po"},
            deadline_s=deadline_s,
        )
    except (LlmUnavailable, LlmRequestTooLarge, LlmUpstreamError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "kind", None) or "too_large"
        return _unresolved(
            result,
            f"No se pudo desempatar con IA ({reason}): elija la OC manualmente.",
            AiInfo(status="unavailable", reason=reason, detail=str(exc.detail)[:300]),
        )
    except Exception:  # the AI is optional: a bug here must not fail the match
        log.exception("PO tie-break failed unexpectedly")
        return _unresolved(
            result,
            "No se pudo desempatar con IA: elija la OC manualmente.",
            AiInfo(status="unavailable", reason="internal_error"),
        )
    used = AiInfo(
        status="used", model=reply.model, usage=_usage(reply), cost_usd=round(reply.cost_usd, 6)
    )
    call = next((t for t in reply.tool_uses if t.name == "choose_po"), None)
    chosen = call.input.get("po_id") if call is not None else None
    matches = [c for c in tied if _same_id(chosen, c.po_id)] if chosen is not None else []
    if len(matches) != 1:
        why = (
            "La IA no pudo distinguir entre las candidatas: elija la OC manualmente."
            if call is not None and chosen is None
            else "La respuesta de la IA no eligió una OC candidata: elija la OC manualmente."
        )
        return _unresolved(result, why, used)
    winner = matches[0]
    explanation = call.input.get("reasoning") if call is not None else None
    text = " ".join(str(explanation or "").split())[:MAX_REASONING_CHARS]
    lines = result.line_matches
    if str(winner.po_id) != str(result.candidates[0].po_id):
        lines = match_purchase_orders(invoice, [by_id[str(winner.po_id)]], _CONFIG).line_matches
    return MatchPoResponse(
        matched_po_id=winner.po_id,
        confidence=winner.score,
        line_matches=list(lines),
        reasoning=(
            f"{result.reasoning} Desempate por IA: OC {winner.po_name}"
            + (f". {text}" if text else ".")
        ),
        candidates=list(result.candidates),
        method="ai",
        ai=used,
    )
