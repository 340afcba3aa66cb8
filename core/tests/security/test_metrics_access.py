"""``/metrics``: the ``metrics`` role, or (``metrics_access = "internal"``) an internal address.

The client address is what Granian puts in the ASGI scope, so these tests call the app
with hand-made scopes (the test client's address is a host name, never internal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from quipu.errors import StartupError
from quipu.security.auth import InternalNetworks
from quipu.testing.asgi import asgi_call

KEYS = """
[[auth.keys]]
name = "empresa-1"
env = "KEY_1"
companies = [1]

[[auth.keys]]
name = "scraper"
env = "KEY_METRICS"
roles = ["metrics"]
"""
ENV = {"KEY_1": "key-one-0123456789", "KEY_METRICS": "key-metrics-0123456789"}
CLIENT_KEY = b"Bearer key-one-0123456789"
METRICS_KEY = b"Bearer key-metrics-0123456789"
LOOPBACK, PRIVATE, PUBLIC_V4 = "127.0.0.1", "10.1.2.3", "203.0.113.9"


async def call(
    app: Any, path: str, client: str, authorization: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    """One GET straight through the app's ASGI callable, from ``client``."""
    headers = [(b"authorization", authorization)] if authorization else []
    answer = await asgi_call(app, "GET", path, headers=headers, client=client)
    body = answer.body
    decoded = msgspec.json.decode(body) if body and answer.status != 200 else {}
    return answer.status, decoded


@pytest.fixture
def build(make_quipu_app: Callable[..., Any]) -> Callable[[str], Any]:
    return lambda platform: make_quipu_app(config=f"[platform]\n{platform}\n{KEYS}", env=ENV)


async def test_role_mode_needs_the_metrics_role_from_anywhere(
    build: Callable[[str], Any], quipu_client: Any
) -> None:
    app = build('metrics_access = "role"')
    async with quipu_client(app):  # runs the lifespan
        assert (await call(app, "/metrics", LOOPBACK))[0] == 401
        assert (await call(app, "/metrics", PUBLIC_V4, CLIENT_KEY))[0] == 403
        assert (await call(app, "/metrics", PUBLIC_V4, METRICS_KEY))[0] == 200


async def test_internal_mode_lets_internal_addresses_in_without_a_key(
    build: Callable[[str], Any], quipu_client: Any
) -> None:
    app = build('metrics_access = "internal"')
    async with quipu_client(app):
        for address in (LOOPBACK, PRIVATE, "::1", "::ffff:192.168.1.7"):
            assert (await call(app, "/metrics", address))[0] == 200, address
        # Outside the internal networks a key is still needed, and the role.
        status, body = await call(app, "/metrics", PUBLIC_V4)
        assert status == 401
        assert "missing API key" in body["detail"]
        assert (await call(app, "/metrics", PUBLIC_V4, CLIENT_KEY))[0] == 403
        assert (await call(app, "/metrics", PUBLIC_V4, METRICS_KEY))[0] == 200
        # A key that is sent must be valid, even from inside.
        assert (await call(app, "/metrics", LOOPBACK, b"Bearer wrong"))[0] == 401
        # Only /metrics: nothing else opens to an internal address.
        for path in ("/metrics/costs", "/_platform/plugins"):
            assert (await call(app, path, LOOPBACK))[0] == 401, path


async def test_internal_networks_are_configurable(
    build: Callable[[str], Any], quipu_client: Any
) -> None:
    app = build('metrics_access = "internal"\ninternal_networks = ["10.20.0.0/16"]')
    async with quipu_client(app):
        assert (await call(app, "/metrics", "10.20.3.4"))[0] == 200
        assert (await call(app, "/metrics", LOOPBACK))[0] == 401
        assert (await call(app, "/metrics", PRIVATE))[0] == 401


def test_a_bad_network_stops_start_up(build: Callable[[str], Any]) -> None:
    with pytest.raises(StartupError) as err:
        build('metrics_access = "internal"\ninternal_networks = ["10.0.0.300/8"]')
    assert "internal_networks" in str(err.value)
    assert "CIDR" in str(err.value)


def test_host_names_and_unix_sockets_are_not_internal() -> None:
    internal = InternalNetworks(("127.0.0.0/8",), frozenset({"/metrics"}))
    assert internal.allows({"path": "/metrics", "client": ("127.0.0.9", 1)})
    assert not internal.allows({"path": "/metrics", "client": ("testclient", 1)})
    assert not internal.allows({"path": "/metrics", "client": None})
    assert not internal.allows({"path": "/metrics/", "client": ("127.0.0.1", 1)})
