"""Chat sessions: the Redis store against a real Redis, and the in-memory fallback."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as redis
from quipu.api import Principal
from quipu_chat.config import ChatConfig
from quipu_chat.sessions import (
    BaseSessionStore,
    MemorySessionStore,
    SessionForbidden,
    SessionNotFound,
    SessionStore,
    Turn,
    make_session_store,
    may_access,
    new_session_id,
    owner_for,
)


def key(*companies: int) -> Principal:
    return Principal(key_name="k", companies=frozenset(companies), roles=frozenset({"client"}))


FULL = Principal(key_name="API_KEY", companies=None, roles=frozenset({"client"}))
ACME, GLOBEX = key(1), key(2)
XML = (
    '<?xml version="1.0"?>\n<DTE version="1.0">\n'
    '  <Documento ID="F1">\\n &amp; ñ</Documento>\n</DTE>'
)


def exchange(n: int) -> list[Turn]:
    return [
        Turn(role="user", content=f"pregunta {n}"),
        Turn(role="assistant", content=f"respuesta {n}", skill="dte.dte"),
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    yield conn
    await conn.aclose()


@pytest.fixture(params=["redis", "memory"])
def make_store(request: pytest.FixtureRequest, client: redis.Redis) -> Callable[..., Any]:
    """A factory of stores of each kind: ``make_store(ttl_s=..., window=..., max_stored=...)``."""

    def build(**kwargs: Any) -> BaseSessionStore:
        if request.param == "redis":
            return SessionStore(client, **kwargs)
        return MemorySessionStore(**kwargs)

    return build


async def test_create_get_append_history_delete(make_store: Callable[..., Any]) -> None:
    store = make_store()
    info = await store.create(owner=owner_for(ACME), context={"company_name": "Acme"})
    assert info.owner == "1"
    assert info.context == {"company_name": "Acme"}
    assert info.message_count == 0
    assert 3590 <= info.ttl_s <= 3600
    sid, mine = info.session_id, {"owner": "1", "caller": ACME}

    assert await store.append(sid, exchange(1), **mine) == 2
    assert await store.append(sid, [Turn(role="user", content=XML)], **mine) == 3
    history = await store.history(sid, **mine)
    assert [t.content for t in history.turns] == ["pregunta 1", "respuesta 1", XML]
    assert history.turns[1].skill == "dte.dte"
    assert (history.total, history.older) == (3, 0)

    got = await store.get(sid, **mine)
    assert got.message_count == 3
    assert got.context == {"company_name": "Acme"}

    assert await store.delete(sid, **mine) is True
    assert await store.delete(sid, **mine) is False  # idempotent
    with pytest.raises(SessionNotFound):
        await store.get(sid, **mine)
    with pytest.raises(SessionNotFound):
        await store.append(sid, exchange(2), **mine)


async def test_another_company_can_neither_read_nor_write_nor_delete(
    make_store: Callable[..., Any],
) -> None:
    """Company 2 names company 1's session as company 1's: refused before anything is read.
    Under its own company the id names a session of its own, empty."""
    store = make_store()
    sid = (await store.create(owner=owner_for(ACME))).session_id
    await store.append(sid, exchange(1), owner="1", caller=ACME)
    theirs = {"owner": "1", "caller": GLOBEX}
    for attempt in (
        store.get(sid, **theirs),
        store.history(sid, **theirs),
        store.append(sid, exchange(2), **theirs),
        store.delete(sid, **theirs),
        store.update_context(sid, {"x": 1}, **theirs),
        store.set_summary(sid, "s", covers=1, **theirs),
        store.open(sid, **theirs),
        store.get(sid, owner="*", caller=GLOBEX),
        store.get(sid, owner="1,2", caller=GLOBEX),
    ):
        with pytest.raises(SessionForbidden, match="closed to this API key"):
            await attempt
    with pytest.raises(SessionNotFound):  # its own company has no such session
        await store.get(sid, owner="2", caller=GLOBEX)
    assert await store.delete(sid, owner="2", caller=GLOBEX) is False
    # Nothing changed; the owner and a full-access key still see it.
    assert (await store.history(sid, owner="1", caller=ACME)).total == 2
    assert (await store.get(sid, owner="1", caller=FULL)).owner == "1"
    assert (await store.get(sid, owner="1", caller=key(1, 2))).owner == "1"
    with pytest.raises(SessionNotFound):
        await store.get("no-such-session", owner="1", caller=ACME)


async def test_the_same_id_in_two_companies_names_two_sessions(
    make_store: Callable[..., Any],
) -> None:
    """The Odoo wizard's ids are predictable (``chat_<uid>_<hex>``): company 2 using
    company 1's id, first or second, gets a session of its own and never locks company 1
    out; each sees only its own messages."""
    store = make_store()
    wizard = "chat_7_1a2b3c4d"
    taken = await store.open(wizard, caller=GLOBEX, owner="2", context={"who": "globex"})
    await store.append(wizard, [Turn(role="user", content="de globex")], owner="2", caller=GLOBEX)
    own = await store.open(wizard, caller=ACME, owner="1", context={"who": "acme"})
    await store.append(wizard, [Turn(role="user", content="de acme")], owner="1", caller=ACME)
    assert (taken.owner, own.owner) == ("2", "1")
    acme = await store.history(wizard, owner="1", caller=ACME)
    globex = await store.history(wizard, owner="2", caller=GLOBEX)
    assert [t.content for t in acme.turns] == ["de acme"]
    assert acme.session.context == {"who": "acme"}
    assert [t.content for t in globex.turns] == ["de globex"]
    assert globex.session.context == {"who": "globex"}
    await store.delete(wizard, owner="2", caller=GLOBEX)
    assert (await store.history(wizard, owner="1", caller=ACME)).total == 1


async def test_after_a_redis_flush_no_company_can_take_another_ones_session(
    client: redis.Redis,
) -> None:
    """Redis loses every session (FLUSHALL). Company 2 reuses company 1's id first; then
    company 1 comes back with it: a fresh session of its own, not a 403, and neither
    sees the other's messages, before or after."""
    store = SessionStore(client)
    wizard = "chat_9_deadbeef"
    await store.open(wizard, caller=ACME, owner="1")
    await store.append(wizard, exchange(1), owner="1", caller=ACME)
    await client.flushall()
    with pytest.raises(SessionNotFound):  # the history is gone, for everyone
        await store.get(wizard, owner="1", caller=ACME)
    await store.open(wizard, caller=GLOBEX, owner="2")
    await store.append(wizard, [Turn(role="user", content="de globex")], owner="2", caller=GLOBEX)
    back = await store.open(wizard, caller=ACME, owner="1")
    assert (back.owner, back.message_count) == ("1", 0)
    await store.append(wizard, exchange(2), owner="1", caller=ACME)
    acme = await store.history(wizard, owner="1", caller=ACME)
    assert [t.content for t in acme.turns] == ["pregunta 2", "respuesta 2"]
    globex = await store.history(wizard, owner="2", caller=GLOBEX)
    assert [t.content for t in globex.turns] == ["de globex"]
    with pytest.raises(SessionForbidden):
        await store.history(wizard, owner="1", caller=GLOBEX)


