"""quipu payroll plugin: the exact Chilean payslip (liquidación de sueldo) checker.

Pure domain library (no HTTP, no LLM)::

    from quipu_payroll import check, check_odoo, parse_structured
    from quipu_previred.indicators import load_published

    slip = parse_structured(body)                    # StructuredSlip, or SlipInputError
    report = check(slip, load_published(slip.periodo))
    report = check_odoo(odoo_payload, code_map=config.line_codes)
"""

from quipu_payroll.checker import PayrollReport, check
from quipu_payroll.engine import Breakdown, EmployerCosts, compute, effective_indicators
from quipu_payroll.findings import CATALOGUE, RULESET_VERSION, Finding
from quipu_payroll.odoo import check_odoo, from_odoo
from quipu_payroll.odoo_codes import DEFAULT_CODE_MAP, build_code_map
from quipu_payroll.odoo_payload import parse_odoo
from quipu_payroll.schemas import (
    InputProblem,
    OdooPayload,
    SlipInputError,
    StructuredSlip,
    parse_structured,
)

__version__ = "0.1.0"

__all__ = [
    "CATALOGUE",
    "DEFAULT_CODE_MAP",
    "RULESET_VERSION",
    "Breakdown",
    "EmployerCosts",
    "Finding",
    "InputProblem",
    "OdooPayload",
    "PayrollReport",
    "SlipInputError",
    "StructuredSlip",
    "__version__",
    "build_code_map",
    "check",
    "check_odoo",
    "compute",
    "effective_indicators",
    "from_odoo",
    "parse_odoo",
    "parse_structured",
]
