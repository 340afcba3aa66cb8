"""The worked examples A-D of domain-chile.md §3.12 as structured slips, and helpers."""

import copy
from typing import Any

from quipu_payroll.checker import PayrollReport, check
from quipu_payroll.schemas import StructuredSlip, parse_structured
from quipu_previred.indicators import Indicators, load_published

# Example A — October 2025, indefinido, AFP Habitat, Fonasa.
EXAMPLE_A: dict[str, Any] = {
    "periodo": "2025-10",
    "contrato": "indefinido",
    "afp": {"nombre": "Habitat"},
    "salud": {"tipo": "fonasa"},
    "haberes": {"sueldo_base": 1200000, "gratificacion": 209396, "no_imponibles": 100000},
    "descuentos": {"afp": 158839, "salud": 98658, "afc": 8456, "impuesto": 8335},
    "liquido": 1235108,
}

# Example B — March 2026, indefinido, AFP Capital, Isapre 7.2 UF, above the tope.
EXAMPLE_B: dict[str, Any] = {
    "periodo": "2026-03",
    "contrato": "indefinido",
    "afp": {"nombre": "Capital"},
    "salud": {"tipo": "isapre", "plan_uf": "7.2"},
    "haberes": {"sueldo_base": 3500000, "gratificacion": 213354, "no_imponibles": 50000},
    "descuentos": {"afp": 410210, "salud": 286860, "afc": 22280, "impuesto": 120782},
    "liquido": 2923222,
}

# Example C — July 2025, minimum wage, plazo fijo, AFP Uno, Fonasa, 2 cargas.
EXAMPLE_C: dict[str, Any] = {
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
}

# Example D — November 2025, indefinido, AFP Uno after the commission cut.
EXAMPLE_D: dict[str, Any] = {
    "periodo": "2025-11",
    "afp": {"nombre": "Uno"},
    "haberes": {"sueldo_base": 2800000, "gratificacion": 209396},
    "descuentos": {"afp": 314783, "salud": 210658, "afc": 18056, "impuesto": 76269},
    "liquido": 2389630,
}

EXAMPLES = {"A": EXAMPLE_A, "B": EXAMPLE_B, "C": EXAMPLE_C, "D": EXAMPLE_D}


def published(period: str) -> Indicators:
    """The shipped indicators of a period that must exist."""
    ind = load_published(period)
    assert ind is not None, period
    return ind


def variant(base: dict[str, Any], **sections: dict[str, Any] | Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level keys replaced or dict sections updated."""
    result = copy.deepcopy(base)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key].update(value)
        else:
            result[key] = value
    return result


def slip(data: dict[str, Any]) -> StructuredSlip:
    return parse_structured(data)


def run(data: dict[str, Any], ind: Indicators | None = None) -> PayrollReport:
    """Check a structured slip against its period's published indicators (or ``ind``)."""
    parsed = parse_structured(data)
    return check(parsed, ind if ind is not None else published(parsed.periodo))


def problems(report: PayrollReport) -> list[tuple[str, str]]:
    """(code, path) of every error and warning finding."""
    return [(f.code, f.path) for f in report.findings if f.severity != "info"]
