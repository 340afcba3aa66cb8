"""Normalised, immutable model of a DTE (DTE_v10 / EnvioBOLETA_v11 shapes).

Field names are snake_case renderings of the SII element names; the SII path of
each field is given in its comment so findings can point at ``Encabezado.…``.
Every money, quantity, price and percentage is a :class:`~decimal.Decimal`
(never a float). Optional fields are ``None`` when absent; :attr:`DteDocument.present`
records which SII paths carried a value, so "required field missing" can be
told apart from "present but zero".
"""

from datetime import date
from decimal import Decimal
from typing import Any, Literal

import msgspec

__all__ = [
    "Caf",
    "Comisiones",
    "DescuentoRecargo",
    "DteDocument",
    "Emisor",
    "Envelope",
    "IdDoc",
    "ImpuestoRetencion",
    "Linea",
    "OtraMoneda",
    "ParsedDocuments",
    "Receptor",
    "Referencia",
    "SourceKind",
    "Timbre",
    "Totales",
]

SourceKind = Literal["flat", "xml", "json"]


class IdDoc(msgspec.Struct, frozen=True, kw_only=True):
    """``Encabezado.IdDoc``."""

    tipo_dte: int  # TipoDTE
    folio: int | None = None  # Folio
    fecha_emision: date | None = None  # FchEmis
    ind_no_rebaja: int | None = None  # IndNoRebaja (NC only)
    tipo_despacho: int | None = None  # TipoDespacho
    ind_traslado: int | None = None  # IndTraslado (guía)
    tpo_impresion: str | None = None  # TpoImpresion
    ind_servicio: int | None = None  # IndServicio
    mnt_bruto: int | None = None  # MntBruto (=1: line amounts include IVA)
    ind_mnt_neto: int | None = None  # IndMntNeto (boleta: =2 line amounts are net)
    fma_pago: int | None = None  # FmaPago
    fecha_cancelacion: date | None = None  # FchCancel
    fecha_vencimiento: date | None = None  # FchVenc
    periodo_desde: date | None = None  # PeriodoDesde
    periodo_hasta: date | None = None  # PeriodoHasta
    medio_pago: str | None = None  # MedioPago


class Emisor(msgspec.Struct, frozen=True, kw_only=True):
    """``Encabezado.Emisor`` (boletas use RznSocEmisor/GiroEmisor, mapped here)."""

    rut: str | None = None  # RUTEmisor
    razon_social: str | None = None  # RznSoc / RznSocEmisor
    giro: str | None = None  # GiroEmis / GiroEmisor
    acteco: tuple[str, ...] = ()  # Acteco [1..4]
    correo: str | None = None  # CorreoEmisor
    sucursal: str | None = None  # Sucursal
    cdg_sii_sucur: str | None = None  # CdgSIISucur
    direccion: str | None = None  # DirOrigen
    comuna: str | None = None  # CmnaOrigen
    ciudad: str | None = None  # CiudadOrigen
    cdg_traslado: int | None = None  # GuiaExport.CdgTraslado
    folio_aut: str | None = None  # GuiaExport.FolioAut
    fecha_aut: date | None = None  # GuiaExport.FchAut


class Receptor(msgspec.Struct, frozen=True, kw_only=True):
    """``Encabezado.Receptor``."""

    rut: str | None = None  # RUTRecep
    razon_social: str | None = None  # RznSocRecep
    giro: str | None = None  # GiroRecep
    contacto: str | None = None  # Contacto
    correo: str | None = None  # CorreoRecep
    direccion: str | None = None  # DirRecep
    comuna: str | None = None  # CmnaRecep
    ciudad: str | None = None  # CiudadRecep


class ImpuestoRetencion(msgspec.Struct, frozen=True, kw_only=True):
    """One ``Totales.ImptoReten`` entry (additional tax or retention)."""

    tipo_imp: str | None = None  # TipoImp
    tasa_imp: Decimal | None = None  # TasaImp
    monto_imp: Decimal | None = None  # MontoImp


