"""Reading Odoo's ``match_po`` payload into :mod:`quipu_dte.match_types` shapes.

Odoo sends ``{"dte_data": {...}, "pending_pos": [...], "company_id": 1}``
(original-ai-service.md §7.2); ``invoice_data`` is accepted as an alias of
``dte_data``, and ``dte_data`` may also be a full DTE (XML or SII JSON).
Many2one values may be ``42``, ``[42, "Name"]`` or ``{"id": 42, "name": ...}``.
"""

from collections.abc import Mapping
from typing import Any, Final

from quipu_dte.errors import DteInputError
from quipu_dte.match_types import (
    MAX_MATCH_LINES,
    MAX_POS,
    InvoiceData,
    InvoiceLine,
    PoId,
    PurchaseOrder,
)
from quipu_dte.model import DteDocument
from quipu_dte.parse import parse_dte_data
from quipu_dte.parse.coerce import Reader, is_empty
from quipu_dte.parse.sii import SII_TOP_KEYS

__all__ = ["invoice_from_document", "parse_match_request"]

_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "partner_id": ("partner_id",),
    "rut": ("partner_vat", "partner_rut", "rut_emisor", "vat", "rut"),
    "name": ("partner_name", "razon_social_emisor", "razon_social"),
    "total": ("total_amount", "amount_total", "monto_total"),
    "untaxed": ("amount_untaxed", "monto_neto"),
    "date": ("date", "date_order", "fecha_emision", "invoice_date"),
    "reference": ("reference", "folio", "name"),
    "lines": ("lines", "order_line", "invoice_lines", "detalle", "Detalle", "items"),
    "line_name": ("product_name", "name", "NmbItem", "description", "nombre"),
    "qty": ("qty", "product_qty", "quantity", "QtyItem", "cantidad"),
    "price": ("price_unit", "price", "PrcItem", "precio"),
    "subtotal": ("subtotal", "price_subtotal", "MontoItem", "monto_item"),
}


def _get(m: Mapping[str, Any], field: str) -> tuple[Any, str]:
    for key in _ALIASES[field]:
        if key in m and not is_empty(m[key]):
            return m[key], key
    return None, _ALIASES[field][0]


