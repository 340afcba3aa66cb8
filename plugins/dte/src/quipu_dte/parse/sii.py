"""Build :class:`~quipu_dte.model.DteDocument` from a dict with SII element names.

Used for the JSON form and, after :mod:`quipu_dte.parse.xml` turned the XML into
the same nested-dict shape, for the XML form. Repeated elements may be one
object or a list; scalars may be strings or numbers.
"""

from collections.abc import Mapping
from typing import Any, Final

from quipu_dte.model import (
    Caf,
    Comisiones,
    DescuentoRecargo,
    DteDocument,
    Emisor,
    IdDoc,
    ImpuestoRetencion,
    Linea,
    OtraMoneda,
    Receptor,
    Referencia,
    SourceKind,
    Timbre,
    Totales,
)
from quipu_dte.parse.coerce import MAX_LINES, MAX_REPEATED, NumberKind, Reader, is_empty

__all__ = ["DOCUMENT_KEYS", "SII_TOP_KEYS", "build_document"]

#: The three DTE_v10 document bodies (plain, liquidación-factura, exportación).
DOCUMENT_KEYS: Final = ("Documento", "Liquidacion", "Exportaciones")
#: Keys that identify the SII-named JSON form at the top level.
SII_TOP_KEYS: Final = frozenset(
    {"Encabezado", "DTE", "EnvioDTE", "EnvioBOLETA", "SetDTE", *DOCUMENT_KEYS}
)
_E: Final = "Encabezado"
_WHAT: Final[dict[str, str]] = {
    "TipoDTE": "the SII document type code, e.g. 33",
    "Folio": "the folio as a whole number, e.g. 12345",
}


