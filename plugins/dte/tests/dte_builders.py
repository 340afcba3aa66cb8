"""Builders for valid DTE documents (SII-named JSON form) used across the tests.

Amounts are worked out by hand in the comments, independently of the library.
"""

import copy
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

TODAY = date(2025, 10, 23)
EMISOR = "76354771-K"  # real emisor RUT from cl-sii test data (domain-chile.md §1.3)
RECEPTOR = "96790240-3"


def _encabezado(tipo: int, folio: int, totales: dict[str, Any], **iddoc: Any) -> dict[str, Any]:
    return {
        "IdDoc": {"TipoDTE": tipo, "Folio": folio, "FchEmis": "2025-10-20", **iddoc},
        "Emisor": {
            "RUTEmisor": EMISOR,
            "RznSoc": "Servicios Informáticos y Compañía Ltda.",
            "GiroEmis": "Desarrollo de software y asesorías",
            "Acteco": 620200,
            "DirOrigen": "Av. Grecia 2001",
            "CmnaOrigen": "Peñalolén",
            "CiudadOrigen": "Santiago",
        },
        "Receptor": {
            "RUTRecep": RECEPTOR,
            "RznSocRecep": "Minera Los Pelambres",
            "GiroRecep": "Minería",
            "DirRecep": "Av. Apoquindo 4001",
            "CmnaRecep": "Las Condes",
        },
        "Totales": totales,
    }


def _ted(
    tipo: int, folio: int, total: int, receptor: str, item: str, caf_to: int
) -> dict[str, Any]:
    return {
        "DD": {
            "RE": EMISOR,
            "TD": tipo,
            "F": folio,
            "FE": "2025-10-20",
            "RR": receptor,
            "RSR": "Minera Los Pelambres",
            "MNT": total,
            "IT1": item,
            "CAF": {
                "DA": {
                    "RE": EMISOR,
                    "RS": "SERVICIOS INFORMATICOS Y CIA",
                    "TD": tipo,
                    "RNG": {"D": 1, "H": caf_to},
                    "FA": "2025-06-01",
                }
            },
            "TSTED": "2025-10-20T10:15:30",
        }
    }


def factura_33() -> dict[str, Any]:
    """Factura afecta.

    Lines: 2 × 450.000 = 900.000; 250.000 − 10% (25.000) = 225.000;
    3 × 8.942,86 = 26.828,58 → 26.829. Neto 1.151.829; IVA 19% = 218.847,51 →
    218.848; total 1.370.677.
    """
    doc = {
        "Encabezado": _encabezado(
            33,
            170,
            {"MntNeto": 1151829, "TasaIVA": 19, "IVA": 218848, "MntTotal": 1370677},
            FmaPago=2,
            FchVenc="2025-11-19",
        ),
        "Detalle": [
            {
                "NroLinDet": 1,
                "NmbItem": "Licencia software ERP",
                "QtyItem": 2,
                "UnmdItem": "UN",
                "PrcItem": 450000,
                "MontoItem": 900000,
            },
            {
                "NroLinDet": 2,
                "NmbItem": "Soporte mensual",
                "QtyItem": 1,
                "PrcItem": 250000,
                "DescuentoPct": 10,
                "DescuentoMonto": 25000,
                "MontoItem": 225000,
            },
            {
                "NroLinDet": 3,
                "NmbItem": "Capacitación usuarios",
                "QtyItem": 3,
                "PrcItem": "8942.86",
                "MontoItem": 26829,
            },
        ],
        "Referencia": [
            {
                "NroLinRef": 1,
                "TpoDocRef": "801",
                "FolioRef": "OC-4471",
                "FchRef": "2025-10-01",
                "RazonRef": "Orden de compra",
            },
        ],
    }
    doc["TED"] = _ted(33, 170, 1370677, RECEPTOR, "Licencia software ERP", 500)
    return doc


def nota_credito_61() -> dict[str, Any]:
    """Credit note correcting amounts of factura 170: 1 × 100.000, IVA 19.000, total 119.000."""
    doc = {
        "Encabezado": _encabezado(
            61, 45, {"MntNeto": 100000, "TasaIVA": 19, "IVA": 19000, "MntTotal": 119000}
        ),
        "Detalle": [
            {
                "NroLinDet": 1,
                "NmbItem": "Descuento por volumen licencias",
                "QtyItem": 1,
                "PrcItem": 100000,
                "MontoItem": 100000,
            },
        ],
        "Referencia": [
            {
                "NroLinRef": 1,
                "TpoDocRef": "33",
                "FolioRef": "170",
                "FchRef": "2025-10-20",
                "CodRef": 3,
                "RazonRef": "Corrige montos",
            },
        ],
    }
    doc["TED"] = _ted(61, 45, 119000, RECEPTOR, "Descuento por volumen licencias", 100)
    return doc