def test_server_issued_ids_are_random_uuid4s() -> None:
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(i).version == 4 for i in ids)
    # 122 random bits: the hex digits outside the version and variant nibbles all vary.
    columns = list(zip(*(i.replace("-", "") for i in ids), strict=True))
    assert sum(len(set(c)) > 8 for c in columns) == 30


def test_ownership_rules() -> None:
    assert owner_for(FULL) == "*"
    assert owner_for(key(2, 1)) == "1,2"
    assert owner_for(FULL, company_id="7") == "7"
    assert may_access(FULL, "*")
    assert may_access(FULL, "5")
    assert not may_access(ACME, "*")
    assert not may_access(ACME, "1,2")
    assert may_access(key(1, 2), "1,2")
    assert not may_access(ACME, "garbage")


async def test_fifty_concurrent_appends_lose_nothing(make_store: Callable[..., Any]) -> None:
    store = make_store(window=100, max_stored=100)
    sid = (await store.create(owner="1")).session_id
    totals = await asyncio.gather(
        *(store.append(sid, exchange(n), owner="1", caller=ACME) for n in range(50))
    )
    assert sorted(totals) == list(range(2, 101, 2))  # every append saw a distinct count
    history = await store.history(sid, owner="1", caller=ACME)
    assert history.total == 100
    assert len(history.turns) == 100
    contents = [t.content for t in history.turns]
    assert sorted(contents) == sorted(t.content for n in range(50) for t in exchange(n))
    for n in range(50):  # each pair stays adjacent: appends are atomic
        i = contents.index(f"pregunta {n}")
        assert contents[i + 1] == f"respuesta {n}"


