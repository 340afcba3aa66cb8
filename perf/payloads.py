"""Realistic request bodies for the perf suite, from the documented ERP contracts.

Everything here is deterministic for a given seed, so the runner can prime exactly the
documents the Locust users later ask for as "cached", and reruns send the same traffic.

- DTE (``POST /api/ai/validate``, original-ai-service.md §1.3.6 and §7.1): the flat Odoo
  form (``dte_data`` with ``tipo_dte``, ``folio``, RUTs, ``monto_*``; vendor ``history``;
  ``mode: "reception"``) and the XML form (``{"dte_xml": "<DTE ...>"}``). RUTs carry the
  right módulo-11 check digit (``stdnum.cl.rut``); IVA is ``round(19 % of neto)`` (half
  up) and the detail lines add up to the neto; notes (61, 56) reference a factura.
- Batch (``POST /api/ai/validate/batch``): ``{"documents": [dte_data, ...], "company_id"}``.
- Payroll (``POST /api/payroll/validate``, §7.4): the Odoo payslip with its extra keys;
  gratificación legal capped at 4.75 IMM / 12, AFP (10 % + the AFP's commission) and
  salud 7 % capped at the UF tope, AFC 0.6 %, impuesto único from the UTM table, the
  deductions negative as pwills85 ``l10n_cl_hr_payroll`` sends them.
- Indicators (``GET /api/payroll/indicators/{YYYY-MM}``): periods with published data.
- Chat (``/api/chat/message``, ``/api/chat/message/stream``, ``POST /api/chat``): Spanish
  questions about invoicing, payroll and Previred with the Odoo user context.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.sax.saxutils import escape

from stdnum.cl import rut as cl_rut

__all__ = [
    "INDICATOR_PERIODS",
    "batch_request",
    "chat_message_request",
    "chat_wizard_request",
    "dte_cached_pool",
    "dte_request",
    "indicators_path",
    "make_rut",
    "payroll_request",
]

TODAY = dt.date.today()


def _round(value: Decimal | float) -> int:
    """Half-up rounding to whole pesos, as the SII and Previred round."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def make_rut(body: int, *, dots: bool = False) -> str:
    """``76123456-0`` (or ``76.123.456-0``) with its módulo-11 check digit."""
    digits = str(body)
    formatted = f"{digits}-{cl_rut.calc_check_digit(digits)}"
    return cl_rut.format(formatted) if dots else formatted


# --- companies and vendors ---------------------------------------------------------------

_COMPANIES = {
    1: ("Constructora Andina SpA", 76_354_771),
    2: ("Agrícola Valle Central Ltda.", 77_120_845),
    3: ("Servicios Logísticos del Pacífico S.A.", 96_790_240),
    4: ("Comercializadora Austral SpA", 76_998_302),
    5: ("Clínica Dental Providencia Ltda.", 78_450_119),
}
_VENDOR_WORDS = (
    ("Distribuidora", "Ferretería", "Transportes", "Servicios", "Comercial", "Inversiones"),
    ("Los Andes", "del Maule", "Bío Bío", "Atacama", "Valparaíso", "Austral", "Norte Grande"),
    ("SpA", "Ltda.", "S.A.", "EIRL"),
)
_ITEMS = (
    ("Cemento especial 25 kg", 6_990),
    ("Fierro estriado 12 mm", 11_450),
    ("Arriendo grúa horquilla (día)", 185_000),
    ("Servicio de transporte Santiago-Rancagua", 320_000),
    ("Licencia software ERP (mes)", 450_000),
    ("Soporte técnico mensual", 250_000),
    ("Resma papel carta", 4_290),
    ("Mantención preventiva equipos", 95_000),
    ("Fertilizante NPK 50 kg", 38_900),
    ("Guantes de nitrilo (caja 100)", 8_750),
    ("Asesoría contable", 380_000),
    ("Combustible diésel (litro)", 1_089),
)


def _vendor(rng: random.Random) -> tuple[str, int]:
    name = " ".join(rng.choice(words) for words in _VENDOR_WORDS)
    return name, rng.randrange(76_000_000, 78_999_999)


# --- DTE ---------------------------------------------------------------------------------