def factura_exenta_34() -> dict[str, Any]:
    """Exempt invoice: 1 × 500.000 exento; total 500.000."""
    return {
        "Encabezado": _encabezado(34, 88, {"MntExe": 500000, "MntTotal": 500000}, FmaPago=1),
        "Detalle": [
            {
                "NroLinDet": 1,
                "NmbItem": "Asesoría educacional exenta",
                "QtyItem": 1,
                "PrcItem": 500000,
                "MontoItem": 500000,
            },
        ],
    }


def boleta_39() -> dict[str, Any]:
    """Boleta with gross prices: 2 × 1.990 + 4.500 = 8.480.

    Neto round(8.480 / 1,19) = 7.126; IVA 8.480 − 7.126 = 1.354.
    """
    enc = _encabezado(39, 9001, {"MntNeto": 7126, "IVA": 1354, "MntTotal": 8480}, IndServicio=3)
    enc["Emisor"] = {
        "RUTEmisor": EMISOR,
        "RznSocEmisor": "Servicios Informáticos y Compañía Ltda.",
        "GiroEmisor": "Cafetería",
    }
    enc["Receptor"] = {"RUTRecep": "66666666-6"}
    return {
        "Encabezado": enc,
        "Detalle": [
            {
                "NroLinDet": 1,
                "NmbItem": "Café americano",
                "QtyItem": 2,
                "PrcItem": 1990,
                "MontoItem": 3980,
            },
            {
                "NroLinDet": 2,
                "NmbItem": "Sándwich",
                "QtyItem": 1,
                "PrcItem": 4500,
                "MontoItem": 4500,
            },
        ],
    }


def guia_52() -> dict[str, Any]:
    """Guía for an internal transfer (IndTraslado 5): lines valued at 0, total 0."""
    enc = _encabezado(52, 3021, {"MntTotal": 0}, IndTraslado=5, TipoDespacho=2)
    enc["Receptor"] = {"RUTRecep": EMISOR, "RznSocRecep": "Bodega Quilicura (misma empresa)"}
    return {
        "Encabezado": enc,
        "Detalle": [
            {
                "NroLinDet": 1,
                "NmbItem": "Notebook 14 pulgadas",
                "QtyItem": 5,
                "PrcItem": 650000,
                "MontoItem": 0,
            },
            {"NroLinDet": 2, "NmbItem": "Monitor 27 pulgadas", "QtyItem": 5, "MontoItem": 0},
        ],
    }


def factura_33_con_impuesto() -> dict[str, Any]:
    """Factura with an additional tax (code 27, bebidas analcohólicas 10%).

    Lines of factura_33 plus 10 × 1.000 = 10.000 with CodImpAdic 27 → MontoImp 1.000.
    Neto 1.161.829; IVA 220.747,51 → 220.748; total 1.161.829 + 220.748 + 1.000 = 1.383.577.
    """
    doc = factura_33()
    doc.pop("TED")
    doc["Detalle"].append(
        {
            "NroLinDet": 4,
            "NmbItem": "Bebida 500 ml",
            "QtyItem": 10,
            "PrcItem": 1000,
            "CodImpAdic": 27,
            "MontoItem": 10000,
        }
    )
    doc["Encabezado"]["Totales"] = {
        "MntNeto": 1161829,
        "TasaIVA": 19,
        "IVA": 220748,
        "ImptoReten": {"TipoImp": 27, "TasaImp": 10, "MontoImp": 1000},
        "MntTotal": 1383577,
    }
    return doc


def factura_compra_46() -> dict[str, Any]:
    """Purchase invoice with full IVA retention (code 15): neto 100.000, IVA 19.000 retained.

    MntTotal = 100.000 + 19.000 − 19.000 = 100.000; IVANoRet = 0.
    """
    enc = _encabezado(
        46,
        77,
        {
            "MntNeto": 100000,
            "TasaIVA": 19,
            "IVA": 19000,
            "ImptoReten": [{"TipoImp": 15, "TasaImp": 19, "MontoImp": 19000}],
            "IVANoRet": 0,
            "MntTotal": 100000,
        },
        FmaPago=1,
    )
    enc["Receptor"] = {"RUTRecep": "12345678-5", "RznSocRecep": "Juan Pérez (vendedor)"}
    return {
        "Encabezado": enc,
        "Detalle": [
            {
                "NroLinDet": 1,
                "NmbItem": "Chatarra de cobre",
                "QtyItem": 200,
                "UnmdItem": "KG",
                "PrcItem": 500,
                "CodImpAdic": 15,
                "MontoItem": 100000,
            },
        ],
    }


