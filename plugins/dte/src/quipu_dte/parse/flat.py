"""The flat form Odoo sends to ``POST /api/ai/validate`` (original-ai-service.md §7.1).

Only header and totals travel in this form, so line-level rules do not run on
it. Unknown keys (``mode``, ``company_id``…) are ignored. Optional extensions
beyond Odoo's payload: ``referencias`` (list) and ``caf`` (object), so notes
and folio ranges can also be checked without sending XML.
"""

from collections.abc import Mapping
from typing import Any, Final

from quipu_dte.model import Caf, DteDocument, Emisor, IdDoc, Receptor, Referencia, Totales
from quipu_dte.parse.coerce import MAX_REPEATED, NumberKind, Reader, is_empty

__all__ = ["FLAT_FIELD_PATHS", "parse_flat"]

#: Flat key → SII path used in findings (lets the caller map a finding back).
FLAT_FIELD_PATHS: Final[dict[str, str]] = {
    "tipo_dte": "Encabezado.IdDoc.TipoDTE",
    "folio": "Encabezado.IdDoc.Folio",
    "fecha_emision": "Encabezado.IdDoc.FchEmis",
    "fecha_vencimiento": "Encabezado.IdDoc.FchVenc",
    "forma_pago": "Encabezado.IdDoc.FmaPago",
    "ind_traslado": "Encabezado.IdDoc.IndTraslado",
    "rut_emisor": "Encabezado.Emisor.RUTEmisor",
    "razon_social_emisor": "Encabezado.Emisor.RznSoc",
    "giro_emisor": "Encabezado.Emisor.GiroEmis",
    "rut_receptor": "Encabezado.Receptor.RUTRecep",
    "razon_social_receptor": "Encabezado.Receptor.RznSocRecep",
    "giro_receptor": "Encabezado.Receptor.GiroRecep",
    "monto_neto": "Encabezado.Totales.MntNeto",
    "monto_exento": "Encabezado.Totales.MntExe",
    "tasa_iva": "Encabezado.Totales.TasaIVA",
    "monto_iva": "Encabezado.Totales.IVA",
    "monto_total": "Encabezado.Totales.MntTotal",
    "referencias": "Referencia",
    "caf": "CAF",
}

_WHAT: Final[dict[str, str]] = {
    "tipo_dte": "the SII document type code, e.g. 33",
    "folio": "the folio as a whole number, e.g. 12345",
    "forma_pago": "1 (contado), 2 (crédito) or 3 (sin costo)",
    "ind_traslado": "a code from 1 to 9",
}

# Accepted spellings inside flat ``referencias`` entries and ``caf``.
_REF_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "nro_lin_ref": ("nro_lin_ref", "NroLinRef"),
    "tipo_doc_ref": ("tipo_doc_ref", "tipo_doc", "TpoDocRef"),
    "ind_global": ("ind_global", "IndGlobal"),
    "folio_ref": ("folio_ref", "folio", "FolioRef"),
    "rut_otro": ("rut_otro", "RUTOtr"),
    "fecha_ref": ("fecha_ref", "fecha", "FchRef"),
    "cod_ref": ("cod_ref", "CodRef"),
    "razon_ref": ("razon_ref", "razon", "RazonRef"),
}
_CAF_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "rut_emisor": ("rut_emisor", "RE"),
    "tipo_dte": ("tipo_dte", "TD"),
    "folio_desde": ("folio_desde", "desde", "D"),
    "folio_hasta": ("folio_hasta", "hasta", "H"),
    "fecha_autorizacion": ("fecha_autorizacion", "FA"),
}


def _pick(m: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, str]:
    for name in names:
        if name in m:
            return m[name], name
    return None, names[0]


def parse_flat(data: Mapping[str, Any], base: str = "dte_data") -> DteDocument:
    """Read the flat form; raise :class:`~quipu_dte.errors.DteInputError` if malformed."""
    r = Reader(base)
    present: set[str] = set()

    def get(key: str, conv: str, kind: NumberKind = "amount") -> Any:
        raw = data.get(key)
        value: Any
        if conv == "text":
            value = r.text(raw, key, max_chars=1000)
        elif conv == "int":
            value = r.integer(raw, key, what=_WHAT.get(key, "a whole number"))
        elif conv == "date":
            value = r.date(raw, key)
        else:
            value = r.decimal(raw, key, kind)
        if value is not None:
            present.add(FLAT_FIELD_PATHS[key])
        return value

    tipo = get("tipo_dte", "int")
    if is_empty(data.get("tipo_dte")):
        r.fail("tipo_dte", "missing; send the SII document type code, e.g. 33")
    id_doc = IdDoc(
        tipo_dte=tipo if tipo is not None else 0,
        folio=get("folio", "int"),
        fecha_emision=get("fecha_emision", "date"),
        fecha_vencimiento=get("fecha_vencimiento", "date"),
        fma_pago=get("forma_pago", "int"),
        ind_traslado=get("ind_traslado", "int"),
    )
    emisor = Emisor(
        rut=get("rut_emisor", "text"),
        razon_social=get("razon_social_emisor", "text"),
        giro=get("giro_emisor", "text"),
    )
    receptor = Receptor(
        rut=get("rut_receptor", "text"),
        razon_social=get("razon_social_receptor", "text"),
        giro=get("giro_receptor", "text"),
    )
    totales = Totales(
        mnt_neto=get("monto_neto", "dec"),
        mnt_exe=get("monto_exento", "dec"),
        tasa_iva=get("tasa_iva", "dec", "percent"),
        iva=get("monto_iva", "dec"),
        mnt_total=get("monto_total", "dec"),
    )
    refs = []
    for i, ref in enumerate(r.many(data.get("referencias"), "referencias", limit=MAX_REPEATED)):
        q = f"referencias[{i}]"
        values: dict[str, Any] = {}
        for field, names in _REF_KEYS.items():
            raw, name = _pick(ref, names)
            path = f"{q}.{name}"
            if field in {"nro_lin_ref", "ind_global"}:
                values[field] = r.integer(raw, path)
            elif field == "fecha_ref":
                values[field] = r.date(raw, path)
            else:
                values[field] = r.text(raw, path, max_chars=100)
        refs.append(Referencia(**values))
    if refs:
        present.add("Referencia")
    caf = None
    caf_raw = r.mapping(data.get("caf"), "caf")
    if caf_raw:
        present.add("CAF")
        cv: dict[str, Any] = {}
        for field, names in _CAF_KEYS.items():
            raw, name = _pick(caf_raw, names)
            path = f"caf.{name}"
            if field == "rut_emisor":
                cv[field] = r.text(raw, path, max_chars=100)
            elif field == "fecha_autorizacion":
                cv[field] = r.date(raw, path)
            else:
                cv[field] = r.integer(raw, path)
        caf = Caf(**cv)
    r.raise_if_failed()
    return DteDocument(
        source="flat",
        id_doc=id_doc,
        emisor=emisor,
        receptor=receptor,
        totales=totales,
        referencias=tuple(refs),
        caf=caf,
        present=frozenset(present),
        location=base,
    )
