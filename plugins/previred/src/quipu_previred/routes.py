"""``/api/payroll/indicators/{period}``: read (any key), load and remove (admin keys).

- ``GET``: the month's indicators in the original service's shape (see
  :mod:`quipu_previred.documents`); ``?force=true`` fetches from Previred again.
  400 malformed period, 404 no source has the month, 502 Previred's document or its
  extraction refused, 503 the fetch could not run now.
- ``PUT`` (admin role): load values for a month, validated and kept in Redis. Indicators
  are the same for every company, so loaded values are platform-wide: loading them is an
  admin's job, and every key (whatever its companies) reads them. 422 lists every problem.
- ``DELETE`` (admin role): remove the values an admin loaded for a month.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, delete, get, put
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from quipu.api import Caller, Plugin, error_response, requires_role

from quipu_previred.config import PreviredConfig
from quipu_previred.documents import (
    IndicatorsDocument,
    IndicatorsMetadata,
    admin_document,
    overlay,
)
from quipu_previred.flat import IndicatorsError, from_flat, to_flat
from quipu_previred.keys import KEY_SPECS
from quipu_previred.lookup import INDICATORS, IndicatorsLookup
from quipu_previred.periods import PERIOD_PATTERN, PeriodError, parse_period
from quipu_previred.published import load_published, published_month
from quipu_previred.store import (
    AdminRecord,
    Numbers,
    StoreUnavailable,
    delete_admin,
    write_record,
)
from quipu_previred.validation import CORE_KEYS, range_check

__all__ = ["ROUTES", "AdminLoadResponse", "delete_indicators", "get_indicators", "put_indicators"]

PATH: Final = "/api/payroll/indicators/{period:str}"
#: The month of every indicators route; the pattern states what ``parse_period`` accepts
#: (checked by the handler, which answers 400 with its own words).
Period = Annotated[
    str,
    Parameter(
        description="month, YYYY-MM (1990-01 to 2100-12)",
        schema_extra={"pattern": PERIOD_PATTERN},
    ),
]
_JSON: Final = "application/json"
#: The previred plugin's context, injected into its handlers as ``plugin``.
Previred = Plugin[PreviredConfig]


def _lookup(plugin: Previred) -> IndicatorsLookup:
    return plugin.service(INDICATORS)


_WRAPPER_KEYS: Final = frozenset({"indicators", "source", "note", "period", "success", "metadata"})
_PROBLEM_KEY: Final = re.compile(r"^(?:falta |clave desconocida: )?([a-z][a-z0-9_]*)")


class AdminLoadResponse(msgspec.Struct, frozen=True, kw_only=True):
    """What ``PUT`` answers: the stored record and the month's answer as ``GET`` gives it."""

    record: AdminRecord
    indicators: Numbers
    metadata: IndicatorsMetadata
    success: bool = True


class AdminDeleteResponse(msgspec.Struct, frozen=True, kw_only=True):
    """What ``DELETE`` answers."""

    period: str
    deleted: bool
    success: bool = True


