"""The cache's admin route, served by the built-in ``platform`` plugin."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, delete
from litestar.exceptions import (
    NotFoundException,
    ServiceUnavailableException,
    ValidationException,
)
from litestar.params import FromQuery, Parameter
from litestar.status_codes import HTTP_200_OK

from quipu.cache.keys import COMPANY_QUERY_PATTERN
from quipu.cache.redis_tier import RedisUnavailable
from quipu.cache.result import Invalidation, UnknownCachePolicy
from quipu.cache.service import Cache
from quipu.security.auth import requires_role
from quipu.state import platform_state

__all__ = ["invalidate_cache"]

#: ``?company=``: what :func:`quipu.cache.keys.company_segment` accepts (checked by it, 422
#: in its words), or empty for none.
_Company = Annotated[
    str | None,
    Parameter(
        description="one company's entries only (its id); empty or left out: every company",
        schema_extra={"pattern": COMPANY_QUERY_PATTERN},
    ),
]


@delete(
    "/_platform/cache",
    guards=[requires_role("admin")],
    tags=["platform"],
    summary="Invalidate cache entries (admin)",
    status_code=HTTP_200_OK,
)
async def invalidate_cache(
    request: Request[Any, Any, Any],
    plugin: FromQuery[str | None] = None,
    policy: FromQuery[str | None] = None,
    company: _Company = None,
) -> Invalidation:
    """Remove the entries of ``plugin``'s ``policy`` (every version) of ``company``.

    Every filter is optional; none removes every entry of every policy, and ``company``
    leaves global policies alone. Answers how many entries were removed from Redis and from
    this process's L1 (the other processes clear theirs through Redis). 404 for an unknown
    plugin or policy; 503 when Redis cannot be reached (its entries remain).
    """
    cache: Cache = platform_state(request).services["cache"]
    try:
        return await cache.invalidate(
            plugin=plugin or None, policy=policy or None, company=company or None
        )
    except UnknownCachePolicy as exc:
        raise NotFoundException(detail=str(exc)) from None
    except ValueError as exc:
        raise ValidationException(detail=str(exc)) from None
    except RedisUnavailable as exc:
        raise ServiceUnavailableException(
            detail=f"Redis unavailable: its entries remain, this process's L1 was cleared ({exc})"
        ) from None
