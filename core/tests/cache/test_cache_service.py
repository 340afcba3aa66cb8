"""The Cache service against a real Redis: tiers, TTLs, isolation, single-flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis
from cache_demo import DemoPlugin, Document, Verdict
from quipu.cache import (
    NO_CACHE,
    Cache,
    UnknownCachePolicy,
    parse_cache_control,
)

pytestmark = pytest.mark.usefixtures("flush_redis")

DOC = Document(company_id=1, folio=42, text="factura")


def counter() -> tuple[list[int], Callable[..., Any]]:
    calls: list[int] = []

    def make(value: Any, delay_s: float = 0.0) -> Callable[[], Any]:
        async def compute() -> Any:
            calls.append(1)
            if delay_s:
                await asyncio.sleep(delay_s)
            return value

        return compute

    return calls, make


async def test_miss_then_l1_hit_then_redis_hit_from_another_process(
    make_cache: Callable[..., Cache],
) -> None:
    calls, make = counter()
    one, two = make_cache(), make_cache()  # two processes sharing one Redis
    compute = make(Verdict(folio=42, valid=True, computed=1))

    miss = await one.get_or_compute("demo.validation", DOC, compute, company=1)
    await one.drain()
    l1 = await one.get_or_compute("demo.validation", DOC, compute, company=1)
    redis_hit = await two.get_or_compute("demo.validation", DOC, compute, company=1)
    l1_after_redis = await two.get_or_compute("demo.validation", DOC, compute, company=1)

    assert len(calls) == 1
    assert (miss.status, miss.tier, miss.stored) == ("miss", None, True)
    assert miss.headers["Cache-Status"] == "quipu; fwd=miss; stored; ttl=900"
    assert (l1.status, l1.tier) == ("hit", "l1")
    assert l1.headers["Cache-Status"].startswith("quipu; hit; ttl=")
    assert l1.headers["Cache-Status"].endswith("; detail=l1")
    assert (redis_hit.status, redis_hit.tier) == ("hit", "redis")
    assert redis_hit.headers["Cache-Status"].endswith("; detail=redis")
    assert l1_after_redis.tier == "l1"
    # The bytes stored are the bytes served: no re-encoding on any tier.
    assert miss.raw == l1.raw == redis_hit.raw == msgspec.json.encode(miss.value)
    assert redis_hit.decode(Verdict) == Verdict(folio=42, valid=True, computed=1)
    assert redis_hit.value == {"folio": 42, "valid": True, "computed": 1, "confidence": 100}


async def test_key_format_and_equivalent_requests_share_it(
    make_cache: Callable[..., Cache],
) -> None:
    cache = make_cache(redis=False)
    key = cache.key("demo.validation", {"folio": 42, "company_id": 1, "text": "factura"}, 1)
    plugin, policy, version, company, digest = key.split(":")
    assert (plugin, policy, version, company) == ("demo", "validation", "v1", "1")
    assert len(digest) == 32
    assert int(digest, 16) >= 0
    # A Struct and a dict with the same fields, in any order, mean the same request.
    assert cache.key("demo.validation", DOC, 1) == key
    assert cache.key("demo.validation", {"text": "factura", "company_id": 1, "folio": 42}, 1) == key
    assert cache.key("demo.validation", DOC, 2) != key
    assert cache.key("demo.indicators", "2026-01").split(":")[3] == "global"
    with pytest.raises(ValueError, match="per company"):
        cache.key("demo.validation", DOC)
    with pytest.raises(ValueError, match="cannot be part of a cache key"):
        cache.key("demo.validation", DOC, "1:*")
    with pytest.raises(UnknownCachePolicy, match=r"demo\.validation"):
        await cache.get_or_compute("demo.nope", DOC, counter()[1](1), company=1)


async def test_ttl_expiry_in_both_tiers(make_cache: Callable[..., Cache], redis_url: str) -> None:
    calls, make = counter()
    cache = make_cache(ttl_s=0.4)
    other = make_cache(ttl_s=0.4)
    compute = make({"ok": True})

    first = await cache.get_or_compute("demo.validation", DOC, compute, company=1)
    await cache.drain()
    client = aioredis.Redis.from_url(redis_url)
    try:
        pttl = await client.pttl(first.key)
        assert 0 < pttl <= 400
        assert (await cache.get_or_compute("demo.validation", DOC, compute, company=1)).hit
        assert (await other.get_or_compute("demo.validation", DOC, compute, company=1)).hit
        await asyncio.sleep(0.45)
        assert await client.exists(first.key) == 0
    finally:
        await client.aclose()
    again = await cache.get_or_compute("demo.validation", DOC, compute, company=1)
    from_other = await other.get_or_compute("demo.validation", DOC, compute, company=1)
    assert again.status == "miss"
    assert from_other.status in ("miss", "hit")
    assert from_other.tier != "l1"  # its L1 copy expired with the Redis entry
    assert len(calls) >= 2


async def test_l1_copy_never_outlives_its_redis_entry(make_cache: Callable[..., Cache]) -> None:
    _calls, make = counter()
    writer, reader = make_cache(ttl_s=0.5), make_cache(ttl_s=0.5)
    await writer.get_or_compute("demo.validation", DOC, make(1), company=1)
    await writer.drain()
    await asyncio.sleep(0.3)
    hit = await reader.get_or_compute("demo.validation", DOC, make(1), company=1)
    assert hit.tier == "redis"
    ttl_left = int(hit.headers["Cache-Status"].split("ttl=")[1].split(";")[0])
    assert ttl_left == 0  # ~0.2 s left, not a fresh 0.5 s
    await asyncio.sleep(0.25)
    assert (await reader.get_or_compute("demo.validation", DOC, make(1), company=1)).status == (
        "miss"
    )


async def test_companies_never_share_an_entry(make_cache: Callable[..., Cache]) -> None:
    calls, make = counter()
    cache = make_cache()
    one = await cache.get_or_compute("demo.validation", DOC, make({"company": 1}), company=1)
    two = await cache.get_or_compute("demo.validation", DOC, make({"company": 2}), company=2)
    one_again = await cache.get_or_compute("demo.validation", DOC, make({"x": 0}), company=1)
    assert one.key != two.key
    assert two.status == "miss"
    assert two.value == {"company": 2}
    assert one_again.value == {"company": 1}
    assert len(calls) == 2


async def test_version_bump_invalidates_every_entry(make_cache: Callable[..., Cache]) -> None:
    calls, make = counter()
    v1 = make_cache(version=1)
    await v1.get_or_compute("demo.validation", DOC, make("old"), company=1)
    await v1.drain()
    v2 = make_cache(version=2)  # the plugin shipped a new version of the policy
    fresh = await v2.get_or_compute("demo.validation", DOC, make("new"), company=1)
    assert fresh.status == "miss"
    assert fresh.key.split(":")[2] == "v2"
    assert fresh.value == "new"
    assert len(calls) == 2


async def test_condition_on_the_value_decides_storing(make_cache: Callable[..., Cache]) -> None:
    plugin = DemoPlugin()
    cache = make_cache()
    unsure = Document(company_id=1, folio=1)
    sure = Document(company_id=1, folio=2)

    async def low() -> Verdict:
        return await plugin.verdict(unsure, confidence=80)

    async def high() -> Verdict:
        return await plugin.verdict(sure, confidence=81)

    first_low = await cache.get_or_compute("demo.chat", unsure, low, company=1)
    second_low = await cache.get_or_compute("demo.chat", unsure, low, company=1)
    await cache.get_or_compute("demo.chat", sure, high, company=1)
    second_high = await cache.get_or_compute("demo.chat", sure, high, company=1)

    assert first_low.stored is False
    assert first_low.headers["Cache-Status"] == "quipu; fwd=miss"
    assert second_low.status == "miss"  # not stored: confidence 80 is not > 80
    assert second_high.hit
    assert plugin.calls == 3


async def test_hundred_concurrent_identical_misses_compute_once(
    make_cache: Callable[..., Cache],
) -> None:
    calls, make = counter()
    cache = make_cache()
    compute = make({"answer": 42}, delay_s=0.05)
    results = await asyncio.gather(
        *(cache.get_or_compute("demo.validation", DOC, compute, company=1) for _ in range(100))
    )
    assert len(calls) == 1
    assert {r.raw for r in results} == {b'{"answer":42}'}
    assert sum(not r.collapsed for r in results) == 1
    collapsed = [r for r in results if r.collapsed]
    assert len(collapsed) == 99
    assert collapsed[0].headers["Cache-Status"] == "quipu; fwd=miss; stored; ttl=900; collapsed"


async def test_failed_compute_reaches_every_waiter_and_is_not_stored(
    make_cache: Callable[..., Cache],
) -> None:
    cache = make_cache()
    calls: list[int] = []

    async def boom() -> Any:
        calls.append(1)
        await asyncio.sleep(0.01)
        raise RuntimeError("upstream down")

    results = await asyncio.gather(
        *(cache.get_or_compute("demo.validation", DOC, boom, company=1) for _ in range(5)),
        return_exceptions=True,
    )
    assert len(calls) == 1
    assert all(isinstance(r, RuntimeError) for r in results)
    ok = await cache.get_or_compute("demo.validation", DOC, counter()[1]("fine"), company=1)
    assert ok.status == "miss"
    assert ok.value == "fine"


async def test_a_cancelled_caller_does_not_cancel_the_shared_computation(
    make_cache: Callable[..., Cache],
) -> None:
    calls, make = counter()
    cache = make_cache()
    compute = make("value", delay_s=0.05)
    first = asyncio.create_task(cache.get_or_compute("demo.validation", DOC, compute, company=1))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(cache.get_or_compute("demo.validation", DOC, compute, company=1))
    await asyncio.sleep(0.005)
    first.cancel()
    assert (await second).value == "value"
    assert len(calls) == 1


async def test_no_cache_recomputes_and_refreshes_no_store_does_neither(
    make_cache: Callable[..., Cache],
) -> None:
    calls, make = counter()
    cache, other = make_cache(), make_cache()
    await cache.get_or_compute("demo.validation", DOC, make("v1"), company=1)
    refreshed = await cache.get_or_compute(
        "demo.validation", DOC, make("v2"), company=1, directive=NO_CACHE
    )
    await cache.drain()
    after = await cache.get_or_compute("demo.validation", DOC, make("x"), company=1)
    elsewhere = await other.get_or_compute("demo.validation", DOC, make("x"), company=1)
    bypass = await cache.get_or_compute(
        "demo.validation",
        DOC,
        make("v3"),
        company=1,
        directive=parse_cache_control("max-age=0, no-store"),
    )
    await cache.drain()
    still = await cache.get_or_compute("demo.validation", DOC, make("x"), company=1)

    assert refreshed.status == "refresh"
    assert refreshed.headers["Cache-Status"] == "quipu; fwd=request; stored; ttl=900"
    assert after.value == "v2"
    assert after.tier == "l1"
    assert elsewhere.value == "v2"
    assert elsewhere.tier == "redis"
    assert bypass.status == "bypass"
    assert bypass.value == "v3"
    assert bypass.headers["Cache-Status"] == "quipu; fwd=bypass"
    assert still.value == "v2"
    assert len(calls) == 3


async def test_global_policy_is_shared_by_every_company(make_cache: Callable[..., Cache]) -> None:
    calls, make = counter()
    cache = make_cache()
    first = await cache.get_or_compute("demo.indicators", "2026-01", make({"uf": 1}))
    again = await cache.get_or_compute("demo.indicators", "2026-01", make({"uf": 2}), company=9)
    assert first.key == again.key
    assert again.hit
    assert len(calls) == 1


async def test_invalidation_by_plugin_policy_and_company_reaches_other_processes(
    make_cache: Callable[..., Cache],
) -> None:
    _calls, make = counter()
    here, there = make_cache(), make_cache()
    there.start()  # the other process listens for invalidations
    await asyncio.sleep(0.05)
    for company in (1, 2):
        await here.get_or_compute("demo.validation", DOC, make(company), company=company)
    await here.get_or_compute("demo.indicators", "2026-01", make("uf"))
    await here.drain()
    for company in (1, 2):
        assert (
            await there.get_or_compute("demo.validation", DOC, make(0), company=company)
        ).tier == "redis"

    done = await here.invalidate(plugin="demo", policy="validation", company=1)
    assert done.redis_removed == 1
    assert done.l1_removed == 1
    assert done.policies == ["demo.validation"]
    deadline = time.monotonic() + 2
    while any(k.startswith("demo:validation:v1:1:") for k in there.l1):
        assert time.monotonic() < deadline, "the other process kept its L1 copy"
        await asyncio.sleep(0.01)
    gone = await there.get_or_compute("demo.validation", DOC, make("recomputed"), company=1)
    kept = await there.get_or_compute("demo.validation", DOC, make(0), company=2)
    assert gone.status == "miss"
    assert kept.hit

    everything = await here.invalidate(plugin="demo")
    assert everything.redis_removed == 3  # both companies' validations and the indicators
    with pytest.raises(UnknownCachePolicy):
        await here.invalidate(plugin="nope")


async def test_without_redis_the_cache_is_l1_only(make_cache: Callable[..., Cache]) -> None:
    calls, make = counter()
    cache = make_cache(redis=False)
    miss = await cache.get_or_compute("demo.validation", DOC, make(1), company=1)
    hit = await cache.get_or_compute("demo.validation", DOC, make(1), company=1)
    assert miss.headers["Cache-Status"] == "quipu; fwd=miss; stored; ttl=900"
    assert hit.tier == "l1"
    assert (await cache.invalidate(policy="validation")).redis == "disabled"
    assert len(calls) == 1


async def test_get_never_computes_and_put_stores_what_was_computed_elsewhere(
    make_cache: Callable[..., Cache],
) -> None:
    here, there = make_cache(), make_cache()
    streamed = Verdict(folio=42, valid=True, computed=7, confidence=90)
    unsure = Verdict(folio=43, valid=True, computed=8, confidence=50)
    assert await here.get("demo.chat", DOC, company=1) is None
    assert await here.put("demo.chat", DOC, streamed, company=1) is True
    assert await here.put("demo.chat", {"other": 1}, unsure, company=1) is False  # cache_if
    await here.drain()
    local = await here.get("demo.chat", DOC, company=1)
    remote = await there.get("demo.chat", DOC, company=1)
    assert local is not None
    assert local.tier == "l1"
    assert remote is not None
    assert remote.tier == "redis"
    assert remote.decode(Verdict) == streamed
    assert await there.get("demo.chat", {"other": 1}, company=1) is None
    plugin_view = here.for_plugin("demo", cache_control="no-store")
    assert await plugin_view.put("chat", {"x": 1}, streamed, company=1) is False