def _period_or_400(period: str) -> str:
    try:
        parse_period(period)
    except PeriodError as exc:
        raise HTTPException(status_code=HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    return period


@get(
    PATH,
    summary="Previred indicators of a month",
    description=(
        "Flat numeric indicators (UF, UTM, topes, AFP rates...) of a remuneration month, "
        "with their source: admin-loaded values, the published values shipped with quipu, "
        "or Previred's document read by the LLM. `force=true` fetches from Previred again."
    ),
    # The handler sends the cached JSON bytes as they are: document what they hold.
    responses={
        200: ResponseSpec(
            IndicatorsDocument, description="The month's indicators", generate_examples=False
        )
    },
)
async def get_indicators(
    request: Request[Any, Any, Any],
    plugin: Previred,
    period: Period,
    force: FromQuery[bool] = False,
) -> Response[bytes]:
    """``{"success": true, "indicators": {...}, "metadata": {...}}`` for ``period``."""
    _period_or_400(period)
    lookup = _lookup(plugin)
    if force:
        doc = await lookup.build(period, fetch=True, force=True)
        await lookup.invalidate()
        return Response(
            msgspec.json.encode(doc),
            media_type=_JSON,
            headers={"Cache-Status": "quipu; fwd=request"},
        )
    result = await lookup.document(period, fetch=True, request=request)
    return Response(result.raw, media_type=_JSON, headers=result.headers)


def _admin_body(
    data: dict[str, Any], period: str, problems: list[str]
) -> tuple[dict[str, Any], str | None, str | None]:
    """Split ``{"indicators": {...}, "source": ..., "note": ...}`` or a bare flat dict."""
    wrapped = isinstance(data.get("indicators"), dict)
    values: dict[str, Any] = dict(data["indicators"]) if wrapped else dict(data)
    source: Any = data.get("source") if wrapped else None
    note: Any = data.get("note") if wrapped else None
    if wrapped:
        problems += [f"clave desconocida: {key}" for key in sorted(set(data) - _WRAPPER_KEYS)]
    for name, text in (("source", source), ("note", note)):
        if text is not None and (not isinstance(text, str) or len(text) > 500):
            problems.append(f"{name}: debe ser un texto de hasta 500 caracteres")
    given = values.pop("period", None) or (data.get("period") if wrapped else None)
    if given is not None and given != period:
        problems.append(f"period: el cuerpo dice {given!r} y la ruta {period!r}")
    if not values:
        problems.append("no se enviaron indicadores")
    return (
        values,
        source if isinstance(source, str) else None,
        note if isinstance(note, str) else None,
    )


def _problem_errors(problems: list[str]) -> list[dict[str, Any]]:
    errors = []
    for problem in problems:
        match = _PROBLEM_KEY.match(problem)
        key = match.group(1) if match else None
        field = key if key in KEY_SPECS or key in ("source", "note", "period") else None
        errors.append({"field": field, "source": "body", "message": problem})
    return errors


@put(
    PATH,
    guards=[requires_role("admin")],
    status_code=200,
    summary="Load a month's indicators (admin)",
    description=(
        'Body: the flat indicators (`{"uf": 39179.01, ...}`), or '
        '`{"indicators": {...}, "source": "...", "note": "..."}`. Values override '
        "the shipped values of the month key by key; a month without shipped values needs "
        "at least uf, utm, uta and sueldo_minimo. Every value is range-checked."
    ),
    responses={
        200: ResponseSpec(
            AdminLoadResponse, description="The stored values", generate_examples=False
        )
    },
)
async def put_indicators(
    request: Request[Any, Any, Any],
    plugin: Previred,
    period: Period,
    data: JSONBody[dict[str, Any]],
    principal: Caller,
) -> Response[Any]:
    """Validate and store admin-loaded values for ``period``; 422 lists every problem."""
    _period_or_400(period)
    problems: list[str] = []
    values, source, note = _admin_body(data, period, problems)
    mine = None
    try:
        mine = from_flat(values, period=period, origin="admin", strict=True)
    except IndicatorsError as exc:
        problems += exc.problems
    if mine is not None and not problems and not to_flat(mine):
        problems.append("no se enviaron indicadores (todos los valores son null)")
    base = load_published(period)
    if mine is not None and not problems:
        merged = overlay(base, mine) if base is not None else mine
        problems += range_check(merged, require=() if base is not None else CORE_KEYS)
    if problems or mine is None:
        return error_response(
            request,
            HTTP_422_UNPROCESSABLE_ENTITY,
            f"Indicadores de {period} rechazados: " + "; ".join(problems),
            errors=_problem_errors(problems),
        )
    flat = to_flat(mine)
    record = AdminRecord(
        period=period,
        indicators=flat,
        keys=sorted(flat),
        loaded_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        loaded_by=principal.key_name,
        source=source,
        note=note,
    )
    lookup = _lookup(plugin)
    try:
        await write_record(plugin.redis, record)
    except StoreUnavailable as exc:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"No se pudieron guardar los indicadores de {period}: {exc}",
        ) from None
    await lookup.invalidate()
    await lookup.bump(period)
    doc = admin_document(record, published_month(period), base, [])
    return Response(
        AdminLoadResponse(record=record, indicators=doc.indicators, metadata=doc.metadata)
    )


@delete(
    PATH,
    guards=[requires_role("admin")],
    status_code=200,
    summary="Remove a month's admin-loaded indicators (admin)",
)
async def delete_indicators(plugin: Previred, period: Period) -> AdminDeleteResponse:
    """Forget the values an admin loaded for ``period`` (shipped values answer again)."""
    _period_or_400(period)
    lookup = _lookup(plugin)
    try:
        deleted = await delete_admin(plugin.redis, period)
    except StoreUnavailable as exc:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"No se pudieron borrar los indicadores de {period}: {exc}",
        ) from None
    await lookup.invalidate()
    await lookup.bump(period)
    return AdminDeleteResponse(period=period, deleted=deleted)


ROUTES: Final = (get_indicators, put_indicators, delete_indicators)