async def test_bounded_window_keeps_older_turns_countable(make_store: Callable[..., Any]) -> None:
    store = make_store(window=10, max_stored=20)
    sid = (await store.create(owner="1")).session_id
    for n in range(15):
        await store.append(sid, exchange(n), owner="1", caller=ACME)
    history = await store.history(sid, owner="1", caller=ACME)
    assert [t.content for t in history.turns[:2]] == ["pregunta 10", "respuesta 10"]
    assert (len(history.turns), history.total, history.older) == (10, 30, 20)
    assert history.summary is None
    await store.set_summary(
        sid, "Resumen: preguntas sobre folios", covers=20, owner="1", caller=ACME
    )
    assert (
        await store.history(sid, owner="1", caller=ACME)
    ).summary == "Resumen: preguntas sobre folios"
    # An odd window never starts with the assistant: the model API needs a user turn first.
    odd = await store.history(sid, owner="1", caller=ACME, window=3)
    assert [t.role for t in odd.turns] == ["user", "assistant"]
    assert odd.older == 28
    # Storage is bounded too, but the count is not.
    assert len((await store.history(sid, owner="1", caller=ACME, window=20)).turns) == 20
    assert (await store.get(sid, owner="1", caller=ACME)).message_count == 30


async def test_context_merge_replace_and_open(make_store: Callable[..., Any]) -> None:
    store = make_store()
    sid = (await store.create(owner="1", context={"a": 1, "user": {"id": 7}})).session_id
    await store.update_context(sid, {"b": [1, "dos"]}, owner="1", caller=ACME)
    assert (await store.get(sid, owner="1", caller=ACME)).context == {
        "a": 1,
        "user": {"id": 7},
        "b": [1, "dos"],
    }
    await store.update_context(sid, {"c": None}, owner="1", caller=ACME, replace=True)
    assert (await store.get(sid, owner="1", caller=ACME)).context == {"c": None}

    wizard = "chat_7_1a2b3c4d"
    await store.delete(wizard, owner="1", caller=FULL)
    opened = await store.open(wizard, caller=ACME, owner="1", context={"module": "l10n_cl_dte"})
    assert opened.session_id == wizard
    assert opened.owner == "1"
    again = await store.open(wizard, caller=ACME, owner="1", context={"odoo": {"active_id": 3}})
    assert again.context == {"module": "l10n_cl_dte", "odoo": {"active_id": 3}}
    with pytest.raises(SessionForbidden):  # an owner the caller may not act for
        await store.open("chat_9_ffffffff", caller=ACME, owner="2")
    with pytest.raises(SessionNotFound):  # ...and nothing was created
        await store.get("chat_9_ffffffff", owner="2", caller=FULL)
    with pytest.raises(TypeError, match="JSON"):
        await store.update_context(sid, {"bad": object()}, owner="1", caller=ACME)
    await store.delete(wizard, owner="1", caller=ACME)


async def test_open_history_opens_merges_and_reads_at_once(
    make_store: Callable[..., Any],
) -> None:
    """What a chat message starts with: the same as open() then history()."""
    store = make_store(window=2)
    wizard = f"chat_7_{uuid.uuid4().hex[:8]}"
    first = await store.open_history(wizard, caller=ACME, owner="1", context={"module": "dte"})
    assert (first.session.session_id, first.session.context) == (wizard, {"module": "dte"})
    assert (first.turns, first.total) == ((), 0)
    for n in range(3):
        await store.append(wizard, exchange(n), owner="1", caller=ACME)
    again = await store.open_history(wizard, caller=ACME, owner="1", context={"odoo": 3})
    assert again.session.context == {"module": "dte", "odoo": 3}
    assert again.session.message_count == 6
    assert [t.content for t in again.turns] == ["pregunta 2", "respuesta 2"]
    assert again == await store.history(wizard, owner="1", caller=ACME)
    wider = await store.open_history(wizard, caller=ACME, owner="1", window=4)
    assert ([t.content for t in wider.turns[:1]], wider.older) == (["pregunta 1"], 2)
    with pytest.raises(SessionForbidden):  # an owner the caller may not act for
        await store.open_history("chat_9_eeeeeeee", caller=ACME, owner="2")
    with pytest.raises(SessionNotFound):  # ...and nothing was created
        await store.get("chat_9_eeeeeeee", owner="2", caller=FULL)
    await store.delete(wizard, owner="1", caller=ACME)
    with pytest.raises(SessionNotFound):  # an append never revives a deleted session
        await store.append(wizard, exchange(9), owner="1", caller=ACME)


