"""Bearer API keys compared in constant time, each scoped to companies and roles."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.types import Scope

from quipu.config import Settings

__all__ = [
    "EDGE",
    "INTERNAL_CALLER",
    "Caller",
    "InternalNetworks",
    "KeyRing",
    "Principal",
    "current_principal",
    "provide_plugin_principal",
    "provide_principal",
    "requires_role",
]

log = logging.getLogger("quipu.security")

ALL_ROLES = frozenset({"client", "admin", "metrics"})
#: Route ``opt`` key that makes a route open (``/health``, ``/live``, ``/ready``).
PUBLIC = "public"
#: Route ``opt`` key of a public GET route the platform layer answers itself:
#: ``(PlatformState) -> (status, JSON body)``, for probes that must cost nothing.
EDGE = "edge_answer"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the key's name, the companies it may act for, and its roles.

    ``companies`` None means every company (the full-access ``API_KEY``).
    """

    key_name: str
    companies: frozenset[int] | None
    roles: frozenset[str]

    def can_act_for(self, company_id: int | str | None) -> bool:
        """Whether this key may act for ``company_id``."""
        if self.companies is None:
            return True
        try:
            return int(company_id) in self.companies  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False

    def require_company(self, company_id: int | str | None) -> None:
        """Raise 403 unless the key may act for ``company_id``."""
        if not self.can_act_for(company_id):
            raise PermissionDeniedException(
                detail=f"this API key may not act for company {company_id}; "
                "use a key scoped to that company"
            )

    def require_some_company(self) -> None:
        """Raise 403 if the key may act for no company at all (e.g. a ``metrics``-only key).

        Call it before acting for "the key's own companies" on a request naming none.
        """
        if self.companies is not None and not self.companies:
            raise PermissionDeniedException(
                detail=f"this API key ({self.key_name}) may act for no company; "
                "use a key scoped to the company (its [[auth.keys]] entry lists none)"
            )

    @property
    def company_scope(self) -> str:
        """A stable label of the scope, for cache keys of company-less requests.

        Raises:
            PermissionDeniedException: the key may act for no company (403).
        """
        if self.companies is None:
            return "*"
        self.require_some_company()
        return ",".join(str(c) for c in sorted(self.companies))


#: Annotate a handler parameter named ``principal`` with this to receive the caller:
#: ``async def handler(data: Req, principal: Caller) -> Resp``.
Caller = NamedDependency[Principal]


class KeyRing:
    """The configured keys; lookup compares against every key in constant time."""

    def __init__(self, entries: list[tuple[bytes, Principal]]) -> None:
        # Compare digests so every comparison has the same length whatever the input.
        self._entries = [(hashlib.sha256(secret).digest(), p) for secret, p in entries]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """``API_KEY`` (full access) plus every ``[auth.keys]`` whose variable is set."""
        entries: list[tuple[bytes, Principal]] = []
        if settings.secrets.api_key:
            entries.append(
                (
                    settings.secrets.api_key.encode(),
                    Principal(key_name="API_KEY", companies=None, roles=ALL_ROLES),
                )
            )
        for spec in settings.auth.keys:
            secret = settings.secrets.named.get(spec.env)
            if not secret:
                log.warning("API key %r is not active: %s is unset", spec.name, spec.env)
                continue
            companies = None if spec.companies == "*" else frozenset(spec.companies)
            principal = Principal(
                key_name=spec.name, companies=companies, roles=frozenset(spec.roles)
            )
            entries.append((secret.encode(), principal))
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(self, token: str) -> Principal | None:
        """The principal whose key equals ``token``, or None."""
        digest = hashlib.sha256(token.encode()).digest()
        found: Principal | None = None
        for known, principal in self._entries:
            if hmac.compare_digest(known, digest) and found is None:
                found = principal
        return found


#: Who a keyless request from an internal network is, on the routes that allow it.
INTERNAL_CALLER = Principal(
    key_name="internal-network", companies=frozenset(), roles=frozenset({"metrics"})
)


class InternalNetworks:
    """Client addresses that may read some routes (``/metrics``) without a key."""

    def __init__(self, networks: tuple[str, ...], paths: frozenset[str]) -> None:
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]
        self.paths = paths

    def allows(self, scope: Scope) -> bool:
        """Whether ``scope`` is a request for one of ``paths`` from one of ``networks``."""
        if scope.get("path") not in self.paths:
            return False
        client = scope.get("client")
        if not client:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:  # a host name (test clients) or a Unix socket: not an address
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller (a Litestar dependency as ``principal``)."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException(detail="this route needs an API key")
    return user


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Litestar dependency provider for handler parameters ``principal: Caller``."""
    return current_principal(request)


def provide_plugin_principal(
    request: Request[Any, Any, Any], plugin: NamedDependency[Any]
) -> Principal:
    """:func:`provide_principal` for a plugin's routes, after their ``plugin`` dependency.

    ``plugin`` (unused) orders the two: Litestar resolves dependencies of one depth
    concurrently in an anyio task group, which cost over 100 µs per request when a handler
    asked for both; one after the other costs a few µs.
    """
    return current_principal(request)


def requires_role(role: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], Any], None]:
    """A Litestar guard that lets through only keys with ``role``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: Any) -> None:
        if role not in current_principal(connection).roles:
            raise PermissionDeniedException(
                detail=f"this route needs an API key with the {role!r} role"
            )

    guard.__name__ = f"requires_{role}"
    return guard
