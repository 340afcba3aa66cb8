"""The JSON Schema of what ``POST /api/payroll/validate`` reads from Odoo's payload.

:func:`quipu_payroll.odoo_payload.parse_odoo` stays the authority and says what is wrong
in Spanish; this publishes its rules so a client generated from the OpenAPI document
sends what it reads. Not stated, though read: the structured form (``periodo``,
``haberes``, ``descuentos``...), described in the plugin's README.
"""

from __future__ import annotations

from typing import Any, Final

from quipu_previred.periods import PERIOD_PATTERN

from quipu_payroll.odoo_payload import MAX_LINES

__all__ = ["ODOO_PAYLOAD_SCHEMA"]

#: A number as ``_number`` reads it: a JSON number, or a numeric text.
_NUMBER: Final[dict[str, Any]] = {
    "oneOf": [
        {"type": "number"},
        {
            "type": "string",
            "pattern": r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$",
        },
        {"type": "null"},
    ]
}
_LINE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["code"],
    "anyOf": [{"required": ["amount"]}, {"required": ["total"]}],
    "properties": {
        "code": {
            # Not blank for str.strip(), which also strips \x1c-\x1f and \x85.
            "oneOf": [{"type": "string", "pattern": r"[^\s\x1c-\x1f\x85]"}, {"type": "number"}],
            "description": "the salary rule's code, e.g. BASIC",
        },
        "name": {"description": "the line's name (text; anything else is ignored)"},
        "category": {"description": "the rule's category (text; anything else is ignored)"},
        "amount": {**_NUMBER, "description": "the amount, when `total` is absent"},
        "total": {**_NUMBER, "description": "the line's total (wins over `amount`)"},
    },
}

#: Odoo's payload (original-ai-service.md §7.4). Keys not listed are ignored.
ODOO_PAYLOAD_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["period", "lines"],
    "properties": {
        "period": {
            "type": "string",
            "pattern": PERIOD_PATTERN,
            "description": "the month, YYYY-MM (without it, `date_from` or `date_to` gives it)",
        },
        "lines": {
            "type": "array",
            "items": _LINE,
            "minItems": 1,
            "maxItems": MAX_LINES,
            "description": "the slip's lines (Odoo's hr.payslip.line)",
        },
        "company_id": {
            "oneOf": [
                {"type": "number"},
                {"type": "string", "pattern": r"^\s*[+-]?[0-9]+\s*$"},
                {"type": "boolean"},
                {"type": "null"},
            ],
            "description": "the company (default: the key's own); the key must act for it",
        },
        "wage": {**_NUMBER, "description": "contract wage"},
        "total_imponible": {**_NUMBER, "description": "Odoo's taxable total"},
        "total_haberes": {**_NUMBER, "description": "Odoo's total earnings"},
        "total_descuentos": {**_NUMBER, "description": "Odoo's total deductions"},
        "total_liquido": {**_NUMBER, "description": "Odoo's net pay"},
        "employee_id": {"description": "the employee's Odoo id (an integer; else ignored)"},
    },
    "description": (
        "Odoo's payload as sent (stated here), or the structured form (`periodo`, "
        "`haberes`, `descuentos`...; see the plugin's README)"
    ),
}