async def test_create_with_an_id_returns_that_owners_session(
    make_store: Callable[..., Any],
) -> None:
    store = make_store()
    sid = (await store.create(owner="1", context={"a": 1})).session_id
    assert (await store.create(owner="1", session_id=sid)).context == {"a": 1}
    # An existing session is returned as it is: create() never merges a context into it.
    assert (await store.create(owner="1", session_id=sid, context={"b": 2})).context == {"a": 1}
    other = await store.create(owner="2", session_id=sid)  # another company's, new
    assert (other.owner, other.context) == ("2", None)


async def test_append_refreshes_ttl_of_both_keys(client: redis.Redis) -> None:
    store = SessionStore(client, ttl_s=100)
    sid = (await store.create(owner="1")).session_id
    meta, turns = store._keys(sid, "1")
    await store.append(sid, exchange(1), owner="1", caller=ACME)
    await client.expire(meta, 5)
    await client.expire(turns, 5)
    await store.append(sid, exchange(2), owner="1", caller=ACME)
    assert 95 <= await client.ttl(meta) <= 100
    assert 95 <= await client.ttl(turns) <= 100
    assert 95 <= (await store.get(sid, owner="1", caller=ACME)).ttl_s <= 100


async def test_sessions_expire(client: redis.Redis) -> None:
    store = SessionStore(client, ttl_s=100)
    sid = (await store.create(owner="1")).session_id
    await store.append(sid, exchange(1), owner="1", caller=ACME)
    for name in store._keys(sid, "1"):
        await client.pexpire(name, 30)
    await asyncio.sleep(0.1)
    with pytest.raises(SessionNotFound):
        await store.history(sid, owner="1", caller=ACME)


async def test_memory_store_ttl_refresh_and_expiry() -> None:
    clock = Clock()
    store = MemorySessionStore(ttl_s=100, clock=clock)
    sid = (await store.create(owner="1")).session_id
    clock.now += 90
    await store.append(sid, exchange(1), owner="1", caller=ACME)
    clock.now += 90  # 180 s after creation, 90 s after the append
    assert (await store.get(sid, owner="1", caller=ACME)).ttl_s == 10
    clock.now += 11
    with pytest.raises(SessionNotFound):
        await store.get(sid, owner="1", caller=ACME)


async def test_a_new_store_over_the_same_redis_sees_the_session(redis_url: str) -> None:
    """What survives a restart of quipu, and what a second instance shares."""
    first = redis.Redis.from_url(redis_url)
    store = SessionStore(first)
    sid = (await store.create(owner="1", context={"company_name": "Acme"})).session_id
    await store.append(sid, [*exchange(1), Turn(role="user", content=XML)], owner="1", caller=ACME)
    await first.aclose()

    second = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        history = await SessionStore(second).history(sid, owner="1", caller=ACME)
        assert [t.content for t in history.turns] == ["pregunta 1", "respuesta 1", XML]
        assert history.session.context == {"company_name": "Acme"}
        with pytest.raises(SessionForbidden):
            await SessionStore(second).get(sid, owner="1", caller=GLOBEX)
    finally:
        await second.aclose()


async def test_message_content_is_never_logged(
    make_store: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = make_store()
    sid = (await store.create(owner="1", context={"user": {"name": "Juana Pérez"}})).session_id
    await store.append(
        sid, [Turn(role="user", content="mi RUT es 12.345.678-5")], owner="1", caller=ACME
    )
    await store.history(sid, owner="1", caller=ACME)
    await store.delete(sid, owner="1", caller=ACME)
    assert "12.345.678-5" not in caplog.text
    assert "Juana" not in caplog.text


def test_make_session_store_picks_by_redis(client: redis.Redis) -> None:
    config = ChatConfig(session_ttl_s=120, history_window=6, max_stored_messages=50)
    memory = make_session_store(None, config)
    assert isinstance(memory, MemorySessionStore)
    assert (memory.ttl_s, memory.window, memory.max_stored) == (120, 6, 50)
    assert isinstance(make_session_store(client, config), SessionStore)


async def test_every_method_validates_the_session_id(make_store: Callable[..., Any]) -> None:
    store = make_store()
    for attempt in (
        store.get("a}b", owner="*", caller=FULL),
        store.delete("../x", owner="*", caller=FULL),
        store.open("with space", caller=FULL, owner="*"),
        store.create(owner="*", session_id="x" * 200),
    ):
        with pytest.raises(ValueError, match="is not valid: use 1 to 128 letters"):
            await attempt
    for owner in ("1|x", "}", "", "1,,2"):
        with pytest.raises(ValueError, match="is not '\\*' or company ids"):
            await store.get("ok", owner=owner, caller=FULL)
