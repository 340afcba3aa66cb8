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
from typing import Annotated, Any, Final, Literal

import msgspec
from litestar import Request, Response, delete, get, put
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromQuery, Parameter
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
from quipu_previred.openapi import ADMIN_BODY_SCHEMA, MAX_TEXT
from quipu_previred.periods import PERIOD_PATTERN, PeriodError, parse_period
from quipu_previred.published import load_published, published_month
from quipu_previred.store import (
    AdminRecord,
    Numbers,
    StoreUnavailable,
    delete_admin,
    write_record,
)
from quipu_previred.validation import CORE_KEYS, Problem, ProblemKind, check, value_problems

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
_WORD: Final = re.compile(r"[a-z][a-z0-9_]*")
PERIOD_RE: Final = re.compile(PERIOD_PATTERN)


class AdminLoadResponse(msgspec.Struct, frozen=True, kw_only=True):
    """What ``PUT`` answers: the stored record and the month's answer as ``GET`` gives it."""

    record: AdminRecord
    indicators: Numbers
    metadata: IndicatorsMetadata
    success: bool = True


class LoadProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One problem of refused indicator values."""

    field: str | None
    fields: list[str]
    source: Literal["body"]
    kind: ProblemKind
    message: str
    fix: str


class LoadRejected(msgspec.Struct, frozen=True, kw_only=True):
    """The 422 of ``PUT``: quipu's error shape with every problem, each with its ``kind``."""

    detail: str
    errors: list[LoadProblem]
    request_id: str | None


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


def _period_problems(given: object, period: str, where: str) -> list[Problem]:
    """A ``period`` in the body: null, or the path's month."""
    if given is None:
        return []
    if not isinstance(given, str) or not PERIOD_RE.match(given):
        message = f"{where}: debe ser un mes YYYY-MM (o null), llegó {given!r}"
        return [Problem(fields=("period",), message=message, kind="schema")]
    if given != period:
        message = f"{where}: el cuerpo dice {given!r} y la ruta {period!r}"
        return [Problem(fields=("period",), message=message, kind="relation")]
    return []


def _admin_body(
    data: dict[str, Any], period: str, problems: list[Problem]
) -> tuple[dict[str, Any], str | None, str | None]:
    """Split ``{"indicators": {...}, "source": ..., "note": ...}`` or a bare flat dict."""
    wrapped = isinstance(data.get("indicators"), dict)
    values: dict[str, Any] = dict(data["indicators"]) if wrapped else dict(data)
    source: Any = data.get("source") if wrapped else None
    note: Any = data.get("note") if wrapped else None
    if wrapped:
        problems += [
            Problem(fields=(key,), message=f"clave desconocida: {key}", kind="schema")
            for key in sorted(set(data) - _WRAPPER_KEYS)
        ]
        problems += _period_problems(data.get("period"), period, "period")
    for name, text in (("source", source), ("note", note)):
        if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
            message = f"{name}: debe ser un texto de hasta {MAX_TEXT} caracteres"
            problems.append(Problem(fields=(name,), message=message, kind="schema"))
    problems += _period_problems(values.pop("period", None), period, "period")
    problems += value_problems(values)
    if all(value is None for value in values.values()):
        message = "no se enviaron indicadores" + (" (todos los valores son null)" if values else "")
        problems.append(Problem(fields=(), message=message, kind="schema"))
    return (
        values,
        source if isinstance(source, str) else None,
        note if isinstance(note, str) else None,
    )


_FIX: Final[dict[str, str]] = {
    "schema": "envíe cada valor como número JSON (o null) dentro del rango que publica el "
    "esquema OpenAPI de esta ruta, con las claves que GET responde",
    "relation": "corrija los valores para que concuerden entre sí y con el mes de la ruta "
    "(o envíe solo uno de ellos; los demás quedan como se publicaron)",
    "missing_for_period": "el mes no tiene valores publicados: envíe al menos "
    + ", ".join(CORE_KEYS),
}


