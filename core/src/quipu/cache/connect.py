"""Build the process's one ``redis.asyncio`` client from ``REDIS_URL`` (plain, Sentinel, Cluster).

:func:`quipu.redis_client.create_redis` calls :func:`connect`. ``REDIS_URL`` selects the
deployment:

- ``redis://[[user]:password@]host[:port][/db]`` (``rediss://`` for TLS, ``unix://``):
  one server;
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/<service>[/<db>]``
  (``rediss+sentinel://`` for TLS to the master): the master of ``<service>`` as the
  Sentinels name it, followed across fail-overs; sentinel port defaults to 26379, and
  ``?sentinel_password=`` / ``?sentinel_username=`` authenticate to the Sentinels;
- ``redis+cluster://[[user]:password@]host[:port][,host[:port]...]`` (``rediss+cluster://``):
  a Redis Cluster, discovered from these seed nodes.

Every client has one connection pool (``[redis] pool_size``), ``[redis]`` socket and connect
timeouts, and **no retries**: a failed command fails at once, and the cache's circuit
breaker decides what to do about it, so a dead Redis never costs a request more than one
timeout. hiredis parses replies (redis-py uses it whenever it is installed).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from quipu.config import Settings

__all__ = ["connect", "redis_kind"]

SENTINEL_PORT = 26379
REDIS_PORT = 6379


def redis_kind(url: str) -> str:
    """``standalone``, ``sentinel`` or ``cluster`` for a ``REDIS_URL``."""
    scheme = url.partition("://")[0].lower()
    if scheme.endswith("+sentinel"):
        return "sentinel"
    if scheme.endswith("+cluster"):
        return "cluster"
    return "standalone"


def _nodes(netloc: str, default_port: int) -> list[tuple[str, int]]:
    hosts = netloc.rpartition("@")[2]
    nodes: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or "]" in port:  # no port, or a bare IPv6 literal
            host, port = item.strip(), ""
        nodes.append((host.strip("[]"), int(port) if port else default_port))
    return nodes


def _credentials(netloc: str) -> tuple[str | None, str | None]:
    userinfo, at, _ = netloc.rpartition("@")
    if not at:
        return None, None
    user, colon, password = userinfo.partition(":")
    if not colon:
        return None, unquote(user) or None  # redis://secret@host: a password alone
    return unquote(user) or None, unquote(password) or None


def connect(settings: Settings) -> Any:
    """A ``redis.asyncio`` client on one pool, or None when ``REDIS_URL`` is unset.

    The client is lazy: nothing connects until the first command.

    Raises:
        ValueError: a Sentinel URL without a service name.
    """
    url = settings.secrets.redis_url
    if not url:
        return None
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    cfg = settings.redis
    common: dict[str, Any] = {
        "socket_timeout": cfg.socket_timeout_s,
        "socket_connect_timeout": cfg.connect_timeout_s,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 30,
    }
    kind = redis_kind(url)
    if kind == "standalone":
        import redis.asyncio as redis

        return redis.Redis.from_url(url, max_connections=cfg.pool_size, **common)

    parts = urlsplit(url)
    tls = parts.scheme.lower().startswith("rediss")
    username, password = _credentials(parts.netloc)
    if kind == "cluster":
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        common.pop("health_check_interval")
        return RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in _nodes(parts.netloc, REDIS_PORT)],
            username=username,
            password=password,
            ssl=tls,
            max_connections=cfg.pool_size,
            **common,
        )

    from redis.asyncio.sentinel import Sentinel

    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("a redis+sentinel:// URL needs the service name: .../<service>[/<db>]")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    sentinel_kwargs = {
        "socket_timeout": cfg.socket_timeout_s,
        "socket_connect_timeout": cfg.connect_timeout_s,
        "username": query.get("sentinel_username"),
        "password": query.get("sentinel_password"),
    }
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        _nodes(parts.netloc, SENTINEL_PORT), sentinel_kwargs=sentinel_kwargs, **common
    )
    return sentinel.master_for(
        path[0],
        db=int(path[1]) if len(path) > 1 else 0,
        username=username,
        password=password,
        ssl=tls,
        max_connections=cfg.pool_size,
    )