def exportacion_110() -> dict[str, Any]:
    """Export invoice in USD: 10 × 1.500,50 = 15.005; CLP equivalent at 950."""
    enc = _encabezado(
        110,
        12,
        {"MntExe": "15005", "MntTotal": "15005"},
        FmaPago=1,
    )
    enc["Receptor"] = {"RUTRecep": "55555555-5", "RznSocRecep": "Copper Imports Inc."}
    enc["OtraMoneda"] = {
        "TpoMoneda": "PESO CL",
        "TpoCambio": 950,
        "MntExeOtrMnda": 14254750,
        "MntTotOtrMnda": 14254750,
    }
    return {
        "Encabezado": enc,
        "Detalle": [
            {
                "NroLinDet": 1,
                "IndExe": 1,
                "NmbItem": "Cátodos de cobre",
                "QtyItem": 10,
                "UnmdItem": "TON",
                "PrcItem": "1500.50",
                "MontoItem": "15005",
            },
        ],
    }


def nota_credito_exportacion_112() -> dict[str, Any]:
    """Export credit note annulling export invoice 12."""
    doc = exportacion_110()
    doc["Encabezado"]["IdDoc"].update({"TipoDTE": 112, "Folio": 3})
    doc["Encabezado"]["IdDoc"].pop("FmaPago")
    doc["Referencia"] = [
        {
            "NroLinRef": 1,
            "TpoDocRef": "110",
            "FolioRef": "12",
            "FchRef": "2025-10-20",
            "CodRef": 1,
            "RazonRef": "Anula factura",
        }
    ]
    return doc


def factura_lineas(n: int) -> dict[str, Any]:
    """Factura with ``n`` lines of 1 × 1.000; neto n·1.000, IVA 19%, no TED."""
    neto = 1000 * n
    iva = (neto * 19 + 50) // 100
    doc = factura_33()
    doc.pop("TED")
    doc["Detalle"] = [
        {
            "NroLinDet": i + 1,
            "NmbItem": f"Ítem {i + 1}",
            "QtyItem": 1,
            "PrcItem": 1000,
            "MontoItem": 1000,
        }
        for i in range(n)
    ]
    doc["Encabezado"]["Totales"] = {
        "MntNeto": neto,
        "TasaIVA": 19,
        "IVA": iva,
        "MntTotal": neto + iva,
    }
    return doc


def flat_odoo() -> dict[str, Any]:
    """Odoo's flat reception payload (original-ai-service.md §7.1), strings and numbers mixed."""
    return {
        "tipo_dte": "33",
        "folio": "12345",
        "fecha_emision": "2025-10-20",
        "rut_emisor": "76.354.771-K",
        "razon_social_emisor": "Proveedor SpA",
        "monto_total": 119000.0,
        "monto_neto": 100000.0,
        "monto_iva": "19000",
        "monto_exento": 0,
        "mode": "reception",
    }


def clone(doc: dict[str, Any]) -> dict[str, Any]:
    """Deep copy (the builders return fresh dicts, but mutations in tests chain)."""
    return copy.deepcopy(doc)


def to_xml(tag: str, value: Any, indent: str = "") -> str:
    """Render a SII-named dict as XML elements (lists become repeated elements)."""
    if isinstance(value, list):
        return "".join(to_xml(tag, item, indent) for item in value)
    if isinstance(value, dict):
        inner = "".join(to_xml(k, v, indent + "  ") for k, v in value.items())
        return f"{indent}<{tag}>\n{inner}{indent}</{tag}>\n"
    return f"{indent}<{tag}>{escape(str(value))}</{tag}>\n"


def dte_xml(doc: dict[str, Any], *, namespace: bool = True, folio_id: str = "F1") -> str:
    """A bare ``<DTE>`` around ``doc`` (no XML declaration)."""
    ns = ' xmlns="http://www.sii.cl/SiiDte"' if namespace else ""
    body = "".join(to_xml(k, v, "    ") for k, v in doc.items())
    return (
        f'<DTE{ns} version="1.0">\n  <Documento ID="{folio_id}">\n{body}'
        "    <TmstFirma>2025-10-20T10:15:30</TmstFirma>\n  </Documento>\n</DTE>\n"
    )
