"""Static SII code tables: document types, additional taxes, enumerations.

Sources are the short names of domain-chile.md (SII-FORMATO, SII-XSD, LibreDTE).
"""

from decimal import Decimal
from typing import Final, Literal

import msgspec

__all__ = [
    "BOLETA_TYPES",
    "CODREF",
    "DOC_TYPES",
    "EXEMPT_TYPES",
    "EXPORT_TYPES",
    "FMA_PAGO",
    "IND_EXE",
    "IND_EXE_DR",
    "IND_SERVICIO",
    "IND_SERVICIO_BOLETA",
    "IND_TRASLADO",
    "MEDIO_PAGO",
    "NOTE_TYPES",
    "REFERENCE_ONLY_TYPES",
    "SPECIAL_RUTS",
    "TAXES",
    "TIPO_DESPACHO",
    "DocType",
    "TaxCode",
]


class DocType(msgspec.Struct, frozen=True, kw_only=True):
    """What the rules need to know about one SII document type."""

    code: int
    name: str
    #: No IVA, no MntNeto, no TasaIVA (34, 41, exports) — SII-FORMATO, A13.
    exempt: bool = False
    #: EnvioBOLETA_v11 schema: line amounts include IVA (A15).
    boleta: bool = False
    export: bool = False
    #: Referencia zone obligatoriedad 1 (R1).
    needs_reference: bool = False
    #: Amounts may be negative only in Liquidación-Factura (A3, A16).
    negative_allowed: bool = False
    #: DscRcgGlobal zone obligatoriedad 0 for guía and liquidación-factura.
    global_dr_allowed: bool = True
    #: RUTOtr allowed (R6: 46, 56, 61 and exports 110–112).
    rut_otro_allowed: bool = False
    #: CredEC: conditional on 33/56/61, optional on 52, not allowed on 34/46 (A11).
    cred_ec_allowed: bool = False
    #: Comisiones zone only on NC, ND, FC, LF (SII-FORMATO p.9).
    comisiones_allowed: bool = False


DOC_TYPES: Final[dict[int, DocType]] = {
    d.code: d
    for d in (
        DocType(code=33, name="Factura Electrónica", cred_ec_allowed=True),
        DocType(code=34, name="Factura No Afecta o Exenta Electrónica", exempt=True),
        DocType(code=39, name="Boleta Electrónica", boleta=True),
        DocType(code=41, name="Boleta Exenta Electrónica", boleta=True, exempt=True),
        DocType(
            code=43,
            name="Liquidación-Factura Electrónica",
            negative_allowed=True,
            global_dr_allowed=False,
            comisiones_allowed=True,
        ),
        DocType(
            code=46,
            name="Factura de Compra Electrónica",
            rut_otro_allowed=True,
            comisiones_allowed=True,
        ),
        DocType(
            code=52,
            name="Guía de Despacho Electrónica",
            global_dr_allowed=False,
            cred_ec_allowed=True,
        ),
        DocType(
            code=56,
            name="Nota de Débito Electrónica",
            needs_reference=True,
            rut_otro_allowed=True,
            cred_ec_allowed=True,
            comisiones_allowed=True,
        ),
        DocType(
            code=61,
            name="Nota de Crédito Electrónica",
            needs_reference=True,
            rut_otro_allowed=True,
            cred_ec_allowed=True,
            comisiones_allowed=True,
        ),
        DocType(
            code=110,
            name="Factura de Exportación Electrónica",
            exempt=True,
            export=True,
            rut_otro_allowed=True,
        ),
        DocType(
            code=111,
            name="Nota de Débito de Exportación Electrónica",
            exempt=True,
            export=True,
            needs_reference=True,
            rut_otro_allowed=True,
        ),
        DocType(
            code=112,
            name="Nota de Crédito de Exportación Electrónica",
            exempt=True,
            export=True,
            needs_reference=True,
            rut_otro_allowed=True,
        ),
    )
}

EXEMPT_TYPES: Final = frozenset(c for c, d in DOC_TYPES.items() if d.exempt)
BOLETA_TYPES: Final = frozenset(c for c, d in DOC_TYPES.items() if d.boleta)
EXPORT_TYPES: Final = frozenset(c for c, d in DOC_TYPES.items() if d.export)
NOTE_TYPES: Final = frozenset({56, 61, 111, 112})

