"""Helpers of the DTE plugin's HTTP tests (shared by the test_dte_routes* modules)."""

from __future__ import annotations

from typing import Any

#: A key that may act only for company 1 (configured by the ``dte_app`` fixture).
SCOPED_KEY = {"Authorization": "Bearer key-empresa-1"}

#: Four earlier facturas of the vendor, as Odoo sends them (no error_code, no message).
HISTORY = [
    {"tipo_dte": "33", "folio": str(1000 + i), "fecha_emision": "2025-09-10", "monto_total": 119000}
    for i in range(4)
]


def review(**reply: Any) -> dict[str, Any]:
    """An emulator script rule answering ``record_review`` (default: nothing to add)."""
    payload = {"observations": [], "confidence_adjustment": 0, "needs_review": False} | reply
    return {"tool": "record_review", "tool_use": [{"name": "record_review", "input": payload}]}


def messages_calls(emulator: Any) -> list[dict[str, Any]]:
    """The ``POST /v1/messages`` requests the emulator received, oldest first."""
    return [r for r in emulator.requests()["requests"] if r["path"] == "/v1/messages"]
