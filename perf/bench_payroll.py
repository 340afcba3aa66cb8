"""Micro-benchmark of the payroll checker (pure Python, no HTTP, no Redis).

Times ``quipu_payroll.check`` on the four worked examples of domain-chile.md
§3.12 (clean) and on the same slips with known mistakes (findings and their
diagnosis), plus the full Odoo path (parse, map, check). Prints p50/p99 in µs.

    .venv/bin/python perf/bench_payroll.py [--runs 2000]
"""

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

from quipu_payroll.checker import check
from quipu_payroll.odoo import check_odoo
from quipu_payroll.schemas import StructuredSlip, parse_structured
from quipu_previred.indicators import Indicators, load_published

_CLEAN: dict[str, dict[str, Any]] = {
    "A oct-2025 Habitat Fonasa": {
        "periodo": "2025-10",
        "afp": {"nombre": "Habitat"},
        "haberes": {"sueldo_base": 1200000, "gratificacion": 209396, "no_imponibles": 100000},
        "descuentos": {"afp": 158839, "salud": 98658, "afc": 8456, "impuesto": 8335},
        "liquido": 1235108,
    },
    "B mar-2026 Capital Isapre": {
        "periodo": "2026-03",
        "afp": {"nombre": "Capital"},
        "salud": {"tipo": "isapre", "plan_uf": "7.2"},
        "haberes": {"sueldo_base": 3500000, "gratificacion": 213354, "no_imponibles": 50000},
        "descuentos": {"afp": 410210, "salud": 286860, "afc": 22280, "impuesto": 120782},
        "liquido": 2923222,
    },
    "C jul-2025 plazo fijo 2 cargas": {
        "periodo": "2025-07",
        "contrato": "plazo_fijo",
        "afp": {"nombre": "Uno"},
        "haberes": {
            "sueldo_base": 529000,
            "gratificacion": 132250,
            "no_imponibles": 30000,
            "asignacion_familiar": 27010,
            "cargas_familiares": 2,
        },
        "descuentos": {"afp": 69365, "salud": 46288, "afc": 0, "impuesto": 0},
        "liquido": 602607,
    },
    "D nov-2025 Uno after the commission cut": {
        "periodo": "2025-11",
        "afp": {"nombre": "Uno"},
        "haberes": {"sueldo_base": 2800000, "gratificacion": 209396},
        "descuentos": {"afp": 314783, "salud": 210658, "afc": 18056, "impuesto": 76269},
        "liquido": 2389630,
    },
}

_WRONG = {
    "B with 2025 tope + full Isapre off the tax base": (
        "B mar-2026 Capital Isapre",
        {"afp": 400183, "impuesto": 117913},
    ),
    "D with the stale commission and October's UTM": (
        "D nov-2025 Uno after the commission cut",
        {"afp": 315686, "impuesto": 76751},
    ),
    "A with an unexplained tax": ("A oct-2025 Habitat Fonasa", {"impuesto": 9000}),
}

_ODOO = {
    "employee_id": 15,
    "wage": 1200000.0,
    "period": "2025-10",
    "lines": [
        {"code": "BASIC", "amount": 1200000.0},
        {"code": "GRAT", "amount": 209396.0},
        {"code": "COL", "amount": 60000.0},
        {"code": "MOV", "amount": 40000.0},
        {"code": "AFP", "amount": -158838.93},
        {"code": "SALUD", "amount": -98657.72},
        {"code": "AFC", "amount": -8456.38},
        {"code": "IMPUESTO_UNICO", "amount": -8335.0},
        {"code": "NET", "amount": 1235108.0},
    ],
    "total_haberes": 1509396.0,
    "total_descuentos": 274288.0,
    "total_liquido": 1235108.0,
}


def _time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(50):  # warm caches (published data, history lookups)
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def _case(slip: StructuredSlip) -> tuple[StructuredSlip, Indicators]:
    ind = load_published(slip.periodo)
    assert ind is not None, slip.periodo
    return slip, ind


def main() -> None:
    """Run every case and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    runs = parser.parse_args().runs
    print(f"quipu_payroll.check, {runs} runs per case (µs)")
    print(f"{'case':52} {'p50':>8} {'p99':>8}  findings")
    for name, raw in _CLEAN.items():
        slip, ind = _case(parse_structured(raw))
        report = check(slip, ind)
        p50, p99 = _time(functools.partial(check, slip, ind), runs)
        print(f"{name:52} {p50:8.1f} {p99:8.1f}  {len(report.findings)}")
    for name, (base, changes) in _WRONG.items():
        raw = {**_CLEAN[base], "descuentos": {**_CLEAN[base]["descuentos"], **changes}}
        slip, ind = _case(parse_structured(raw))
        codes = ",".join(f.code for f in check(slip, ind).findings if f.severity == "error")
        p50, p99 = _time(functools.partial(check, slip, ind), runs)
        print(f"{name:52} {p50:8.1f} {p99:8.1f}  {codes}")
    p50, p99 = _time(lambda: check_odoo(_ODOO), runs)
    print(f"{'Odoo payload: parse + map + check (example A)':52} {p50:8.1f} {p99:8.1f}")


if __name__ == "__main__":
    main()