#: TpoDocRef values that are not tax documents (SII-FORMATO p.41).
REFERENCE_ONLY_TYPES: Final = frozenset({*range(801, 816), 820})

#: 55.555.555-5 foreign receiver, 66.666.666-6 anonymous boleta buyer,
#: 60.805.000-0 Tesorería for DIN imports (domain-chile.md §1.1).
SPECIAL_RUTS: Final = frozenset({"55555555-5", "66666666-6", "60805000-0"})


class TaxCode(msgspec.Struct, frozen=True, kw_only=True):
    """One ``TipoImp``/``CodImpAdic`` code (domain-chile.md §2.4, LibreDTE table)."""

    code: str
    #: "A" adds to MntTotal, "R" is a retention subtracted from it (A8).
    kind: Literal["A", "R"]
    rate: Decimal | None
    name: str
    #: False for codes whose base is not Σ MontoItem (diesel, gasoline, faenamiento),
    #: so MontoImp cannot be recomputed from the lines (A9).
    rate_based: bool = True


def _taxes() -> dict[str, TaxCode]:
    rows: list[tuple[str, Literal["A", "R"], str | None, str, bool]] = [
        ("15", "R", "19", "IVA retenido total", True),
        ("17", "A", "5", "IVA anticipado faenamiento carne", False),
        ("18", "A", "5", "IVA anticipado carne", True),
        ("19", "A", "12", "IVA anticipado harina", True),
        ("23", "A", "15", "Impuesto art. 37 a, b, c (oro, joyas, pieles)", True),
        ("24", "A", "31.5", "Licores, pisco, destilados (art. 42 a)", True),
        ("25", "A", "20.5", "Vinos", True),
        ("26", "A", "20.5", "Cervezas y bebidas alcohólicas", True),
        ("27", "A", "10", "Bebidas analcohólicas y minerales", True),
        ("271", "A", "18", "Bebidas analcohólicas con elevado contenido de azúcares", True),
        ("28", "A", None, "Impuesto específico diésel", False),
        ("35", "A", None, "Impuesto específico gasolina", False),
        ("30", "R", "10", "IVA retenido legumbres", True),
        ("36", "R", "10", "IVA retenido arroz", True),
        ("37", "R", "10", "IVA retenido hidrobiológicas", True),
        ("31", "R", "19", "IVA retenido silvestres", True),
        ("38", "R", "19", "IVA retenido chatarra", True),
        ("39", "R", "19", "IVA retenido PPA", True),
        ("41", "R", "19", "IVA retenido construcción", True),
        ("47", "R", "19", "IVA retenido cartones", True),
        ("32", "R", "8", "IVA retenido ganado", True),
        ("33", "R", "8", "IVA retenido madera", True),
        ("34", "R", "4", "IVA retenido trigo", True),
        ("44", "A", "15", "Impuesto art. 37 e, h, i, l", True),
        ("45", "A", "50", "Impuesto art. 37 j (pirotecnia)", True),
        ("48", "R", "14", "IVA retenido frambuesas y pasas", True),
    ]
    return {
        code: TaxCode(
            code=code,
            kind=kind,
            rate=Decimal(rate) if rate is not None else None,
            name=name,
            rate_based=rate_based and rate is not None,
        )
        for code, kind, rate, name, rate_based in rows
    }


TAXES: Final = _taxes()

# Enumerations (DTE_v10.xsd annotations, SII-FORMATO; domain-chile.md §2.2).
IND_EXE: Final = frozenset(range(1, 7))
IND_TRASLADO: Final = frozenset(range(1, 10))
TIPO_DESPACHO: Final = frozenset({1, 2, 3})
FMA_PAGO: Final = frozenset({1, 2, 3})
CODREF: Final = frozenset({"1", "2", "3"})
IND_SERVICIO: Final = frozenset({1, 2, 3, 4, 5, 6})
IND_SERVICIO_BOLETA: Final = frozenset({1, 2, 3, 4})
IND_EXE_DR: Final = frozenset({1, 2})
MEDIO_PAGO: Final = frozenset({"CH", "CF", "LT", "EF", "PE", "TC", "OT"})
