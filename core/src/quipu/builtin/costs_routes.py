"""``GET /metrics/costs``: LLM usage and cost, as the original service answered it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, get
from litestar.params import QueryParameter

from quipu.llm.ledger import CostStats
from quipu.security.auth import Caller
from quipu.state import platform_state

__all__ = ["costs"]


@get("/metrics/costs", tags=["platform"], summary="LLM usage and cost by period")
async def costs(
    request: Request[Any, Any, Any],
    principal: Caller,
    period: Annotated[
        Literal["today", "yesterday", "this_month", "all_time"],
        QueryParameter(name="period", description="today | yesterday | this_month | all_time"),
    ] = "today",
    company_id: Annotated[
        int | None,
        QueryParameter(name="company_id", description="one company (default: all yours)"),
    ] = None,
) -> CostStats:
    """Calls, tokens (cache reads and writes apart) and USD, in total, by operation and model.

    A key scoped to companies sees only theirs; the full-access key sees the whole platform
    unless ``company_id`` narrows it.
    """
    gateway = platform_state(request).services["llm"]
    if company_id is not None:
        principal.require_company(company_id)
        companies: list[str] | None = [str(company_id)]
    elif principal.companies is None:
        companies = None
    else:
        companies = [str(c) for c in sorted(principal.companies)]
    stats: CostStats = await gateway.ledger.stats(period, companies)
    return stats