class Comisiones(msgspec.Struct, frozen=True, kw_only=True):
    """``Totales.Comisiones`` (liquidación-factura and notes)."""

    val_com_neto: Decimal | None = None
    val_com_exe: Decimal | None = None
    val_com_iva: Decimal | None = None


class Totales(msgspec.Struct, frozen=True, kw_only=True):
    """``Encabezado.Totales``."""

    mnt_neto: Decimal | None = None  # MntNeto
    mnt_exe: Decimal | None = None  # MntExe
    mnt_base: Decimal | None = None  # MntBase
    tasa_iva: Decimal | None = None  # TasaIVA
    iva: Decimal | None = None  # IVA
    iva_prop: Decimal | None = None  # IVAProp
    iva_terc: Decimal | None = None  # IVATerc
    impto_reten: tuple[ImpuestoRetencion, ...] = ()  # ImptoReten [0..20]
    iva_no_ret: Decimal | None = None  # IVANoRet
    cred_ec: Decimal | None = None  # CredEC
    grnt_dep: Decimal | None = None  # GrntDep
    comisiones: Comisiones | None = None  # Comisiones
    mnt_total: Decimal | None = None  # MntTotal
    monto_nf: Decimal | None = None  # MontoNF
    monto_periodo: Decimal | None = None  # MontoPeriodo
    saldo_anterior: Decimal | None = None  # SaldoAnterior
    vlr_pagar: Decimal | None = None  # VlrPagar


class OtraMoneda(msgspec.Struct, frozen=True, kw_only=True):
    """``Encabezado.OtraMoneda`` (mandatory on exports)."""

    tpo_moneda: str | None = None
    tpo_cambio: Decimal | None = None
    mnt_exe_otr_mnda: Decimal | None = None
    mnt_tot_otr_mnda: Decimal | None = None


class Linea(msgspec.Struct, frozen=True, kw_only=True):
    """One ``Detalle`` line."""

    nro_lin_det: int | None = None  # NroLinDet
    codigos: tuple[str, ...] = ()  # CdgItem.VlrCodigo
    ind_exe: int | None = None  # IndExe
    nombre: str | None = None  # NmbItem
    descripcion: str | None = None  # DscItem
    cantidad: Decimal | None = None  # QtyItem
    unidad: str | None = None  # UnmdItem
    precio: Decimal | None = None  # PrcItem
    descuento_pct: Decimal | None = None  # DescuentoPct
    descuento_monto: Decimal | None = None  # DescuentoMonto
    recargo_pct: Decimal | None = None  # RecargoPct
    recargo_monto: Decimal | None = None  # RecargoMonto
    cod_imp_adic: tuple[str, ...] = ()  # CodImpAdic [0..2]
    monto_item: Decimal | None = None  # MontoItem


class DescuentoRecargo(msgspec.Struct, frozen=True, kw_only=True):
    """One ``DscRcgGlobal`` entry."""

    nro_lin: int | None = None  # NroLinDR
    tipo_mov: str | None = None  # TpoMov: D / R
    glosa: str | None = None  # GlosaDR
    tipo_valor: str | None = None  # TpoValor: % / $
    valor: Decimal | None = None  # ValorDR
    ind_exe: int | None = None  # IndExeDR: 1 exempt items, 2 non-billable


class Referencia(msgspec.Struct, frozen=True, kw_only=True):
    """One ``Referencia`` entry."""

    nro_lin_ref: int | None = None  # NroLinRef
    tipo_doc_ref: str | None = None  # TpoDocRef (1–3 chars, may be alphabetic)
    ind_global: int | None = None  # IndGlobal
    folio_ref: str | None = None  # FolioRef (1–18 chars)
    rut_otro: str | None = None  # RUTOtr
    fecha_ref: date | None = None  # FchRef
    cod_ref: str | None = None  # CodRef (1, 2, 3; free text on boletas)
    razon_ref: str | None = None  # RazonRef


