"""The cache's parts on their own: L1 bounds, keys, the hit window, URLs, directives."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from quipu.cache import NO_CACHE, NO_STORE, USE, parse_cache_control
from quipu.cache.connect import _credentials, _nodes, connect, redis_kind
from quipu.cache.keys import company_segment, digest, glob_escape
from quipu.cache.l1 import ENTRY_OVERHEAD, L1
from quipu.cache.metrics import HitWindow
from quipu.config import load_settings


def test_l1_is_bounded_by_entries_least_recently_used_first() -> None:
    l1 = L1(max_entries=3, max_bytes=1 << 20)
    for key in "abc":
        l1.put(key, b"x", expires_at=100)
    assert l1.get("a", now=0) is not None  # a is now the most recent
    l1.put("d", b"x", expires_at=100)
    assert len(l1) == 3
    assert "b" not in l1
    assert list(l1) == ["c", "a", "d"]


def test_l1_is_bounded_by_bytes_and_refuses_huge_values() -> None:
    size = 100 + 1 + ENTRY_OVERHEAD
    l1 = L1(max_entries=1000, max_bytes=size * 8)
    for i in range(20):
        l1.put(str(i % 10), b"v" * 100, expires_at=100)
    assert l1.bytes <= l1.max_bytes
    assert len(l1) == 8
    assert l1.put("big", b"v" * (size * 2), expires_at=100) is False  # > 1/8 of the budget
    assert "big" not in l1
    l1.put("0", b"small", expires_at=100)
    assert l1.bytes == sum(
        len(v) + len(k) + ENTRY_OVERHEAD
        for k, v in ((k, l1.get(k, 0)[0]) for k in l1)  # type: ignore[index]
    )


def test_l1_entries_expire_and_size_zero_disables_it() -> None:
    l1 = L1(max_entries=10, max_bytes=1 << 20)
    l1.put("k", b"v", expires_at=10.0)
    assert l1.get("k", now=9.9) == (b"v", 10.0)
    assert l1.get("k", now=10.0) is None
    assert len(l1) == 0
    assert l1.bytes == 0
    off = L1(max_entries=0, max_bytes=1 << 20)
    assert off.put("k", b"v", expires_at=10.0) is False
    assert off.get("k", now=0) is None


def test_l1_remove_where() -> None:
    l1 = L1(max_entries=10, max_bytes=1 << 20)
    for key in ("dte:v:v1:1:a", "dte:v:v1:2:b", "chat:c:v1:1:c"):
        l1.put(key, b"v", expires_at=100)
    assert l1.remove_where(lambda k: k.startswith("dte:")) == 2
    assert list(l1) == ["chat:c:v1:1:c"]


def test_digest_is_canonical_and_not_md5() -> None:
    class Req(msgspec.Struct):
        rut: str
        amount: int

    assert digest(Req("76.123.456-7", 10)) == digest({"amount": 10, "rut": "76.123.456-7"})
    assert digest({"a": [1, 2]}) != digest({"a": [2, 1]})
    assert digest({"s": {3, 1}}) == digest({"s": {1, 3}})
    assert len(digest("x")) == 32  # BLAKE2b-128
    with pytest.raises(TypeError):
        digest(object())


@pytest.mark.parametrize(
    ("company", "segment"), [(7, "7"), ("7", "7"), ("acme-cl", "acme-cl"), ("1,2", "1,2")]
)
def test_company_segment_accepts_ids(company: Any, segment: str) -> None:
    assert company_segment(company) == segment


@pytest.mark.parametrize("company", ["a:b", "", "x" * 129, True, 1.5, "con espacio"])
def test_company_segment_rejects_what_could_break_a_key(company: Any) -> None:
    with pytest.raises(ValueError, match="cannot be part of a cache key"):
        company_segment(company)


def test_glob_escape() -> None:
    assert glob_escape("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\"


def test_hit_window_slides() -> None:
    window = HitWindow(window_s=10, buckets=10)
    for t in range(10):
        window.record(t + 0.5, hit=t % 2 == 0)
    assert window.counts(9.9) == (5, 10)
    window.record(12.5, hit=True)  # seconds 0-2 fall out: 3..9 (hits at 4, 6, 8) and 12
    assert window.counts(12.6) == (4, 8)
    assert window.counts(100) == (0, 0)


@pytest.mark.parametrize(
    ("header", "directive"),
    [
        (None, USE),
        ("", USE),
        ("max-age=60", USE),
        ("no-cache", NO_CACHE),
        ("No-Cache, max-age=0", NO_CACHE),
        ("no-store", NO_STORE),
        ("no-cache, no-store", NO_STORE),
        ('no-cache="set-cookie"', NO_CACHE),
    ],
)
def test_parse_cache_control(header: str | None, directive: int) -> None:
    assert parse_cache_control(header) == directive


def test_redis_urls() -> None:
    assert redis_kind("redis://h:6379/0") == "standalone"
    assert redis_kind("rediss+sentinel://h/mymaster") == "sentinel"
    assert redis_kind("redis+cluster://h:7000") == "cluster"
    assert _nodes("u:p@a:1,b,[::1]:3", 26379) == [("a", 1), ("b", 26379), ("::1", 3)]
    assert _credentials("user:s%40cret@h") == ("user", "s@cret")
    assert _credentials(":secret@h") == (None, "secret")
    assert _credentials("h:1") == (None, None)


def test_connect_builds_each_kind_without_connecting() -> None:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    def build(url: str) -> Any:
        return connect(load_settings(env={"REDIS_URL": url}))

    assert connect(load_settings(env={})) is None
    plain = build("redis://127.0.0.1:1/0")
    assert isinstance(plain, Redis)
    assert plain.connection_pool.max_connections == 50
    kwargs = plain.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 0.25
    assert kwargs["retry"].get_retries() == 0
    sentinel = build("redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/mymaster/2")
    assert isinstance(sentinel, Redis)
    assert sentinel.connection_pool.service_name == "mymaster"
    assert sentinel.connection_pool.connection_kwargs["db"] == 2
    assert sentinel.connection_pool.connection_kwargs["password"] == "pw"
    cluster = build("redis+cluster://127.0.0.1:7000,127.0.0.1:7001")
    assert isinstance(cluster, RedisCluster)
    with pytest.raises(ValueError, match="service name"):
        build("redis+sentinel://127.0.0.1:1")