def _lines(rng: random.Random, target_neto: int) -> list[tuple[str, int, int, int]]:
    """Detail lines ``(item, qty, unit price, line amount)`` adding up to about the target."""
    lines: list[tuple[str, int, int, int]] = []
    remaining = target_neto
    for _ in range(rng.randint(1, 4)):
        item, price = rng.choice(_ITEMS)
        qty = max(1, min(500, remaining // max(price, 1) // rng.randint(1, 3)))
        lines.append((item, qty, price, qty * price))
        remaining -= qty * price
        if remaining <= 0:
            break
    return lines


def _document(rng: random.Random, company_id: int) -> dict[str, Any]:
    """One received DTE as plain data (header, totals, lines, references)."""
    tipo = rng.choices((33, 34, 61, 56), weights=(75, 10, 10, 5))[0]
    vendor, vendor_rut = _vendor(rng)
    target = int(math.exp(rng.uniform(math.log(15_000), math.log(40_000_000))))
    lines = _lines(rng, target)
    neto = sum(line[3] for line in lines)
    issued = TODAY - dt.timedelta(days=rng.randint(0, 60))
    doc: dict[str, Any] = {
        "tipo": tipo,
        "folio": rng.randint(1, 2_500_000),
        "fecha": issued.isoformat(),
        "vendor": vendor,
        "vendor_rut": vendor_rut,
        "company_id": company_id,
        "lines": lines,
    }
    if tipo == 34:
        doc.update(neto=0, iva=0, exento=neto, total=neto)
    else:
        iva = _round(Decimal(neto) * Decimal("0.19"))
        doc.update(neto=neto, iva=iva, exento=0, total=neto + iva)
    if tipo in (61, 56):
        ref_date = issued - dt.timedelta(days=rng.randint(1, 30))
        doc["ref"] = {
            "tipo_doc_ref": "33",
            "folio_ref": str(rng.randint(1, 2_500_000)),
            "fecha_ref": ref_date.isoformat(),
            "cod_ref": 3,  # corrige montos
            "razon_ref": "Descuento por volumen" if tipo == 61 else "Intereses por mora",
        }
    return doc


def _flat(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    name, body = _COMPANIES[doc["company_id"]]
    data: dict[str, Any] = {
        "tipo_dte": str(doc["tipo"]),
        "folio": str(doc["folio"]),
        "fecha_emision": doc["fecha"],
        "rut_emisor": make_rut(doc["vendor_rut"]),
        "razon_social_emisor": doc["vendor"],
        "rut_receptor": make_rut(body),
        "razon_social_receptor": name,
        "monto_neto": float(doc["neto"]),
        "monto_iva": float(doc["iva"]),
        "monto_exento": float(doc["exento"]),
        "monto_total": float(doc["total"]),
    }
    if "ref" in doc:
        data["referencias"] = [doc["ref"]]
    return data


def _history(doc: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Earlier documents of the same vendor, as Odoo sends them (1 to 20 of them).

    Never empty: with a history to compare against, quipu's DTE plugin asks the model for a
    review (and caches it), which is the path the suite measures.
    """
    history = []
    folio = doc["folio"]
    for back in range(rng.choice((1, 2, 3, 5, 8, 12, 20))):
        neto = _round(doc["total"] / 1.19 * rng.uniform(0.6, 1.4)) if doc["total"] else 10_000
        iva = _round(Decimal(neto) * Decimal("0.19"))
        issued = dt.date.fromisoformat(doc["fecha"]) - dt.timedelta(days=30 * (back + 1))
        history.append(
            {
                "tipo_dte": "33",
                "folio": str(max(1, folio - (back + 1) * rng.randint(1, 40))),
                "fecha_emision": issued.isoformat(),
                "monto_total": float(neto + iva),
                "monto_neto": float(neto),
                "monto_iva": float(iva),
                "monto_exento": 0.0,
            }
        )
    return history


def _xml(doc: dict[str, Any]) -> str:
    name, body = _COMPANIES[doc["company_id"]]
    detail = "".join(
        f"<Detalle><NroLinDet>{n}</NroLinDet><NmbItem>{escape(item)}</NmbItem>"
        f"<QtyItem>{qty}</QtyItem><PrcItem>{price}</PrcItem><MontoItem>{amount}</MontoItem>"
        "</Detalle>"
        for n, (item, qty, price, amount) in enumerate(doc["lines"], start=1)
    )
    if doc["tipo"] == 34:
        totals = f"<MntExe>{doc['exento']}</MntExe><MntTotal>{doc['total']}</MntTotal>"
        detail = detail.replace("<NmbItem>", "<IndExe>1</IndExe><NmbItem>")
    else:
        totals = (
            f"<MntNeto>{doc['neto']}</MntNeto><TasaIVA>19</TasaIVA><IVA>{doc['iva']}</IVA>"
            f"<MntTotal>{doc['total']}</MntTotal>"
        )
    reference = ""
    if "ref" in doc:
        ref = doc["ref"]
        reference = (
            f"<Referencia><NroLinRef>1</NroLinRef><TpoDocRef>{ref['tipo_doc_ref']}</TpoDocRef>"
            f"<FolioRef>{ref['folio_ref']}</FolioRef><FchRef>{ref['fecha_ref']}</FchRef>"
            f"<CodRef>{ref['cod_ref']}</CodRef><RazonRef>{ref['razon_ref']}</RazonRef>"
            "</Referencia>"
        )
    tipo, folio = doc["tipo"], doc["folio"]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<DTE xmlns="http://www.sii.cl/SiiDte" version="1.0">'
        f'<Documento ID="F{folio}T{tipo}"><Encabezado>'
        f"<IdDoc><TipoDTE>{tipo}</TipoDTE><Folio>{folio}</Folio>"
        f"<FchEmis>{doc['fecha']}</FchEmis><FmaPago>2</FmaPago></IdDoc>"
        f"<Emisor><RUTEmisor>{make_rut(doc['vendor_rut'])}</RUTEmisor>"
        f"<RznSoc>{escape(doc['vendor'])}</RznSoc><GiroEmis>Comercio al por mayor</GiroEmis>"
        "<Acteco>469000</Acteco><DirOrigen>Av. Libertador Bernardo O'Higgins 1234</DirOrigen>"
        "<CmnaOrigen>Santiago</CmnaOrigen></Emisor>"
        f"<Receptor><RUTRecep>{make_rut(body)}</RUTRecep>"
        f"<RznSocRecep>{escape(name)}</RznSocRecep><GiroRecep>Construcción</GiroRecep>"
        "<DirRecep>Av. Apoquindo 4001</DirRecep><CmnaRecep>Las Condes</CmnaRecep></Receptor>"
        f"<Totales>{totals}</Totales></Encabezado>{detail}{reference}"
        "</Documento></DTE>"
    )


def dte_request(rng: random.Random, *, xml_share: float = 0.2) -> dict[str, Any]:
    """A ``POST /api/ai/validate`` body for a new, distinct document."""
    company_id = rng.choice(list(_COMPANIES))
    doc = _document(rng, company_id)
    if rng.random() < xml_share:
        return {"dte_data": {"dte_xml": _xml(doc)}, "company_id": company_id}
    return {
        "dte_data": _flat(doc, rng),
        "history": _history(doc, rng),
        "company_id": company_id,
        "mode": "reception",
    }


def dte_cached_pool(size: int, seed: int = 8) -> list[dict[str, Any]]:
    """The documents the suite asks for again and again (primed before measuring)."""
    rng = random.Random(seed)
    return [dte_request(rng) for _ in range(size)]


def batch_request(rng: random.Random, size: int | None = None) -> dict[str, Any]:
    """A ``POST /api/ai/validate/batch`` body: one company's documents of a day.

    Items are ``{"dte_data", "history"}`` (each vendor's own history) or, for some, the bare
    ``dte_data``.
    """
    company_id = rng.choice(list(_COMPANIES))
    documents: list[dict[str, Any]] = []
    for _ in range(size or rng.randint(3, 12)):
        doc = _document(rng, company_id)
        if rng.random() < 0.7:
            documents.append({"dte_data": _flat(doc, rng), "history": _history(doc, rng)})
        else:
            documents.append(_flat(doc, rng))
    return {"documents": documents, "company_id": company_id}


# --- payroll -----------------------------------------------------------------------------

#: period -> (IMM, UF at month end, UTM, AFP/salud tope UF, AFC tope UF)
_PAYROLL_PERIODS: dict[str, tuple[int, str, int, str, str]] = {
    "2025-07": (529_000, "39179.01", 68_923, "87.8", "131.9"),
    "2025-08": (529_000, "39383.07", 68_647, "87.8", "131.9"),
    "2025-09": (529_000, "39485.65", 69_265, "87.8", "131.9"),
    "2025-10": (529_000, "39597.67", 69_265, "87.8", "131.9"),
    "2025-11": (529_000, "39643.59", 69_542, "87.8", "131.9"),
    "2025-12": (529_000, "39727.96", 69_542, "87.8", "131.9"),
    "2026-01": (539_000, "39706.07", 69_751, "89.9", "135.1"),
    "2026-02": (539_000, "39790.63", 69_611, "90.0", "135.2"),
    "2026-03": (539_000, "39841.72", 69_889, "90.0", "135.2"),
    "2026-04": (539_000, "40120.20", 69_889, "90.0", "135.2"),
}
_AFP_COMMISSION = {
    "Capital": "1.44",
    "Cuprum": "1.44",
    "Habitat": "1.27",
    "Modelo": "0.58",
    "PlanVital": "1.16",
    "ProVida": "1.45",
    "Uno": "0.46",
}
#: Impuesto único de segunda categoría: (from UTM, rate, deduction in UTM).
_TAX = (
    (Decimal("310"), Decimal("0.40"), Decimal("38.82")),
    (Decimal("120"), Decimal("0.35"), Decimal("23.32")),
    (Decimal("90"), Decimal("0.304"), Decimal("17.8")),
    (Decimal("70"), Decimal("0.23"), Decimal("11.14")),
    (Decimal("50"), Decimal("0.135"), Decimal("4.49")),
    (Decimal("30"), Decimal("0.08"), Decimal("1.74")),
    (Decimal("13.5"), Decimal("0.04"), Decimal("0.54")),
)
_FIRST = ("Juan", "María", "José", "Francisca", "Camila", "Matías", "Valentina", "Diego")
_LAST = ("González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva")


def _impuesto(base: int, utm: int) -> int:
    in_utm = Decimal(base) / utm
    for start, rate, deduction in _TAX:
        if in_utm > start:
            return max(0, _round(Decimal(base) * rate - deduction * utm))
    return 0


def _line(code: str, name: str, category: str, amount: int) -> dict[str, Any]:
    value = float(amount)
    return {"code": code, "name": name, "category": category, "amount": value, "total": value}


def payroll_request(rng: random.Random, *, mistake_share: float = 0.05) -> dict[str, Any]:
    """A ``POST /api/payroll/validate`` body: one employee's slip of a recent month."""
    period = rng.choice(list(_PAYROLL_PERIODS))
    imm, uf, utm, tope_uf, afc_tope_uf = _PAYROLL_PERIODS[period]
    wage = _round(math.exp(rng.uniform(math.log(imm), math.log(6_000_000))) / 1000) * 1000
    extra = rng.choice((0, 0, 0, 45_000, 120_000))  # horas extra
    grat = min(_round(Decimal(wage + extra) / 4), _round(Decimal("4.75") * imm / 12))
    imponible = wage + grat + extra
    colacion, movilizacion = rng.choice(((0, 0), (50_000, 40_000), (80_000, 60_000)))
    afp_name, commission = rng.choice(list(_AFP_COMMISSION.items()))
    if afp_name == "Uno" and period < "2025-10":
        commission = "0.49"
    capped = min(Decimal(imponible), _round(Decimal(tope_uf) * Decimal(uf)))
    afp = _round(capped * (Decimal(10) + Decimal(commission)) / 100)
    salud = _round(capped * Decimal("0.07"))
    afc = _round(min(Decimal(imponible), Decimal(afc_tope_uf) * Decimal(uf)) * Decimal("0.006"))
    impuesto = _impuesto(imponible - afp - salud - afc, utm)
    if rng.random() < mistake_share:  # a slip with the wrong AFP commission
        afp = _round(capped * Decimal("0.1185"))
    haberes = imponible + colacion + movilizacion
    descuentos = afp + salud + afc + impuesto
    lines = [
        _line("BASIC", "Sueldo Base", "BASIC", wage),
        _line("GRAT", "Gratificación Legal", "ALW", grat),
    ]
    if extra:
        lines.append(_line("HEX50", "Horas Extra 50%", "ALW", extra))
    if colacion:
        lines.append(_line("COL", "Asignación de Colación", "ALW", colacion))
        lines.append(_line("MOV", "Asignación de Movilización", "ALW", movilizacion))
    lines += [
        _line("GROSS", "Total Haberes", "GROSS", haberes),
        _line("AFP", f"AFP {afp_name}", "DED", -afp),
        _line("SALUD", "Fonasa 7%", "DED", -salud),
        _line("AFC", "Seguro de Cesantía", "DED", -afc),
        _line("IMPUESTO_UNICO", "Impuesto Único", "DED", -impuesto),
        _line("NET", "Alcance Líquido", "NET", haberes - descuentos),
    ]
    year, month = (int(part) for part in period.split("-"))
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return {
        "employee_id": rng.randint(1, 5_000),
        "employee_name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {rng.choice(_LAST)}",
        "wage": float(wage),
        "lines": lines,
        "period": period,
        "date_from": f"{period}-01",
        "date_to": f"{period}-{last_day:02d}",
        "total_imponible": float(imponible),
        "total_haberes": float(haberes),
        "total_descuentos": float(descuentos),
        "total_liquido": float(haberes - descuentos),
    }


# --- Previred indicators -----------------------------------------------------------------

#: Months with published indicators (the monthly Odoo cron asks for one of these).
INDICATOR_PERIODS = tuple(f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)) + tuple(
    f"2026-{m:02d}" for m in range(1, 7)
)


def indicators_path(rng: random.Random) -> str:
    """``/api/payroll/indicators/YYYY-MM`` of a published month."""
    return f"/api/payroll/indicators/{rng.choice(INDICATOR_PERIODS)}"


# --- chat --------------------------------------------------------------------------------

_QUESTIONS = (
    "¿Cómo anulo la factura folio {folio} que emití con un monto equivocado?",
    "¿Qué plazo tengo para aceptar o reclamar la factura {folio} de mi proveedor?",
    "La factura {folio} tiene neto {neto} e IVA {iva}, ¿está bien calculado el IVA?",
    "¿Cuándo debo emitir una nota de débito en vez de una nota de crédito?",
    "¿Qué es el código de referencia 3 en una nota de crédito electrónica?",
    "¿Cuál es el tope imponible de AFP para {period} en pesos?",
    "¿Cómo calculo la gratificación legal de un sueldo de {wage} pesos?",
    "¿Cuánto es el seguro de cesantía del trabajador con contrato indefinido?",
    "¿Qué valor tiene la UF y la UTM en {period} según Previred?",
    "Un trabajador gana {wage} pesos, ¿cuánto impuesto único le corresponde?",
    "¿Puedo emitir una boleta electrónica a una empresa con RUT {rut}?",
    "¿Qué significa el rechazo 'RUT receptor no autorizado' del SII?",
    "¿Cómo registro en Odoo una guía de despacho sin venta?",
    "¿Cuál es la comisión de la AFP {afp} en {period}?",
    "¿Qué documentos necesito para cerrar el libro de compras de {period}?",
)
_ODOO_MODULES = ("l10n_cl_dte", "account", "hr_payroll", "purchase", "stock", "sale")


def _question(rng: random.Random) -> str:
    neto = rng.randrange(10_000, 5_000_000)
    return rng.choice(_QUESTIONS).format(
        folio=rng.randint(1, 2_500_000),
        neto=f"{neto:,}".replace(",", "."),
        iva=f"{_round(Decimal(neto) * Decimal('0.19')):,}".replace(",", "."),
        period=rng.choice(INDICATOR_PERIODS[-12:]),
        wage=f"{rng.randrange(539, 4_000) * 1000:,}".replace(",", "."),
        rut=make_rut(rng.randrange(76_000_000, 78_999_999), dots=True),
        afp=rng.choice(list(_AFP_COMMISSION)),
    )


def chat_message_request(rng: random.Random, session_id: str | None = None) -> dict[str, Any]:
    """A ``POST /api/chat/message`` (or ``/stream``) body from the Odoo chat mixin."""
    company_id = rng.choice(list(_COMPANIES))
    name, body = _COMPANIES[company_id]
    return {
        "session_id": session_id or str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "message": _question(rng),
        "user_context": {
            "company_name": name,
            "company_rut": make_rut(body, dots=True),
            "company_id": company_id,
            "user_role": rng.choice(("Administrador", "Usuario")),
            "environment": rng.choice(("Producción", "Sandbox (Maullin)")),
            "language": "es_CL",
        },
    }


def chat_wizard_request(rng: random.Random) -> dict[str, Any]:
    """A ``POST /api/chat`` body from Odoo's universal chat wizard (§7.3)."""
    company_id = rng.choice(list(_COMPANIES))
    name, _ = _COMPANIES[company_id]
    uid = rng.randint(2, 400)
    session = f"chat_{uid}_{rng.getrandbits(32):08x}"
    return {
        "message": _question(rng),
        "session_id": session,
        "context": {
            "user": {
                "id": uid,
                "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                "login": f"usuario{uid}@example.cl",
                "company_id": company_id,
                "company_name": name,
                "language": "es_CL",
            },
            "odoo": {
                "active_model": "account.move",
                "active_id": rng.randint(1, 90_000),
                "active_record_name": f"FAC {rng.randint(1, 2_500_000)}",
            },
            "session_id": session,
            "module": rng.choice(_ODOO_MODULES),
        },
        "stream": True,
    }
