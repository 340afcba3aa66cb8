"""``demo``: a plugin with cached routes, for the cache tests."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody
from quipu.api import CachePolicy, Caller, Plugin, hookimpl


class Document(msgspec.Struct, frozen=True):
    company_id: int
    folio: int
    text: str = ""


class Verdict(msgspec.Struct):
    folio: int
    valid: bool
    computed: int
    confidence: int = 100


class DemoPlugin:
    """``demo``: a per-company ``validation`` policy, a ``chat`` policy with a condition,
    a global ``indicators`` policy; counts its computations."""

    def __init__(self, version: int = 1, ttl_s: float = 900.0, delay_s: float = 0.0) -> None:
        self.version = version
        self.ttl_s = ttl_s
        self.delay_s = delay_s
        self.calls = 0

    @hookimpl
    def register_cache_policies(self) -> list[CachePolicy]:
        return [
            CachePolicy(name="validation", ttl_s=self.ttl_s, version=self.version),
            CachePolicy(name="chat", ttl_s=300, cache_if=lambda v: v.confidence > 80),
            CachePolicy(name="indicators", ttl_s=3600, scope="global"),
        ]

    @hookimpl
    def register_routes(self) -> list[Any]:
        demo = self

        @post("/api/demo/validate")
        async def validate(
            request: Request[Any, Any, Any],
            data: JSONBody[Document],
            principal: Caller,
            plugin: Plugin[Any],
        ) -> Response[bytes]:
            principal.require_company(data.company_id)

            async def compute() -> Verdict:
                return await demo.verdict(data)

            result = await plugin.cache_for(request).get_or_compute(
                "validation", data, compute, company=data.company_id
            )
            return result.response()

        @get("/api/demo/indicators/{period:str}")
        async def indicators(
            request: Request[Any, Any, Any], period: FromPath[str], plugin: Plugin[Any]
        ) -> Any:
            async def compute() -> dict[str, Any]:
                demo.calls += 1
                return {"period": period, "uf": 39000.5, "computed": demo.calls}

            result = await plugin.cache_for(request).get_or_compute("indicators", period, compute)
            return Response(result.raw, media_type="application/json", headers=result.headers)

        return [validate, indicators]

    async def verdict(self, doc: Document, confidence: int = 100) -> Verdict:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return Verdict(folio=doc.folio, valid=True, computed=self.calls, confidence=confidence)


def demo_policies(**kwargs: Any) -> dict[str, CachePolicy]:
    """The demo plugin's policies as the registry names them."""
    return {f"demo.{p.name}": p for p in DemoPlugin(**kwargs).register_cache_policies()}
