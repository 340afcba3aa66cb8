"""The JSON Schemas that state what the DTE readers accept, for the published OpenAPI.

The readers (:mod:`quipu_dte.parse.coerce`, :mod:`quipu_dte.parse.flat`,
:func:`quipu_dte.rules.history.parse_history`) stay the authority and say what is wrong in
their own words; these schemas publish their rules so that a client generated from the
OpenAPI document sends what they read. Each scalar also admits what the readers take as
absent (``null``, Odoo's ``false``, a blank string).

Stated: the flat form Odoo sends as ``dte_data`` and the vendor ``history``. Not stated,
though read: a full DTE as SII JSON or as XML in ``dte_xml`` (an XML document cannot be
described by a JSON Schema); the descriptions say so.
"""

from __future__ import annotations

from typing import Any, Final

from quipu_dte.match_types import MAX_MATCH_LINES, MAX_POS
from quipu_dte.parse.coerce import MAX_REPEATED
from quipu_dte.rules.history import MAX_HISTORY

__all__ = [
    "DTE_DATA_SCHEMA",
    "HISTORY_SCHEMA",
    "MATCH_INVOICE_SCHEMA",
    "PENDING_POS_SCHEMA",
    "schema_extra",
]

Schema = dict[str, Any]
_KEYS: Final = {
    "one_of": "oneOf",
    "max_length": "maxLength",
    "max_items": "maxItems",
    "min_properties": "minProperties",
    "min_items": "minItems",
}


#: A string with a character that is not blank for Python's ``str.strip()`` (the readers
#: strip): JSON Schema's ``\S`` alone lets ``"\x1d"`` through, which Python strips away.
NOT_BLANK: Final = r"[^\s\x1c-\x1f\x85]"


def _s(**fields: Any) -> Schema:
    """A JSON Schema object from keyword arguments (``one_of`` for ``oneOf``...)."""
    return {_KEYS.get(key, key): value for key, value in fields.items()}


_LIMIT: Final = 10**18 - 1  # the readers refuse 18 digits and more
_ABSENT: Final = [
    _s(type="null"),
    _s(type="boolean", const=False),
    _s(type="string", pattern=r"^\s*$"),
]


def _integer(description: str, *, optional: bool = True) -> Schema:
    forms = [
        _s(type="integer", minimum=-_LIMIT, maximum=_LIMIT),
        _s(type="string", pattern=r"^[0-9]{1,17}$"),
    ]
    return _s(one_of=forms + (_ABSENT if optional else []), description=description)


def _amount(description: str, *, decimals: bool = False) -> Schema:
    # Whole pesos; no '.' thousands separators, no exponent (the readers refuse both).
    text = r"^-?[0-9]{1,17}(\.[0-9]{1,10})?$" if decimals else r"^-?[0-9]{1,17}$"
    forms = [
        _s(type="integer", minimum=-_LIMIT, maximum=_LIMIT),
        _s(type="string", pattern=text),
    ]
    return _s(one_of=forms + _ABSENT, description=description)


def _date(description: str) -> Schema:
    return _s(
        one_of=[_s(type="string", format="date"), *_ABSENT],
        description=description,
    )


def _text(description: str, max_chars: int) -> Schema:
    forms = [
        _s(type="string", max_length=max_chars, pattern=NOT_BLANK),
        _s(type="integer"),
    ]
    return _s(one_of=forms + _ABSENT, description=description)


def _one_or_many(item: Schema, limit: int, description: str) -> Schema:
    # anyOf: an empty object is both "one item" and nothing to read.
    return _s(
        anyOf=[_s(type="array", items=item, max_items=limit), item, *_ABSENT],
        description=description,
    )


