"""Micro-benchmark of the DTE rule engine (no pytest, stdlib timing only).

Times, over N runs each (default 2000, after a warm-up):

* ``validate`` on an already-parsed 60-line factura (the maximum for a 33);
* ``parse_dte_data`` + ``validate`` of the same document as SII XML;
* ``parse_dte_data`` + ``validate`` of Odoo's flat form.

Usage: ``.venv/bin/python perf/bench_dte_rules.py [runs]``. Target: validate p50 < 1 ms.
"""

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from quipu_dte.parse import parse_dte_data
from quipu_dte.rules import RULES, validate

TODAY = date(2025, 10, 23)


def factura_60_lines() -> dict[str, Any]:
    """A consistent 60-line factura with quantities, decimal prices and discounts."""
    lines = []
    neto = 0
    for i in range(1, 61):
        qty, price, pct = i % 7 + 1, 1000 + 37 * i, (i % 4) * 5
        base = qty * price
        discount = (base * pct + 50) // 100
        amount = base - discount
        neto += amount
        line: dict[str, Any] = {
            "NroLinDet": i,
            "NmbItem": f"Producto de prueba {i}",
            "QtyItem": qty,
            "UnmdItem": "UN",
            "PrcItem": price,
        }
        if pct:
            line |= {"DescuentoPct": pct, "DescuentoMonto": discount}
        line["MontoItem"] = amount
        lines.append(line)
    iva = (neto * 19 + 50) // 100
    return {
        "Encabezado": {
            "IdDoc": {"TipoDTE": 33, "Folio": 170, "FchEmis": "2025-10-20", "FmaPago": 2},
            "Emisor": {
                "RUTEmisor": "76354771-K",
                "RznSoc": "Comercial Ñuñoa SpA",
                "GiroEmis": "Venta al por mayor",
                "Acteco": 465000,
                "DirOrigen": "Irarrázaval 1234",
                "CmnaOrigen": "Ñuñoa",
            },
            "Receptor": {
                "RUTRecep": "96790240-3",
                "RznSocRecep": "Minera Los Pelambres",
                "GiroRecep": "Minería",
            },
            "Totales": {"MntNeto": neto, "TasaIVA": 19, "IVA": iva, "MntTotal": neto + iva},
        },
        "Detalle": lines,
        "Referencia": {
            "NroLinRef": 1,
            "TpoDocRef": "801",
            "FolioRef": "4471",
            "FchRef": "2025-10-01",
        },
        "TED": {
            "DD": {
                "RE": "76354771-K",
                "TD": 33,
                "F": 170,
                "FE": "2025-10-20",
                "RR": "96790240-3",
                "MNT": neto + iva,
                "CAF": {
                    "DA": {
                        "RE": "76354771-K",
                        "TD": 33,
                        "RNG": {"D": 1, "H": 500},
                        "FA": "2025-06-01",
                    }
                },
            }
        },
    }


def to_xml(tag: str, value: Any) -> str:
    if isinstance(value, list):
        return "".join(to_xml(tag, v) for v in value)
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(to_xml(k, v) for k, v in value.items()) + f"</{tag}>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def xml_document(doc: dict[str, Any]) -> str:
    body = "".join(to_xml(k, v) for k, v in doc.items())
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<DTE xmlns="http://www.sii.cl/SiiDte" version="1.0"><Documento ID="F170T33">'
        f"{body}<TmstFirma>2025-10-20T10:15:30</TmstFirma></Documento></DTE>"
    )


def measure(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(min(200, runs)):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    p50 = statistics.median(samples) / 1000
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1000
    return p50, p99


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    doc = factura_60_lines()
    parsed = parse_dte_data(doc).single
    report = validate(parsed, today=TODAY)
    assert report.recommendation == "send", report.errors  # benchmark a clean document
    xml = xml_document(doc)
    assert validate(parse_dte_data({"dte_xml": xml}).single, today=TODAY).findings == ()
    flat = {
        "tipo_dte": "33",
        "folio": "170",
        "fecha_emision": "2025-10-20",
        "rut_emisor": "76354771-K",
        "monto_neto": doc["Encabezado"]["Totales"]["MntNeto"],
        "monto_iva": doc["Encabezado"]["Totales"]["IVA"],
        "monto_exento": 0,
        "monto_total": doc["Encabezado"]["Totales"]["MntTotal"],
    }

    cases = [
        ("validate (60-line factura, parsed)", lambda: validate(parsed, today=TODAY)),
        (
            f"parse XML + validate (60 lines, {len(xml.encode())} bytes)",
            lambda: validate(parse_dte_data({"dte_xml": xml}).single, today=TODAY),
        ),
        (
            "parse flat Odoo form + validate",
            lambda: validate(parse_dte_data(flat).single, today=TODAY),
        ),
    ]
    print(
        f"python {sys.version.split()[0]}, {runs} runs each, {len(RULES)} rules "
        f"({report.rules_evaluated} with data on the XML factura)"
    )
    for name, fn in cases:
        p50, p99 = measure(fn, runs)
        print(f"{name:<48} p50 {p50:8.1f} µs   p99 {p99:8.1f} µs")


if __name__ == "__main__":
    main()
