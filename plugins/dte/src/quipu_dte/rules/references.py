"""Referencia rules R1–R9 (domain-chile.md §2.5)."""

from typing import Final

from quipu_dte.codes import REFERENCE_ONLY_TYPES
from quipu_dte.model import Referencia
from quipu_dte.rules.context import Ctx, fmt_date, rule
from quipu_dte.rut import canonical_rut

__all__ = [
    "check_codref",
    "check_ref_dates",
    "check_ref_folio",
    "check_ref_numbering",
    "check_ref_required",
    "check_rut_otro",
    "check_single_reference",
    "is_tax_document",
]

_EXPORT_REFS: Final = frozenset({"110", "111", "112"})


def is_tax_document(ref: Referencia) -> bool:
    """True when TpoDocRef names a tax document (not 801 OC, 'SET', …)."""
    code = ref.tipo_doc_ref
    return (
        code is not None
        and code.isascii()
        and code.isdigit()
        and int(code) not in REFERENCE_ONLY_TYPES
    )


def _flat_without_refs(ctx: Ctx) -> bool:
    # The flat Odoo form carries no references unless the caller adds them:
    # absence there means "unknown", not "missing".
    return ctx.is_flat and "Referencia" not in ctx.doc.present


@rule("ref_required", "DTE_REF_MISSING", "DTE_REF_TYPE_INVALID")
def check_ref_required(ctx: Ctx) -> bool:
    """Notes need ≥1 reference (R1) of a type they can modify; guías a rebajar a 52 (R9)."""
    doc, refs = ctx.doc, ctx.doc.referencias
    if _flat_without_refs(ctx):
        return False
    if ctx.info.needs_reference and not refs:
        ctx.add(
            "DTE_REF_MISSING",
            "Referencia",
            f"Una {ctx.info.name} debe referenciar el documento que modifica (zona Referencia "
            "con TpoDocRef, FolioRef, FchRef y CodRef).",
        )
    if ctx.tipo in {111, 112} and refs and not any(r.tipo_doc_ref in _EXPORT_REFS for r in refs):
        ctx.add(
            "DTE_REF_TYPE_INVALID",
            "Referencia",
            "Una nota de exportación debe referenciar la factura de exportación (110) "
            "que modifica.",
            expected="110",
            actual=refs[0].tipo_doc_ref,
        )
    if ctx.tipo in {56, 61} and refs:
        _check_note_targets(ctx, refs)
    rebaja = ctx.tipo == 52 and any(ln.ind_exe == 5 for ln in doc.detalle)
    if rebaja and not any(r.tipo_doc_ref == "52" for r in refs):
        ctx.add(
            "DTE_REF_MISSING",
            "Referencia",
            "La guía tiene ítems a rebajar (IndExe 5): debe referenciar la guía anterior (52).",
            expected="52",
        )
    return True


def _check_note_targets(ctx: Ctx, refs: tuple[Referencia, ...]) -> None:
    """A 56/61 modifies a tax document (R1), and a national note never modifies an export.

    SII-FORMATO p.41: the note's Referencia names the document it modifies; an export
    invoice (110) is modified by the export notes 111/112 (domain-chile.md §2.1).
    """
    name = ctx.info.name
    tax_refs = [r for r in refs if is_tax_document(r)]
    if not tax_refs:
        shown = ", ".join(r.tipo_doc_ref or "(vacío)" for r in refs)
        ctx.add(
            "DTE_REF_TYPE_INVALID",
            "Referencia",
            f"Una {name} debe referenciar el documento tributario que modifica (p. ej. una "
            f"factura 33); sus referencias solo nombran TpoDocRef {shown}, que no son "
            "documentos tributarios.",
            expected="documento tributario (33, 34, 39, 41, 43, 46, 56, 61…)",
            actual=shown,
        )
        return
    exports = [r for r in tax_refs if r.tipo_doc_ref in _EXPORT_REFS]
    if exports:
        export_note = 112 if ctx.tipo == 61 else 111
        ctx.add(
            "DTE_REF_TYPE_INVALID",
            "Encabezado.IdDoc.TipoDTE",
            f"La {name} (tipo {ctx.tipo}) referencia un documento de exportación "
            f"(TpoDocRef {exports[0].tipo_doc_ref}); se esperaba una nota de exportación "
            f"(tipo {export_note}), que es la que modifica documentos de exportación.",
            expected=str(export_note),
            actual=str(ctx.tipo),
        )


@rule("codref", "DTE_REF_CODREF_MISSING")
def check_codref(ctx: Ctx) -> bool:
    """Every Referencia of 56, 61, 111, 112 carries CodRef (R2)."""
    if ctx.tipo not in {56, 61, 111, 112}:
        return True  # not applicable
    if not ctx.doc.referencias:
        return not _flat_without_refs(ctx)
    for i, ref in enumerate(ctx.doc.referencias):
        if ref.cod_ref is None:
            ctx.add(
                "DTE_REF_CODREF_MISSING",
                f"Referencia[{i}].CodRef",
                f"La referencia {i + 1} no indica CodRef: 1 anula el documento, 2 corrige texto, "
                "3 corrige montos.",
            )
    return True