class _Builder:
    """Reads one document, recording presence of SII paths as it goes."""

    def __init__(self, reader: Reader) -> None:
        self.r = reader
        self.present: set[str] = set()

    def _mark(self, value: Any, path: str) -> None:
        if value is not None:
            self.present.add(path)

    def txt(self, m: Mapping[str, Any], key: str, path: str, *alts: str) -> str | None:
        for name in (key, *alts):
            if name in m:
                value = self.r.text(
                    m[name], f"{path.rpartition('.')[0]}.{name}" if "." in path else name
                )
                self._mark(value, path)
                return value
        return None

    def num(self, m: Mapping[str, Any], key: str, path: str, kind: NumberKind = "amount") -> Any:
        value = self.r.decimal(m.get(key), path, kind)
        self._mark(value, path)
        return value

    def int_(self, m: Mapping[str, Any], key: str, path: str) -> int | None:
        what = _WHAT.get(key, "a whole number")
        value = self.r.integer(m.get(key), path, what=what)
        self._mark(value, path)
        return value

    def day(self, m: Mapping[str, Any], key: str, path: str) -> Any:
        value = self.r.date(m.get(key), path)
        self._mark(value, path)
        return value

    def sub(self, m: Mapping[str, Any] | None, key: str, path: str) -> Mapping[str, Any]:
        if m is None:
            return {}
        value = self.r.mapping(m.get(key), path)
        if value is not None:
            self.present.add(path)
        return value or {}

    # -- zones -------------------------------------------------------------

    def id_doc(self, m: Mapping[str, Any]) -> IdDoc | None:
        p = f"{_E}.IdDoc"
        tipo = self.int_(m, "TipoDTE", f"{p}.TipoDTE")
        if tipo is None:
            # is_empty, not ``in (None, "", False)``: comparing a Decimal('sNaN') raises.
            if "TipoDTE" not in m or is_empty(m.get("TipoDTE")):
                self.r.fail(f"{p}.TipoDTE", "missing; send the SII document type code, e.g. 33")
            return None
        return IdDoc(
            tipo_dte=tipo,
            folio=self.int_(m, "Folio", f"{p}.Folio"),
            fecha_emision=self.day(m, "FchEmis", f"{p}.FchEmis"),
            ind_no_rebaja=self.int_(m, "IndNoRebaja", f"{p}.IndNoRebaja"),
            tipo_despacho=self.int_(m, "TipoDespacho", f"{p}.TipoDespacho"),
            ind_traslado=self.int_(m, "IndTraslado", f"{p}.IndTraslado"),
            tpo_impresion=self.txt(m, "TpoImpresion", f"{p}.TpoImpresion"),
            ind_servicio=self.int_(m, "IndServicio", f"{p}.IndServicio"),
            mnt_bruto=self.int_(m, "MntBruto", f"{p}.MntBruto"),
            ind_mnt_neto=self.int_(m, "IndMntNeto", f"{p}.IndMntNeto"),
            fma_pago=self.int_(m, "FmaPago", f"{p}.FmaPago"),
            fecha_cancelacion=self.day(m, "FchCancel", f"{p}.FchCancel"),
            fecha_vencimiento=self.day(m, "FchVenc", f"{p}.FchVenc"),
            periodo_desde=self.day(m, "PeriodoDesde", f"{p}.PeriodoDesde"),
            periodo_hasta=self.day(m, "PeriodoHasta", f"{p}.PeriodoHasta"),
            medio_pago=self.txt(m, "MedioPago", f"{p}.MedioPago"),
        )

    def emisor(self, m: Mapping[str, Any]) -> Emisor:
        p = f"{_E}.Emisor"
        guia = self.sub(m, "GuiaExport", f"{p}.GuiaExport")
        acteco = self.r.texts(m.get("Acteco"), f"{p}.Acteco", limit=10, max_chars=20)
        if acteco:
            self.present.add(f"{p}.Acteco")
        return Emisor(
            rut=self.txt(m, "RUTEmisor", f"{p}.RUTEmisor"),
            razon_social=self.txt(m, "RznSoc", f"{p}.RznSoc", "RznSocEmisor"),
            giro=self.txt(m, "GiroEmis", f"{p}.GiroEmis", "GiroEmisor"),
            acteco=acteco,
            correo=self.txt(m, "CorreoEmisor", f"{p}.CorreoEmisor"),
            sucursal=self.txt(m, "Sucursal", f"{p}.Sucursal"),
            cdg_sii_sucur=self.txt(m, "CdgSIISucur", f"{p}.CdgSIISucur"),
            direccion=self.txt(m, "DirOrigen", f"{p}.DirOrigen"),
            comuna=self.txt(m, "CmnaOrigen", f"{p}.CmnaOrigen"),
            ciudad=self.txt(m, "CiudadOrigen", f"{p}.CiudadOrigen"),
            cdg_traslado=self.int_(guia, "CdgTraslado", f"{p}.GuiaExport.CdgTraslado"),
            folio_aut=self.txt(guia, "FolioAut", f"{p}.GuiaExport.FolioAut"),
            fecha_aut=self.day(guia, "FchAut", f"{p}.GuiaExport.FchAut"),
        )

    def receptor(self, m: Mapping[str, Any]) -> Receptor:
        p = f"{_E}.Receptor"
        return Receptor(
            rut=self.txt(m, "RUTRecep", f"{p}.RUTRecep"),
            razon_social=self.txt(m, "RznSocRecep", f"{p}.RznSocRecep"),
            giro=self.txt(m, "GiroRecep", f"{p}.GiroRecep"),
            contacto=self.txt(m, "Contacto", f"{p}.Contacto"),
            correo=self.txt(m, "CorreoRecep", f"{p}.CorreoRecep"),
            direccion=self.txt(m, "DirRecep", f"{p}.DirRecep"),
            comuna=self.txt(m, "CmnaRecep", f"{p}.CmnaRecep"),
            ciudad=self.txt(m, "CiudadRecep", f"{p}.CiudadRecep"),
        )

    def totales(self, m: Mapping[str, Any]) -> Totales:
        p = f"{_E}.Totales"
        taxes = []
        for i, t in enumerate(
            self.r.many(m.get("ImptoReten"), f"{p}.ImptoReten", limit=MAX_REPEATED)
        ):
            q = f"{p}.ImptoReten[{i}]"
            taxes.append(
                ImpuestoRetencion(
                    tipo_imp=self.r.text(t.get("TipoImp"), f"{q}.TipoImp", max_chars=10),
                    tasa_imp=self.r.decimal(t.get("TasaImp"), f"{q}.TasaImp", "percent"),
                    monto_imp=self.r.decimal(t.get("MontoImp"), f"{q}.MontoImp"),
                )
            )
        if taxes:
            self.present.add(f"{p}.ImptoReten")
        com = self.sub(m, "Comisiones", f"{p}.Comisiones")
        comisiones = (
            Comisiones(
                val_com_neto=self.num(com, "ValComNeto", f"{p}.Comisiones.ValComNeto"),
                val_com_exe=self.num(com, "ValComExe", f"{p}.Comisiones.ValComExe"),
                val_com_iva=self.num(com, "ValComIVA", f"{p}.Comisiones.ValComIVA"),
            )
            if com
            else None
        )
        return Totales(
            mnt_neto=self.num(m, "MntNeto", f"{p}.MntNeto"),
            mnt_exe=self.num(m, "MntExe", f"{p}.MntExe"),
            mnt_base=self.num(m, "MntBase", f"{p}.MntBase"),
            tasa_iva=self.num(m, "TasaIVA", f"{p}.TasaIVA", "percent"),
            iva=self.num(m, "IVA", f"{p}.IVA"),
            iva_prop=self.num(m, "IVAProp", f"{p}.IVAProp"),
            iva_terc=self.num(m, "IVATerc", f"{p}.IVATerc"),
            impto_reten=tuple(taxes),
            iva_no_ret=self.num(m, "IVANoRet", f"{p}.IVANoRet"),
            cred_ec=self.num(m, "CredEC", f"{p}.CredEC"),
            grnt_dep=self.num(m, "GrntDep", f"{p}.GrntDep"),
            comisiones=comisiones,
            mnt_total=self.num(m, "MntTotal", f"{p}.MntTotal"),
            monto_nf=self.num(m, "MontoNF", f"{p}.MontoNF"),
            monto_periodo=self.num(m, "MontoPeriodo", f"{p}.MontoPeriodo"),
            saldo_anterior=self.num(m, "SaldoAnterior", f"{p}.SaldoAnterior"),
            vlr_pagar=self.num(m, "VlrPagar", f"{p}.VlrPagar"),
        )

    def otra_moneda(self, m: Mapping[str, Any]) -> OtraMoneda | None:
        p = f"{_E}.OtraMoneda"
        om = self.sub(m, "OtraMoneda", p)
        if not om:
            return None
        return OtraMoneda(
            tpo_moneda=self.txt(om, "TpoMoneda", f"{p}.TpoMoneda"),
            tpo_cambio=self.num(om, "TpoCambio", f"{p}.TpoCambio", "quantity"),
            mnt_exe_otr_mnda=self.num(om, "MntExeOtrMnda", f"{p}.MntExeOtrMnda", "quantity"),
            mnt_tot_otr_mnda=self.num(om, "MntTotOtrMnda", f"{p}.MntTotOtrMnda", "quantity"),
        )

    def lines(self, value: Any) -> tuple[Linea, ...]:
        r = self.r
        out = []
        for i, d in enumerate(r.many(value, "Detalle", limit=MAX_LINES)):
            q = f"Detalle[{i}]"
            codes = []
            for j, c in enumerate(r.many(d.get("CdgItem"), f"{q}.CdgItem", limit=10)):
                code = r.text(c.get("VlrCodigo"), f"{q}.CdgItem[{j}].VlrCodigo", max_chars=100)
                if code is not None:
                    codes.append(code)
            out.append(
                Linea(
                    nro_lin_det=r.integer(d.get("NroLinDet"), f"{q}.NroLinDet"),
                    codigos=tuple(codes),
                    ind_exe=r.integer(d.get("IndExe"), f"{q}.IndExe"),
                    nombre=r.text(d.get("NmbItem"), f"{q}.NmbItem"),
                    descripcion=r.text(d.get("DscItem"), f"{q}.DscItem"),
                    cantidad=r.decimal(d.get("QtyItem"), f"{q}.QtyItem", "quantity"),
                    unidad=r.text(d.get("UnmdItem"), f"{q}.UnmdItem", max_chars=100),
                    precio=r.decimal(d.get("PrcItem"), f"{q}.PrcItem", "quantity"),
                    descuento_pct=r.decimal(d.get("DescuentoPct"), f"{q}.DescuentoPct", "percent"),
                    descuento_monto=r.decimal(d.get("DescuentoMonto"), f"{q}.DescuentoMonto"),
                    recargo_pct=r.decimal(d.get("RecargoPct"), f"{q}.RecargoPct", "percent"),
                    recargo_monto=r.decimal(d.get("RecargoMonto"), f"{q}.RecargoMonto"),
                    cod_imp_adic=r.texts(d.get("CodImpAdic"), f"{q}.CodImpAdic", max_chars=10),
                    monto_item=r.decimal(d.get("MontoItem"), f"{q}.MontoItem"),
                )
            )
        if out:
            self.present.add("Detalle")
        return tuple(out)

    def global_dr(self, value: Any) -> tuple[DescuentoRecargo, ...]:
        r = self.r
        out = []
        for i, d in enumerate(r.many(value, "DscRcgGlobal", limit=MAX_REPEATED)):
            q = f"DscRcgGlobal[{i}]"
            out.append(
                DescuentoRecargo(
                    nro_lin=r.integer(d.get("NroLinDR"), f"{q}.NroLinDR"),
                    tipo_mov=r.text(d.get("TpoMov"), f"{q}.TpoMov", max_chars=10),
                    glosa=r.text(d.get("GlosaDR"), f"{q}.GlosaDR"),
                    tipo_valor=r.text(d.get("TpoValor"), f"{q}.TpoValor", max_chars=10),
                    valor=r.decimal(d.get("ValorDR"), f"{q}.ValorDR", "quantity"),
                    ind_exe=r.integer(d.get("IndExeDR"), f"{q}.IndExeDR"),
                )
            )
        if out:
            self.present.add("DscRcgGlobal")
        return tuple(out)

    def references(self, value: Any) -> tuple[Referencia, ...]:
        r = self.r
        out = []
        for i, d in enumerate(r.many(value, "Referencia", limit=MAX_REPEATED)):
            q = f"Referencia[{i}]"
            out.append(
                Referencia(
                    nro_lin_ref=r.integer(d.get("NroLinRef"), f"{q}.NroLinRef"),
                    tipo_doc_ref=r.text(d.get("TpoDocRef"), f"{q}.TpoDocRef", max_chars=100),
                    ind_global=r.integer(d.get("IndGlobal"), f"{q}.IndGlobal"),
                    folio_ref=r.text(d.get("FolioRef"), f"{q}.FolioRef", max_chars=100),
                    rut_otro=r.text(d.get("RUTOtr"), f"{q}.RUTOtr", max_chars=100),
                    fecha_ref=r.date(d.get("FchRef"), f"{q}.FchRef"),
                    cod_ref=r.text(d.get("CodRef"), f"{q}.CodRef", max_chars=100),
                    razon_ref=r.text(d.get("RazonRef"), f"{q}.RazonRef"),
                )
            )
        if out:
            self.present.add("Referencia")
        return tuple(out)

    def caf(self, doc: Mapping[str, Any], dd: Mapping[str, Any]) -> Caf | None:
        raw = doc.get("CAF") if "CAF" in doc else dd.get("CAF")
        caf = self.r.mapping(raw, "CAF")
        if not caf:
            return None
        self.present.add("CAF")
        # Accept the full <CAF><DA>…</DA></CAF> shape and the bare DA content.
        da = self.r.mapping(caf.get("DA"), "CAF.DA") if "DA" in caf else caf
        da = da or {}
        rng = self.r.mapping(da.get("RNG"), "CAF.DA.RNG") or {}
        return Caf(
            rut_emisor=self.r.text(da.get("RE"), "CAF.DA.RE", max_chars=100),
            tipo_dte=self.r.integer(da.get("TD"), "CAF.DA.TD"),
            folio_desde=self.r.integer(rng.get("D"), "CAF.DA.RNG.D"),
            folio_hasta=self.r.integer(rng.get("H"), "CAF.DA.RNG.H"),
            fecha_autorizacion=self.r.date(da.get("FA"), "CAF.DA.FA"),
        )

    def ted(self, dd: Mapping[str, Any]) -> Timbre | None:
        if not dd:
            return None
        self.present.add("TED")
        r = self.r
        return Timbre(
            rut_emisor=r.text(dd.get("RE"), "TED.DD.RE", max_chars=100),
            tipo_dte=r.integer(dd.get("TD"), "TED.DD.TD"),
            folio=r.integer(dd.get("F"), "TED.DD.F"),
            fecha_emision=r.date(dd.get("FE"), "TED.DD.FE"),
            rut_receptor=r.text(dd.get("RR"), "TED.DD.RR", max_chars=100),
            razon_social_receptor=r.text(dd.get("RSR"), "TED.DD.RSR"),
            monto_total=r.decimal(dd.get("MNT"), "TED.DD.MNT"),
            item1=r.text(dd.get("IT1"), "TED.DD.IT1"),
        )