_REFERENCE: Final = _s(
    type="object",
    properties={
        "nro_lin_ref": _integer("line number of the reference"),
        "tipo_doc_ref": _text("type of the referenced document, e.g. 33", 100),
        "ind_global": _integer("1 when the reference covers a whole range"),
        "folio_ref": _text("folio of the referenced document", 100),
        "rut_otro": _text("RUT of another contributor", 100),
        "fecha_ref": _date("date of the referenced document"),
        "cod_ref": _text("1 annuls, 2 corrects text, 3 corrects amounts", 100),
        "razon_ref": _text("why", 100),
    },
)
_CAF: Final = _s(
    one_of=[
        _s(
            type="object",
            properties={
                "rut_emisor": _text("RUT the folios were authorised to", 100),
                "tipo_dte": _integer("document type of the range"),
                "folio_desde": _integer("first folio"),
                "folio_hasta": _integer("last folio"),
                "fecha_autorizacion": _date("authorisation date"),
            },
        ),
        *_ABSENT,
    ],
    description="the folio range (CAF) the document's folio comes from",
)

#: ``dte_data`` in Odoo's flat form. Keys not listed are ignored.
DTE_DATA_SCHEMA: Final = _s(
    type="object",
    required=["tipo_dte"],
    min_properties=1,
    properties={
        "tipo_dte": _integer("SII document type code, e.g. 33", optional=False),
        "folio": _integer("folio (whole number)"),
        "fecha_emision": _date("issue date, YYYY-MM-DD"),
        "fecha_vencimiento": _date("due date, YYYY-MM-DD"),
        "forma_pago": _integer("1 contado, 2 crédito, 3 sin costo"),
        "ind_traslado": _integer("transfer code, 1 to 9 (guías)"),
        "rut_emisor": _text("issuer RUT, e.g. 76123456-7", 1000),
        "razon_social_emisor": _text("issuer name", 1000),
        "giro_emisor": _text("issuer business line", 1000),
        "rut_receptor": _text("receiver RUT", 1000),
        "razon_social_receptor": _text("receiver name", 1000),
        "giro_receptor": _text("receiver business line", 1000),
        "monto_neto": _amount("net amount, whole pesos"),
        "monto_exento": _amount("exempt amount, whole pesos"),
        "tasa_iva": _amount("VAT rate, percent (19)", decimals=True),
        "monto_iva": _amount("VAT, whole pesos"),
        "monto_total": _amount("total, whole pesos"),
        "referencias": _one_or_many(_REFERENCE, MAX_REPEATED, "references to other documents"),
        "caf": _CAF,
    },
    description=(
        "The document: Odoo's flat form (stated here), or a full DTE as SII JSON "
        '(`Encabezado`, `Detalle`...; `EnvioDTE`), or SII XML as `{"dte_xml": "<DTE ...>"}` '
        "(DTE, EnvioDTE or EnvioBOLETA). Keys not listed are ignored."
    ),
)

_HISTORY_DOCUMENT: Final = _s(
    type="object",
    properties={
        "tipo_dte": _integer("document type"),
        "folio": _integer("folio"),
        "fecha_emision": _date("issue date"),
        "monto_total": _amount("total"),
        "monto_neto": _amount("net amount"),
        "monto_iva": _amount("VAT"),
        "monto_exento": _amount("exempt amount"),
        "rut_emisor": _text("issuer RUT", 20),
        "estado": _text("ERP state, e.g. accepted, rejected", 50),
        "error_code": _text("rejection code", 100),
        "message": _text("rejection message", 500),
    },
)

#: ``history``: the vendor's earlier documents, a list or ``{rut_emisor, documents}``.
HISTORY_SCHEMA: Final = _s(
    one_of=[
        _s(type="array", items=_HISTORY_DOCUMENT, max_items=MAX_HISTORY),
        _s(
            type="object",
            properties={
                "rut_emisor": _text("the vendor's RUT", 20),
                # Read as `documents or []`: any falsy value is no documents.
                "documents": _s(
                    anyOf=[
                        _one_or_many(_HISTORY_DOCUMENT, MAX_HISTORY, "its documents"),
                        _s(type="number", const=0),
                        _s(type="array", maxItems=0),
                        _s(type="object", maxProperties=0),
                    ],
                    description="its documents, one or a list",
                ),
            },
        ),
        _s(type="null"),
    ],
    description="the vendor's earlier documents: a list, or `{rut_emisor, documents}`",
)


