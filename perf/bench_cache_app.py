"""The apps :mod:`bench_cache` serves with Granian: one cached quipu route, one bare route.

Both answer ``POST /api/bench/validate`` with the same handler logic (decode the body with
msgspec, compute a small DTE-like verdict, answer JSON); the bare app is plain Litestar,
without quipu's middleware, auth or cache. Factories (``granian --factory``):

- ``bench_cache_app:create_bare_app``: Litestar alone;
- ``bench_cache_app:create_app``: quipu with the ``bench`` plugin, configured from the
  environment (``API_KEY``, ``REDIS_URL``, ``QUIPU_CONFIG`` for ``[cache]``/``[redis]``).
"""

from __future__ import annotations

import gc
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, post
from litestar.params import JSONBody
from quipu.api import CachePolicy, Caller, Plugin, hookimpl

__all__ = ["BODY", "create_app", "create_bare_app"]


class ValidateRequest(msgspec.Struct, frozen=True):
    company_id: int
    rut: str
    folio: int
    amount: int


class Verdict(msgspec.Struct):
    valid: bool
    rut: str
    folio: int
    net: int
    iva: int
    errors: list[str]


#: The request every benchmark client sends.
BODY = msgspec.json.encode(
    ValidateRequest(company_id=1, rut="76.123.456-7", folio=42, amount=119_000)
)


def _check_digit(rut: str) -> str:
    digits = rut.replace(".", "").split("-")[0]
    total, factor = 0, 2
    for d in reversed(digits):
        total += int(d) * factor
        factor = 2 if factor == 7 else factor + 1
    rest = 11 - total % 11
    return {11: "0", 10: "K"}.get(rest, str(rest))


def compute_verdict(req: ValidateRequest) -> Verdict:
    """The route's work (deliberately small: the benchmark measures the serving path)."""
    expected = _check_digit(req.rut)
    errors = [] if req.rut.endswith(expected) else [f"RUT check digit should be {expected}"]
    net = round(req.amount / 1.19)
    return Verdict(
        valid=not errors, rut=req.rut, folio=req.folio, net=net, iva=req.amount - net, errors=errors
    )


@post("/api/bench/validate", status_code=200)
async def bare_validate(data: JSONBody[ValidateRequest]) -> Response[bytes]:
    """The bare route: compute and encode on every request."""
    return Response(msgspec.json.encode(compute_verdict(data)), media_type="application/json")


def _freeze_heap() -> None:
    gc.collect()
    gc.freeze()


def create_bare_app() -> Litestar:
    """Plain Litestar serving :func:`bare_validate`.

    It freezes its start-up heap like quipu does (``quipu.app``), so that both apps pay
    the same for garbage collection and the comparison is about the request path.
    """
    return Litestar(route_handlers=[bare_validate], logging_config=None, on_startup=[_freeze_heap])


class BenchPlugin:
    """The ``bench`` plugin: one per-company ``validation`` policy, one cached route."""

    @hookimpl
    def register_cache_policies(self) -> list[CachePolicy]:
        return [CachePolicy(name="validation", ttl_s=900)]

    @hookimpl
    def register_routes(self) -> list[Any]:
        return [validate]


@post("/api/bench/validate", status_code=200)
async def validate(
    request: Request[Any, Any, Any],
    data: JSONBody[ValidateRequest],
    principal: Caller,
    plugin: Plugin[Any],
) -> Response[bytes]:
    """The cached route, as a quipu plugin writes it."""
    principal.require_company(data.company_id)

    async def compute() -> Verdict:
        return compute_verdict(data)

    result = await plugin.cache_for(request).get_or_compute(
        "validation", data, compute, company=data.company_id
    )
    return Response(result.raw, media_type="application/json", headers=result.headers)


def create_app() -> Litestar:
    """quipu with the ``bench`` plugin only, settings from the environment."""
    from quipu.app import create_app as create_quipu_app
    from quipu.config import load_settings

    return create_quipu_app(load_settings(), plugins=[("bench", BenchPlugin())], autoload=False)
