"""Find the document bodies inside an SII-named dict (bare, DTE, SetDTE, EnvioDTE).

Shared by the JSON form and, after XML→dict conversion, the XML form.
"""

from collections.abc import Mapping
from typing import Any

from quipu_dte.model import Envelope
from quipu_dte.parse.coerce import MAX_DOCUMENTS, Reader
from quipu_dte.parse.sii import DOCUMENT_KEYS

__all__ = ["build_envelope", "split_documents"]


def split_documents(
    data: Mapping[str, Any], base: str
) -> tuple[list[tuple[Mapping[str, Any], str]], Mapping[str, Any] | None, list[tuple[str, str]]]:
    """Find the document bodies inside a (possibly enveloped) SII-named dict.

    Accepts ``{"EnvioDTE": {"SetDTE": {"Caratula", "DTE": [...]}}}``, ``{"SetDTE": ...}``,
    ``{"DTE": {...} | [...]}``, ``{"Documento": {...}}`` or the bare document
    (``{"Encabezado": ..., "Detalle": ...}``). Returns ``(bodies with their
    paths, carátula or None, problems)``.
    """
    reader = Reader(base)
    path = ""
    node: Mapping[str, Any] = data

    def descend(key: str) -> bool:
        nonlocal node, path
        if key not in node:
            return False
        child = reader.mapping(node[key], f"{path}.{key}".lstrip("."))
        path = f"{path}.{key}".lstrip(".")
        node = child or {}
        return child is not None

    caratula: Mapping[str, Any] | None = None
    for envelope in ("EnvioDTE", "EnvioBOLETA"):
        if descend(envelope):
            break
    if descend("SetDTE"):
        caratula = reader.mapping(node.get("Caratula"), f"{path}.Caratula")
    if "DTE" in node:
        dte_path = f"{path}.DTE".lstrip(".")
        raw = node["DTE"]
        items = reader.many(raw, dte_path, limit=MAX_DOCUMENTS)
        many = isinstance(raw, (list, tuple))
        candidates = [
            (item, f"{dte_path}[{i}]" if many else dte_path) for i, item in enumerate(items)
        ]
    else:
        candidates = [(node, path)]
    bodies: list[tuple[Mapping[str, Any], str]] = []
    for item, item_path in candidates:
        for key in DOCUMENT_KEYS:
            if key in item:
                body = reader.mapping(item[key], f"{item_path}.{key}".lstrip("."))
                if body is not None:
                    bodies.append((body, f"{item_path}.{key}".lstrip(".")))
                break
        else:
            bodies.append((item, item_path))
    if not bodies and not reader.problems:
        reader.fail(path, "no DTE found; send a Documento with Encabezado, Detalle, Totales")
    return bodies, caratula, reader.problems


def build_envelope(
    caratula: Mapping[str, Any], base: str
) -> tuple[Envelope, list[tuple[str, str]]]:
    """Read the EnvioDTE carátula."""
    r = Reader(base)
    counts = []
    for i, s in enumerate(r.many(caratula.get("SubTotDTE"), "SubTotDTE", limit=50)):
        tipo = r.integer(s.get("TpoDTE"), f"SubTotDTE[{i}].TpoDTE")
        count = r.integer(s.get("NroDTE"), f"SubTotDTE[{i}].NroDTE")
        if tipo is not None and count is not None:
            counts.append((tipo, count))
    envelope = Envelope(
        rut_emisor=r.text(caratula.get("RutEmisor"), "RutEmisor", max_chars=100),
        rut_envia=r.text(caratula.get("RutEnvia"), "RutEnvia", max_chars=100),
        rut_receptor=r.text(caratula.get("RutReceptor"), "RutReceptor", max_chars=100),
        fecha_resolucion=r.date(caratula.get("FchResol"), "FchResol"),
        nro_resolucion=r.integer(caratula.get("NroResol"), "NroResol"),
        declared_counts=tuple(counts),
    )
    return envelope, r.problems
