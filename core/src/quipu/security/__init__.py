"""API keys, roles and company scoping."""

from quipu.security.auth import (
    Caller,
    KeyRing,
    Principal,
    current_principal,
    requires_role,
)

__all__ = [
    "Caller",
    "KeyRing",
    "Principal",
    "current_principal",
    "requires_role",
]
