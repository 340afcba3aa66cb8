"""The JSON Schema of the admin ``PUT /api/payroll/indicators/{period}`` body.

Generated from :data:`~quipu_previred.validation.KEY_BOUNDS` and
:data:`~quipu_previred.keys.KEY_SPECS`, the tables the route validates with, so the
published constraints cannot drift from the checks. It states every rule a value obeys
on its own (known key, a JSON number or null, its inclusive range, at least one value);
what a JSON Schema cannot state is answered 422 with ``kind`` ``relation`` (values that
disagree with each other or with the path's month) or ``missing_for_period`` (a month
without shipped values needs uf, utm, uta and sueldo_minimo).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

from quipu_previred.keys import KEY_SPECS
from quipu_previred.model import AFP_NAMES
from quipu_previred.periods import PERIOD_PATTERN
from quipu_previred.validation import CORE_KEYS, KEY_BOUNDS

__all__ = ["ADMIN_BODY_SCHEMA", "FLAT_SCHEMA", "MAX_TEXT", "PATTERNS", "json_number"]

Schema = dict[str, Any]

#: Longest ``source`` or ``note`` the route keeps.
MAX_TEXT: Final = 500
_UNITS: Final = {"CLP": "pesos", "UF": "UF", "%": "percent"}


def json_number(value: Decimal) -> int | float:
    """``value`` as JSON writes it: an integer when whole (every bound is exact in binary)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _value(key: str) -> Schema:
    low, high = KEY_BOUNDS[key]
    spec = KEY_SPECS[key]
    return {
        "type": ["number", "null"],
        "minimum": json_number(low),
        "maximum": json_number(high),
        "description": f"{spec.description} ({_UNITS[spec.unit]}, {low} to {high}); null: unknown",
    }


_PERIOD: Final[Schema] = {
    "type": ["string", "null"],
    "pattern": PERIOD_PATTERN,
    "description": "the month, YYYY-MM; must be the path's",
}

_AFP: Final = "(" + "|".join(AFP_NAMES) + ")"
#: The AFP key families, one pattern each (every key of a family has the same bounds): the
#: 49 keys stated once, not one by one, which keeps the schema readable and its fuzzing short.
PATTERNS: Final = {
    f"^afp_{_AFP}_comision_pct$": "Comisión de la AFP",
    f"^afp_{_AFP}_(pct|fondo_[a-e])$": "Tasa trabajador dependiente de la AFP (10 % + comisión)",
}


def _family(pattern: str, description: str) -> Schema:
    keys = [key for key in KEY_SPECS if re.search(pattern, key)]
    bounds = {KEY_BOUNDS[key] for key in keys}
    assert len(bounds) == 1, f"{pattern}: one family, one range"
    low, high = bounds.pop()
    return {
        "type": ["number", "null"],
        "minimum": json_number(low),
        "maximum": json_number(high),
        "description": f"{description}, AFP {', '.join(AFP_NAMES)} (percent, {low} to "
        f"{high}); null: unknown",
    }


def _explicit(key: str) -> bool:
    return not any(re.search(pattern, key) for pattern in PATTERNS)


#: The flat form: ``{"uf": 39179.01, ...}``. At least one value that is not null.
FLAT_SCHEMA: Final[Schema] = {
    "type": "object",
    "properties": {key: _value(key) for key in KEY_SPECS if _explicit(key)} | {"period": _PERIOD},
    "patternProperties": {pattern: _family(pattern, text) for pattern, text in PATTERNS.items()},
    "additionalProperties": False,
    # Not "every value null (or none given)": there must be something to load.
    "not": {"properties": {"period": {}}, "additionalProperties": {"type": "null"}},
    "description": "flat indicators, keys as GET answers them; at least one not null",
}
_TEXT: Final[Schema] = {"type": ["string", "null"], "maxLength": MAX_TEXT}

#: What the route reads: the flat form or ``{"indicators": {...}, "source", "note"}``.
ADMIN_BODY_SCHEMA: Final[Schema] = {
    "oneOf": [
        FLAT_SCHEMA,
        {
            "type": "object",
            "required": ["indicators"],
            "properties": {
                "indicators": FLAT_SCHEMA,
                "source": _TEXT | {"description": "where the values come from"},
                "note": _TEXT | {"description": "a note kept with the values"},
                "period": _PERIOD,
                # A GET answer sent back as it is: these two are read and ignored.
                "success": {"description": "ignored"},
                "metadata": {"description": "ignored"},
            },
            "additionalProperties": False,
        },
    ],
    "description": (
        'The flat indicators (`{"uf": 39179.01, ...}`) or `{"indicators": {...}, "source": '
        '"...", "note": "..."}`. Each value on its own is stated here; values must also '
        "agree with each other (utm/uf, uta ≈ 12 × utm, salud_tope_uf = afp_tope_uf, ...) "
        f"and a month without shipped values needs {', '.join(CORE_KEYS)}: else 422 with "
        "`kind` `relation` or `missing_for_period`."
    ),
}