def _ref_id(
    r: Reader, value: Any, rel: str, *, nested: bool = False
) -> tuple[PoId | None, str | None]:
    """Odoo many2one: ``42``, ``"42"``, ``[42, "Name"]`` or ``{"id": 42, "name": ...}``.

    The id inside a list or object is a plain id (as the published schema says), not
    another many2one.
    """
    if is_empty(value):
        return None, None
    if isinstance(value, (list, tuple)) and value and not nested:
        name = value[1] if len(value) > 1 and isinstance(value[1], str) else None
        return _ref_id(r, value[0], rel, nested=True)[0], name
    if isinstance(value, Mapping) and not nested:
        return (
            _ref_id(r, value.get("id"), f"{rel}.id", nested=True)[0],
            r.text(value.get("name"), f"{rel}.name"),
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if isinstance(value, str) and len(value) <= 100:
        return value.strip(), None
    r.fail(rel, "expected an id (integer or string)")
    return None, None


def _lines(r: Reader, value: Any, rel: str) -> tuple[InvoiceLine, ...]:
    out = []
    for i, m in enumerate(r.many(value, rel, limit=MAX_MATCH_LINES)):
        q = f"{rel}[{i}]"
        raw_name, name_key = _get(m, "line_name")
        product, product_name = _ref_id(r, m.get("product_id"), f"{q}.product_id")
        qty, qk = _get(m, "qty")
        price, pk = _get(m, "price")
        sub, sk = _get(m, "subtotal")
        name = r.text(raw_name, f"{q}.{name_key}", max_chars=1000) or product_name or ""
        out.append(
            InvoiceLine(
                name=name,
                product_id=product,
                qty=r.decimal(qty, f"{q}.{qk}", "quantity"),
                price=r.decimal(price, f"{q}.{pk}", "quantity"),
                subtotal=r.decimal(sub, f"{q}.{sk}", "quantity"),
            )
        )
    return tuple(out)


def _invoice(r: Reader, m: Mapping[str, Any]) -> InvoiceData:
    pid, _ = _ref_id(r, m.get("partner_id"), "partner_id")
    values = {f: _get(m, f) for f in ("rut", "name", "total", "untaxed", "date", "reference")}
    lines_raw, lines_key = _get(m, "lines")
    return InvoiceData(
        partner_id=pid,
        partner_rut=r.text(values["rut"][0], values["rut"][1], max_chars=30),
        partner_name=r.text(values["name"][0], values["name"][1], max_chars=300),
        total=r.decimal(*values["total"]),
        untaxed=r.decimal(*values["untaxed"]),
        invoice_date=r.date(*values["date"]),
        reference=r.text(values["reference"][0], values["reference"][1], max_chars=100),
        lines=_lines(r, lines_raw, lines_key),
    )


def _po(r: Reader, m: Mapping[str, Any]) -> PurchaseOrder | None:
    po_id, _ = _ref_id(r, m.get("id"), "id")
    if po_id is None:
        r.fail("id", "missing; every pending PO needs its Odoo id")
        return None
    raw_partner = m.get("partner")
    partner: Mapping[str, Any] = raw_partner if isinstance(raw_partner, Mapping) else {}
    pid, pname = _ref_id(r, m.get("partner_id", partner.get("id")), "partner_id")
    rut, rk = _get(m, "rut")
    if rut is None:
        rut, rk = _get(partner, "rut")
    # The first name given (blank, null and false are not given), read as text.
    names = (m.get("partner_name"), partner.get("name"), pname)
    name = next((value for value in names if not is_empty(value)), None)
    total, tk = _get(m, "total")
    untaxed, uk = _get(m, "untaxed")
    day, dk = _get(m, "date")
    lines_raw, lk = _get(m, "lines")
    return PurchaseOrder(
        id=po_id,
        name=r.text(m.get("name"), "name", max_chars=200) or str(po_id),
        partner_id=pid,
        partner_rut=r.text(rut, rk, max_chars=30),
        partner_name=r.text(name, "partner_name", max_chars=300),
        amount_total=r.decimal(total, tk),
        amount_untaxed=r.decimal(untaxed, uk),
        order_date=r.date(day, dk),
        currency=r.text(m.get("currency"), "currency", max_chars=10),
        lines=_lines(r, lines_raw, lk),
    )


def invoice_from_document(doc: DteDocument) -> InvoiceData:
    """Matching view of a parsed DTE (emisor = supplier)."""
    t = doc.totales
    return InvoiceData(
        partner_rut=doc.emisor.rut,
        partner_name=doc.emisor.razon_social,
        total=t.mnt_total,
        untaxed=t.mnt_neto if t.mnt_neto is not None else t.mnt_exe,
        invoice_date=doc.id_doc.fecha_emision,
        reference=str(doc.folio) if doc.folio is not None else None,
        lines=tuple(
            InvoiceLine(
                name=ln.nombre or "", qty=ln.cantidad, price=ln.precio, subtotal=ln.monto_item
            )
            for ln in doc.detalle
        ),
    )


def parse_match_request(payload: Any) -> tuple[InvoiceData, tuple[PurchaseOrder, ...]]:
    """Read ``{"dte_data" | "invoice_data", "pending_pos", ...}``; raise DteInputError if bad."""
    if not isinstance(payload, Mapping):
        raise DteInputError([("", "expected a JSON object with dte_data and pending_pos")])
    key = "dte_data" if "dte_data" in payload else "invoice_data"
    raw = payload.get(key)
    problems: list[tuple[str, str]] = []
    invoice: InvoiceData | None = None
    if not isinstance(raw, Mapping) or not raw:
        problems.append((key, "missing or not an object; send the invoice as dte_data"))
    elif "dte_xml" in raw or any(k in SII_TOP_KEYS for k in raw):
        invoice = invoice_from_document(parse_dte_data(raw).single)
    else:
        r = Reader(key)
        invoice = _invoice(r, raw)
        problems += r.problems
    pos_raw = payload.get("pending_pos")
    pos: list[PurchaseOrder] = []
    if not isinstance(pos_raw, (list, tuple)) or not pos_raw:
        problems.append(("pending_pos", "pending_pos no puede estar vacío; send a list of POs"))
    elif len(pos_raw) > MAX_POS:
        problems.append(("pending_pos", f"{len(pos_raw)} POs; at most {MAX_POS} are accepted"))
    else:
        for i, item in enumerate(pos_raw):
            r = Reader(f"pending_pos[{i}]")
            if not isinstance(item, Mapping):
                r.fail("", "expected an object")
            else:
                po = _po(r, item)
                if po is not None and not r.problems:
                    pos.append(po)
            problems += r.problems
    if problems or invoice is None:
        raise DteInputError(problems)
    return invoice, tuple(pos)
