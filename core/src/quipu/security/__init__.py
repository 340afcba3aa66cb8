"""API keys, roles and company scoping."""

from quipu.security.auth import (
    ApiKeyAuthMiddleware,
    Caller,
    KeyRing,
    Principal,
    current_principal,
    requires_role,
)

__all__ = [
    "ApiKeyAuthMiddleware",
    "Caller",
    "KeyRing",
    "Principal",
    "current_principal",
    "requires_role",
]
