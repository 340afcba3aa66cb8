"""A deterministic value that validates against a tool's ``input_schema``.

What a real model does when a request forces a tool (``tool_choice`` ``tool`` or ``any``):
it answers with that tool's call, and the input follows the schema. The emulator does the
same with a seeded generator, so the same prompt always gets the same input.

Written by hand because the libraries that generate from JSON Schema are property-testing
tools (``hypothesis-jsonschema``): they search for varied and edge-case values, cost
milliseconds per value and pull Hypothesis into a server. Here one plain, valid, small value
per call is wanted, in microseconds. The subset covered is what tool schemas use: ``type``
(one or a list), ``enum``, ``const``, ``default``, ``properties``/``required``/
``additionalProperties``, ``items``/``minItems``/``maxItems``, numeric bounds (inclusive
and exclusive, ``multipleOf``), ``minLength``/``maxLength``, common ``format`` values,
``anyOf``/``oneOf`` (the first branch), ``allOf`` (merged), and local ``$ref``
(``#/$defs/...``, ``#/definitions/...``). A ``pattern`` cannot be honoured in general: the
value then is the schema's ``examples[0]`` when given, else plain words.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

__all__ = ["instance", "seeded_rng"]

_WORDS = (  # noqa: SIM905 - a string is easier to read than a list
    "revisar monto total neto iva folio emisor receptor fecha documento proveedor "
    "glosa cuenta detalle imponible cotización liquidación período observación"
).split()
_FORMATS = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T10:30:00Z",
    "time": "10:30:00",
    "email": "contacto@example.cl",
    "uri": "https://example.cl/documento",
    "uuid": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
}
_MAX_DEPTH = 8


def seeded_rng(*parts: str) -> random.Random:
    """A generator seeded from ``parts`` (not for security: reproducible test values)."""
    seed = hashlib.sha256("\x00".join(parts).encode()).digest()
    return random.Random(seed)


def instance(schema: Any, rng: random.Random) -> Any:
    """A value valid against ``schema`` (see the module docstring for the subset)."""
    return _value(schema, rng, schema, 0)


def _resolve(schema: dict[str, Any], root: Any) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < _MAX_DEPTH:
        ref = str(schema["$ref"])
        target: Any = root
        if not ref.startswith("#"):
            return {}
        for part in ref.lstrip("#/").split("/"):
            if not part:
                continue
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**{k: v for k, v in schema.items() if k != "$ref"}, **target}
        seen += 1
    return schema


def _merged(schema: dict[str, Any], root: Any) -> dict[str, Any]:
    schema = _resolve(schema, root)
    if "allOf" in schema:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _merged(part, root) if isinstance(part, dict) else {}
            for key, value in part.items():
                if key in ("properties",) and key in merged:
                    merged[key] = {**merged[key], **value}
                elif key == "required" and key in merged:
                    merged[key] = [*merged[key], *value]
                else:
                    merged.setdefault(key, value)
        schema = merged
    for branch_key in ("anyOf", "oneOf"):
        if schema.get(branch_key):
            first = schema[branch_key][0]
            rest = {k: v for k, v in schema.items() if k != branch_key}
            schema = {**rest, **_merged(first if isinstance(first, dict) else {}, root)}
    return schema


def _type_of(schema: dict[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        # A model fills a nullable field when it can: prefer the first non-null type.
        declared = next((t for t in declared if t != "null"), "null")
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _value(schema: Any, rng: random.Random, root: Any, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None if schema is False else "valor"
    schema = _merged(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    if "default" in schema:
        return schema["default"]
    kind = _type_of(schema)
    if kind == "object":
        return _object(schema, rng, root, depth)
    if kind == "array":
        return _array(schema, rng, root, depth)
    if kind == "integer":
        return _integer(schema, rng)
    if kind == "number":
        return _number(schema, rng)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _string(schema, rng)


def _object(schema: dict[str, Any], rng: random.Random, root: Any, depth: int) -> dict[str, Any]:
    properties: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    value: dict[str, Any] = {}
    for name, sub in properties.items():
        # Required fields always; optional ones about half the time, as models do.
        if name in required or rng.random() < 0.5:
            value[name] = _value(sub, rng, root, depth + 1)
    for name in sorted(required - value.keys()):  # required but not described
        value[name] = _value(schema.get("additionalProperties") or {}, rng, root, depth + 1)
    return value


def _array(schema: dict[str, Any], rng: random.Random, root: Any, depth: int) -> list[Any]:
    low = int(schema.get("minItems", 0))
    high = int(schema.get("maxItems", low + 2))
    count = rng.randint(low, max(low, min(high, low + 2)))
    items = schema.get("items", {})
    if isinstance(items, list):  # old tuple form
        return [_value(item, rng, root, depth + 1) for item in items]
    values: list[Any] = []
    for _ in range(count * 4):
        if len(values) == count:
            break
        item = _value(items, rng, root, depth + 1)
        if schema.get("uniqueItems") and item in values:
            continue
        values.append(item)
    return values


def _bounds(schema: dict[str, Any], step: float) -> tuple[float, float]:
    low = schema.get("minimum", -math.inf)
    high = schema.get("maximum", math.inf)
    if "exclusiveMinimum" in schema:
        low = max(low, float(schema["exclusiveMinimum"]) + step)
    if "exclusiveMaximum" in schema:
        high = min(high, float(schema["exclusiveMaximum"]) - step)
    if math.isinf(low) and math.isinf(high):
        return 0.0, 100.0
    if math.isinf(low):
        low = high - 100
    if math.isinf(high):
        high = low + 100
    return float(low), float(high)


def _integer(schema: dict[str, Any], rng: random.Random) -> int:
    low, high = _bounds(schema, 1)
    first, last = math.ceil(low), math.floor(high)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int) and multiple > 0:
        first, last = -(-first // multiple), last // multiple
        return rng.randint(first, max(first, last)) * multiple
    return rng.randint(first, max(first, last))


def _number(schema: dict[str, Any], rng: random.Random) -> float | int:
    multiple = float(schema.get("multipleOf") or 0)
    if multiple > 0:
        low, high = _bounds(schema, multiple)
        steps = rng.randint(
            math.ceil(low / multiple), max(math.ceil(low / multiple), math.floor(high / multiple))
        )
        return steps * multiple
    low, high = _bounds(schema, 0.1)
    # Whole numbers when the range has one: what a model writes for "-5" or "12".
    first, last = math.ceil(low), math.floor(high)
    if first <= last:
        return rng.randint(first, last)
    return round(rng.uniform(low, high), 4)


def _string(schema: dict[str, Any], rng: random.Random) -> str:
    examples = schema.get("examples")
    if schema.get("pattern") and isinstance(examples, list) and examples:
        return str(examples[0])
    fixed = _FORMATS.get(str(schema.get("format", "")))
    if fixed is not None:
        return fixed
    low = int(schema.get("minLength", 1))
    high = int(schema.get("maxLength", 120))
    words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 8))]
    text = " ".join(words).capitalize() + "."
    while len(text) < low:
        text += " " + rng.choice(_WORDS)
    return text[:high] if high >= low else text[:low]