def build_document(
    doc: Mapping[str, Any], *, base: str, source: SourceKind
) -> tuple[DteDocument | None, list[tuple[str, str]]]:
    """Build one document from its SII-named dict (the ``Documento`` content).

    Returns the document (``None`` if it could not be built) and the problems found.
    """
    reader = Reader(base)
    b = _Builder(reader)
    enc = reader.mapping(doc.get(_E), _E)
    if enc is None:
        if not reader.problems:  # absent or empty (a wrong type was already reported)
            reader.fail(_E, "missing; a DTE needs Encabezado with IdDoc, Emisor, Receptor, Totales")
        return None, reader.problems
    id_doc = b.id_doc(b.sub(enc, "IdDoc", f"{_E}.IdDoc"))
    emisor = b.emisor(b.sub(enc, "Emisor", f"{_E}.Emisor"))
    receptor = b.receptor(b.sub(enc, "Receptor", f"{_E}.Receptor"))
    totales = b.totales(b.sub(enc, "Totales", f"{_E}.Totales"))
    otra = b.otra_moneda(enc)
    detalle = b.lines(doc.get("Detalle"))
    dr = b.global_dr(doc.get("DscRcgGlobal"))
    refs = b.references(doc.get("Referencia"))
    ted_raw = reader.mapping(doc.get("TED"), "TED") or {}
    dd = reader.mapping(ted_raw.get("DD"), "TED.DD") or {}
    caf = b.caf(doc, dd)
    ted = b.ted(dd)
    if id_doc is None or reader.problems:
        return None, reader.problems
    document = DteDocument(
        source=source,
        id_doc=id_doc,
        emisor=emisor,
        receptor=receptor,
        totales=totales,
        detalle=detalle,
        dsc_rcg_global=dr,
        referencias=refs,
        otra_moneda=otra,
        caf=caf,
        ted=ted,
        present=frozenset(b.present),
        location=base,
    )
    return document, []