class Caf(msgspec.Struct, frozen=True, kw_only=True):
    """Folio authorisation range (``TED.DD.CAF.DA``)."""

    rut_emisor: str | None = None  # DA.RE
    tipo_dte: int | None = None  # DA.TD
    folio_desde: int | None = None  # DA.RNG.D
    folio_hasta: int | None = None  # DA.RNG.H
    fecha_autorizacion: date | None = None  # DA.FA


class Timbre(msgspec.Struct, frozen=True, kw_only=True):
    """The ``TED.DD`` data that must mirror the document (§2.7)."""

    rut_emisor: str | None = None  # RE
    tipo_dte: int | None = None  # TD
    folio: int | None = None  # F
    fecha_emision: date | None = None  # FE
    rut_receptor: str | None = None  # RR
    razon_social_receptor: str | None = None  # RSR
    monto_total: Decimal | None = None  # MNT
    item1: str | None = None  # IT1


class DteDocument(msgspec.Struct, frozen=True, kw_only=True):
    """One normalised DTE, independent of the input form it came from."""

    source: SourceKind
    id_doc: IdDoc
    emisor: Emisor = msgspec.field(default_factory=Emisor)
    receptor: Receptor = msgspec.field(default_factory=Receptor)
    totales: Totales = msgspec.field(default_factory=Totales)
    detalle: tuple[Linea, ...] = ()
    dsc_rcg_global: tuple[DescuentoRecargo, ...] = ()
    referencias: tuple[Referencia, ...] = ()
    otra_moneda: OtraMoneda | None = None
    caf: Caf | None = None
    ted: Timbre | None = None
    #: SII paths (``Encabezado.Totales.IVA``, ``Detalle``…) that carried a value.
    present: frozenset[str] = frozenset()
    #: Where this document sits in the input (``dte_xml.SetDTE.DTE[1]``), for messages.
    location: str = "dte_data"

    @property
    def tipo_dte(self) -> int:
        """SII document type code."""
        return self.id_doc.tipo_dte

    @property
    def folio(self) -> int | None:
        """Folio number, if present."""
        return self.id_doc.folio

    @property
    def natural_key(self) -> str:
        """``RUTEmisor/TipoDTE/Folio`` — the DTE natural key (cl-sii ``DteNaturalKey``)."""
        folio = "?" if self.folio is None else self.folio
        return f"{self.emisor.rut or '?'}/{self.tipo_dte}/{folio}"

    def canonical(self) -> dict[str, Any]:
        """Deterministic builtin form of the document content, for cache keys.

        Decimals become plain strings (the parser already normalised ``119000.0``
        to ``119000``), dates ISO strings and ``present`` a sorted list.
        ``location`` is left out because it describes the envelope, not the content.
        """
        data: dict[str, Any] = msgspec.to_builtins(self, order="deterministic")
        data.pop("location", None)
        return data

    def canonical_json(self) -> bytes:
        """:meth:`canonical` encoded as compact, key-sorted JSON bytes (hash this)."""
        return msgspec.json.encode(self.canonical(), order="sorted")


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """``EnvioDTE``/``EnvioBOLETA`` carátula data (absent for a bare DTE)."""

    rut_emisor: str | None = None  # RutEmisor
    rut_envia: str | None = None  # RutEnvia
    rut_receptor: str | None = None  # RutReceptor
    fecha_resolucion: date | None = None  # FchResol
    nro_resolucion: int | None = None  # NroResol
    declared_counts: tuple[tuple[int, int], ...] = ()  # SubTotDTE (TpoDTE, NroDTE)


class ParsedDocuments(msgspec.Struct, frozen=True, kw_only=True):
    """Result of :func:`quipu_dte.parse.parse_dte_data`: one or more documents."""

    source: SourceKind
    documents: tuple[DteDocument, ...]
    envelope: Envelope | None = None

    @property
    def single(self) -> DteDocument:
        """The first (usually the only) document."""
        return self.documents[0]