@rule("single_reference", "DTE_REF_SINGLE_REQUIRED")
def check_single_reference(ctx: Ctx) -> bool:
    """Annulment (CodRef 1) or text correction (CodRef 2) reference a single document (R3)."""
    if ctx.tipo not in {56, 61, 111, 112}:
        return True  # not applicable
    if not ctx.doc.referencias:
        return not _flat_without_refs(ctx)
    codes = ctx.cod_refs & {"1", "2"}
    tax_refs = [r for r in ctx.doc.referencias if is_tax_document(r)]
    if codes and len(tax_refs) > 1:
        ctx.add(
            "DTE_REF_SINGLE_REQUIRED",
            "Referencia",
            f"Una nota que anula o corrige texto (CodRef {'/'.join(sorted(codes))}) debe "
            f"referenciar un único documento; referencia {len(tax_refs)}.",
            expected="1",
            actual=str(len(tax_refs)),
        )
    return True


@rule("ref_folio", "DTE_REF_FOLIO_INVALID")
def check_ref_folio(ctx: Ctx) -> bool:
    """FolioRef 0 only with IndGlobal=1; tax documents have numeric folios (R5)."""
    refs = ctx.doc.referencias
    if not refs:
        return not _flat_without_refs(ctx)
    for i, ref in enumerate(refs):
        folio = ref.folio_ref
        if folio is None:
            continue
        if folio.strip("0") == "" and ref.ind_global != 1:
            ctx.add(
                "DTE_REF_FOLIO_INVALID",
                f"Referencia[{i}].FolioRef",
                "FolioRef 0 solo se admite con IndGlobal = 1 (referencia global a más de 20 "
                "documentos).",
                actual=folio,
            )
        elif is_tax_document(ref) and not (folio.isascii() and folio.isdigit()):
            ctx.add(
                "DTE_REF_FOLIO_INVALID",
                f"Referencia[{i}].FolioRef",
                f"El folio «{folio}» de un documento tributario ({ref.tipo_doc_ref}) debe ser "
                "numérico.",
                actual=folio,
            )
    return True


@rule("rut_otro", "DTE_REF_RUTOTR_NOT_ALLOWED")
def check_rut_otro(ctx: Ctx) -> bool:
    """RUTOtr only on 46/56/61/110–112 and never equal to RUTEmisor (R6)."""
    refs = [(i, r) for i, r in enumerate(ctx.doc.referencias) if r.rut_otro is not None]
    if not refs:
        return not _flat_without_refs(ctx)
    emisor = ctx.emisor_rut.canonical if ctx.emisor_rut else None
    for i, ref in refs:
        path = f"Referencia[{i}].RUTOtr"
        if not ctx.info.rut_otro_allowed:
            ctx.add(
                "DTE_REF_RUTOTR_NOT_ALLOWED",
                path,
                "RUTOtr solo se usa cuando el documento referenciado lo emitió otro contribuyente "
                "(facturas de compra, notas y exportaciones).",
                actual=ref.rut_otro,
            )
        elif emisor is not None and canonical_rut(ref.rut_otro) == emisor:
            ctx.add(
                "DTE_REF_RUTOTR_NOT_ALLOWED",
                path,
                "RUTOtr no puede ser el mismo RUT del emisor.",
                actual=ref.rut_otro,
            )
    return True


@rule("ref_numbering", "DTE_REF_NUMBERING")
def check_ref_numbering(ctx: Ctx) -> bool:
    """NroLinRef runs 1, 2, 3… (R7)."""
    refs = ctx.doc.referencias
    if not refs:
        return not _flat_without_refs(ctx)
    for i, ref in enumerate(refs):
        if ref.nro_lin_ref is not None and ref.nro_lin_ref != i + 1:
            ctx.add(
                "DTE_REF_NUMBERING",
                f"Referencia[{i}].NroLinRef",
                f"Las referencias deben numerarse 1, 2, 3…; la referencia en la posición {i + 1} "
                f"tiene NroLinRef {ref.nro_lin_ref}.",
                expected=str(i + 1),
                actual=str(ref.nro_lin_ref),
            )
            break
    return True


@rule("ref_dates", "DTE_REF_DATE_AFTER_EMISSION")
def check_ref_dates(ctx: Ctx) -> bool:
    """The referenced document is not dated after the referencing one (R8)."""
    emitted = ctx.doc.id_doc.fecha_emision
    refs = ctx.doc.referencias
    if emitted is None:
        return False
    if not refs:
        return not _flat_without_refs(ctx)
    for i, ref in enumerate(refs):
        if ref.fecha_ref is not None and ref.fecha_ref > emitted and is_tax_document(ref):
            ctx.add(
                "DTE_REF_DATE_AFTER_EMISSION",
                f"Referencia[{i}].FchRef",
                f"El documento referenciado tiene fecha {fmt_date(ref.fecha_ref)}, posterior a "
                f"la emisión de la nota ({fmt_date(emitted)}).",
                expected=f"<= {emitted.isoformat()}",
                actual=ref.fecha_ref.isoformat(),
            )
    return True