def _rejected(
    request: Request[Any, Any, Any], period: str, problems: list[Problem]
) -> Response[Any]:
    """422 listing every problem: its keys, kind, words and how to fix it."""
    errors = [
        {
            "field": problem.fields[0] if problem.fields else None,
            "fields": list(problem.fields),
            "source": "body",
            "kind": problem.kind,
            "message": problem.message,
            "fix": _FIX[problem.kind],
        }
        for problem in problems
    ]
    kinds = list(dict.fromkeys(problem.kind for problem in problems))
    return error_response(
        request,
        HTTP_422_UNPROCESSABLE_ENTITY,
        f"Indicadores de {period} rechazados: "
        + "; ".join(problem.message for problem in problems)
        + ". Cómo corregir: "
        + "; ".join(_FIX[kind] for kind in kinds),
        errors=errors,
    )


def _relation_problems(messages: list[str]) -> list[Problem]:
    """What :func:`from_flat` refuses once every value passed on its own: aliases that
    disagree, a worker rate that is not 10 + the commission, a Ley 21.735 split."""
    return [
        Problem(
            fields=tuple(dict.fromkeys(w for w in _WORD.findall(m) if w in KEY_SPECS)),
            message=m,
            kind="relation",
        )
        for m in messages
    ]


def _orphan_limits(values: dict[str, Any]) -> list[Problem]:
    """A bracket's upper limit without its amount would be dropped: refuse it instead."""
    problems = []
    for tramo in range(1, 4):
        monto = f"asig_fam_tramo_{tramo}"
        if values.get(f"{monto}_hasta") is not None and values.get(monto) is None:
            message = f"{monto}_hasta sin {monto}: envíe el monto del tramo con su límite"
            problems.append(
                Problem(fields=(f"{monto}_hasta", monto), message=message, kind="relation")
            )
    return problems


#: The body, published as the route reads it (quipu_previred.openapi).
AdminBody = Annotated[
    Any,
    Body(
        media_type=RequestEncodingType.JSON,
        schema_extra={
            "one_of": ADMIN_BODY_SCHEMA["oneOf"],
            "description": ADMIN_BODY_SCHEMA["description"],
        },
    ),
]


@put(
    PATH,
    guards=[requires_role("admin")],
    status_code=200,
    summary="Load a month's indicators (admin)",
    description=(
        'Body: the flat indicators (`{"uf": 39179.01, ...}`), or '
        '`{"indicators": {...}, "source": "...", "note": "..."}`. Values override '
        "the shipped values of the month key by key. The schema states each value's "
        "range; values that disagree with each other (or with the shipped values they "
        "join), and a month without shipped values lacking uf, utm, uta or sueldo_minimo, "
        "are answered 422 with every problem's `kind`, keys and fix."
    ),
    responses={
        200: ResponseSpec(
            AdminLoadResponse, description="The stored values", generate_examples=False
        ),
        422: ResponseSpec(
            LoadRejected,
            description=(
                "Values refused: `errors` lists each problem with its `kind` (`schema`: a "
                "value the schema refuses; `relation`: values that disagree; "
                "`missing_for_period`: a key the month needs), `fields`, `message`, `fix`"
            ),
            generate_examples=False,
        ),
    },
)
async def put_indicators(
    request: Request[Any, Any, Any],
    plugin: Previred,
    period: Period,
    data: AdminBody,
    principal: Caller,
) -> Response[Any]:
    """Validate and store admin-loaded values for ``period``; 422 lists every problem."""
    _period_or_400(period)
    if not isinstance(data, dict):
        message = f"se esperaba un objeto JSON, llegó {type(data).__name__}"
        return _rejected(request, period, [Problem(fields=(), message=message, kind="schema")])
    problems: list[Problem] = []
    values, source, note = _admin_body(data, period, problems)
    if any(problem.kind == "schema" for problem in problems):
        return _rejected(request, period, problems)
    problems += _orphan_limits(values)
    mine = None
    try:
        mine = from_flat(values, period=period, origin="admin", strict=True)
    except IndicatorsError as exc:
        problems += _relation_problems(exc.problems)
    base = load_published(period)
    if mine is not None and not problems:
        merged = overlay(base, mine) if base is not None else mine
        problems += check(merged, require=() if base is not None else CORE_KEYS)
    if problems or mine is None:
        return _rejected(request, period, problems)
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