def schema_extra(schema: Schema) -> dict[str, Any]:
    """``msgspec.Meta(extra_json_schema=...)`` that publishes ``schema`` for a field.

    Litestar sets each ``extra`` entry on the field's generated schema (its own names).
    """
    names = {
        "oneOf": "one_of",
        "minProperties": "min_properties",
        "minItems": "min_items",
        "maxItems": "max_items",
    }
    kept = ("oneOf", "type", "properties", "required", "minProperties", "items")
    extra = {
        names.get(key, key): value for key, value in schema.items() if key in kept or key in names
    }
    return {"description": schema.get("description"), "extra": extra}


def _ref(description: str) -> Schema:
    """An Odoo many2one: ``42``, ``"42"``, ``[42, "Name"]`` or ``{"id": 42, "name": ...}``."""
    scalar = [
        _s(type="integer"),
        _s(type="string", max_length=100, pattern=NOT_BLANK),
    ]
    return _s(
        one_of=[
            *scalar,
            _s(type="array", items={}, minItems=1, prefixItems=[_s(oneOf=scalar + _ABSENT)]),
            _s(
                type="object",
                properties={"id": _s(oneOf=scalar + _ABSENT), "name": _text("name", 10_000)},
            ),
            *_ABSENT,
        ],
        description=description,
    )


def _decimal(description: str) -> Schema:
    forms = [
        _s(type="integer", minimum=-_LIMIT, maximum=_LIMIT),
        _s(type="string", pattern=r"^-?[0-9]{1,17}(\.[0-9]{1,10})?$"),
    ]
    return _s(one_of=forms + _ABSENT, description=description)


_MATCH_LINE: Final = _s(
    type="object",
    properties={
        "product_name": _text("product or line name", 1000),
        "product_id": _ref("the product"),
        "quantity": _decimal("quantity"),
        "price_unit": _decimal("unit price"),
        "price_subtotal": _decimal("line subtotal"),
    },
)
_MATCH_LINES: Final = _one_or_many(_MATCH_LINE, MAX_MATCH_LINES, "its lines")

#: ``dte_data`` (or ``invoice_data``) of ``match_po``: the invoice as Odoo describes it.
MATCH_INVOICE_SCHEMA: Final = _s(
    type="object",
    min_properties=1,
    properties={
        "partner_id": _ref("the supplier"),
        "partner_vat": _text("supplier RUT", 30),
        "partner_name": _text("supplier name", 300),
        "amount_total": _amount("total, whole pesos"),
        "amount_untaxed": _amount("net, whole pesos"),
        "invoice_date": _date("invoice date"),
        "reference": _text("the supplier's reference or folio", 100),
        "invoice_lines": _MATCH_LINES,
    },
    description=(
        "the received invoice: Odoo's fields (stated here; other Odoo spellings are read "
        "too, e.g. `rut_emisor`, `monto_total`, `fecha_emision`, `folio`), or a full DTE as "
        "SII JSON or `dte_xml`"
    ),
)
_PURCHASE_ORDER: Final = _s(
    type="object",
    required=["id"],
    properties={
        "id": _s(
            oneOf=[_s(type="integer"), _s(type="string", max_length=100, pattern=NOT_BLANK)],
            description="the PO's Odoo id",
        ),
        "name": _text("the PO's name, e.g. P00042", 200),
        "partner_id": _ref("the supplier"),
        "partner_vat": _text("supplier RUT", 30),
        "partner_name": _text("supplier name", 300),
        "amount_total": _amount("total"),
        "amount_untaxed": _amount("net"),
        "date_order": _date("order date"),
        "currency": _text("currency code", 10),
        "order_line": _MATCH_LINES,
    },
)
#: ``pending_pos``: 1 to MAX_POS purchase orders, each with its Odoo ``id``.
PENDING_POS_SCHEMA: Final = _s(
    type="array",
    items=_PURCHASE_ORDER,
    min_items=1,
    max_items=MAX_POS,
    description=f"the purchase orders to match against (1 to {MAX_POS})",
)
