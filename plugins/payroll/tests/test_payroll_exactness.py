"""Issue 14: payroll checked to the peso, rates read in either form.

Figures are the worked slips of domain-chile.md §3.12 (examples A-D), built from the
Previred indicator tables (UF, UTM, topes, AFP commissions, §4.2-§4.3, cross-checked with
Previred's July-2025 page as mirrored by neo-control.cl) and the AFP commissions of
§3.2 (spensiones.cl; AFP Uno 0,49 % until 2025-09-30, 0,46 % from 2025-10-01 per
adnradio.cl 2025-10-02). Each contribution and the tax are rounded half-up to whole
pesos (§3.1 item 9), so the exact figure is unambiguous.
"""

from __future__ import annotations

from typing import Any

import pytest
from payroll_examples import EXAMPLE_A, EXAMPLE_B, EXAMPLE_C, EXAMPLE_D, published, run, variant
from payroll_kit import SCOPED
from quipu.errors import StartupError
from quipu_payroll.checker import check
from quipu_payroll.config import PayrollConfig
from quipu_payroll.money import fmt_clp
from quipu_payroll.schemas import SlipInputError, parse_structured

URL = "/api/payroll/validate"

# (example, path, the §3.12 figure, the rule the message must name)
LINES = [
    # A (Oct 2025): AFP Habitat 11,27 % × 1.409.396 = 158.838,93 → 158.839.
    (EXAMPLE_A, "descuentos.afp", 158839, "11,27 % (10 % + comisión) sobre $1.409.396"),
    # A: Fonasa 7 % × 1.409.396 = 98.657,72 → 98.658.
    (EXAMPLE_A, "descuentos.salud", 98658, "7 % legal"),
    # A: AFC 0,6 % × 1.409.396 = 8.456,38 → 8.456.
    (EXAMPLE_A, "descuentos.afc", 8456, "0,6 % sobre $1.409.396, contrato indefinido"),
    # A: IUSC tramo 2: 1.143.443 × 0,04 − 37.403,10 = 8.334,62 → 8.335 (UTM 69.265).
    (EXAMPLE_A, "descuentos.impuesto", 8335, "tramo 2 sobre base $1.143.443, UTM $69.265"),
    # A: líquido 1.509.396 − 274.288 = 1.235.108.
    (EXAMPLE_A, "liquido", 1235108, "$1.235.108"),
    # B (Mar 2026): AFP Capital 11,44 % on the 90,0 UF tope 3.585.755 = 410.210,37.
    (EXAMPLE_B, "descuentos.afp", 410210, "11,44 % (10 % + comisión) sobre $3.585.755"),
    # B: Isapre 7,2 UF × 39.841,72 = 286.860,38 → 286.860 (over the 7 % = 251.003).
    (EXAMPLE_B, "descuentos.salud", 286860, "plan Isapre $286.860"),
    # B: IUSC tramo 3: 3.029.861 × 0,08 − 121.606,86 = 120.782,02 → 120.782.
    (EXAMPLE_B, "descuentos.impuesto", 120782, "tramo 3 sobre base $3.029.861"),
    # C (Jul 2025): AFP Uno 10,49 % × 661.250 = 69.365,13 → 69.365.
    (EXAMPLE_C, "descuentos.afp", 69365, "10,49 % (10 % + comisión) sobre $661.250"),
    # C: asignación familiar tramo B 13.505 × 2 cargas = 27.010 (no bracket gives 27.010 ± 1,
    # so it is an error even judged on the month's income).
    (EXAMPLE_C, "haberes.asignacion_familiar", 27010, "tramo B, $13.505 por carga"),
    # D (Nov 2025): AFP Uno 10,46 % × 3.009.396 = 314.782,82 → 314.783.
    (EXAMPLE_D, "descuentos.afp", 314783, "10,46 % (10 % + comisión) sobre $3.009.396"),
    # D: IUSC tramo 3: 2.465.899 × 0,08 − 121.003,08 = 76.268,84 → 76.269 (UTM 69.542).
    (EXAMPLE_D, "descuentos.impuesto", 76269, "UTM $69.542"),
]


def with_amount(example: dict[str, Any], path: str, amount: int) -> dict[str, Any]:
    section, _, field = path.rpartition(".")
    return variant(example, **({section: {field: amount}} if section else {field: amount}))


@pytest.mark.parametrize("delta", [1, -1])
@pytest.mark.parametrize(
    ("example", "path", "figure", "rule"),
    LINES,
    ids=[f"{e['periodo']}:{p}" for e, p, _, _ in LINES],
)
def test_one_peso_off_is_an_error_stating_declared_and_expected(
    example: dict[str, Any], path: str, figure: int, rule: str, delta: int
) -> None:
    assert run(example).recommendation == "approve"
    report = run(with_amount(example, path, figure + delta))
    wrong = [f for f in report.findings if f.severity != "info"]
    assert [(f.path, f.severity) for f in wrong] == [(path, "error")]
    finding = wrong[0]
    assert (finding.expected, finding.actual) == (figure, figure + delta)
    assert fmt_clp(figure + delta) in finding.message
    assert fmt_clp(figure) in finding.message
    assert rule in finding.message
    assert report.recommendation == "reject"


def test_a_tolerance_lets_a_peso_through_and_says_so() -> None:
    slip = parse_structured(with_amount(EXAMPLE_A, "descuentos.afp", 158838))
    report = check(slip, published("2025-10"), tolerance=1)
    assert report.recommendation == "approve"
    [note] = report.findings
    assert (note.code, note.severity, note.expected, note.actual) == (
        "PAY_ROUNDING",
        "info",
        158839,
        158838,
    )
    assert "dentro de la tolerancia configurada de 1 peso" in note.message
    two_off = parse_structured(with_amount(EXAMPLE_A, "descuentos.afp", 158837))
    assert check(two_off, published("2025-10"), tolerance=1).recommendation == "reject"


def test_tolerance_applies_to_declared_subtotals() -> None:
    # Example A: descuentos legales 158.839 + 98.658 + 8.456 + 8.335 = 274.288.
    data = variant(EXAMPLE_A, totales={"descuentos": 274289})
    assert run(data).recommendation == "reject"
    assert check(parse_structured(data), published("2025-10"), tolerance=1).findings == ()


def test_tolerance_config() -> None:
    assert PayrollConfig().tolerance == 0
    assert PayrollConfig(tolerance=2).tolerance == 2
    with pytest.raises(ValueError, match="tolerance = -1"):
        PayrollConfig(tolerance=-1)


# --- Rates as a fraction or a percentage ----------------------------------------------


@pytest.mark.parametrize("tasa", ["0.1049", 0.1049, "10.49", 10.49])
def test_afp_rate_as_fraction_or_percentage(tasa: Any) -> None:
    # C: AFP Uno in July 2025 is 10,49 % (§3.2): 661.250 × 10,49 % → 69.365.
    data = variant(EXAMPLE_C, afp={"nombre": "Uno", "tasa": tasa})
    assert str(parse_structured(data).afp.tasa).rstrip("0") == "10.49"  # type: ignore[union-attr]
    report = run(data)
    assert [f.code for f in report.findings if f.severity != "info"] == []
    assert report.breakdown.afp == 69365


def test_the_issues_slip_a_stale_rate_as_a_fraction() -> None:
    """The issue's case: Example D with afp.tasa = 0.1049 (read once as 0,1049 %, $3.157).

    0.1049 is 10,49 %, AFP Uno's rate until September 2025; in November 2025 it is
    10,46 %: 3.009.396 × 10,46 % = 314.782,82 → 314.783 (at 10,49 %: 315.686, §3.12 D).
    """
    stale = variant(EXAMPLE_D, afp={"nombre": "Uno", "tasa": 0.1049})
    # The slip deducted at the stale rate: the AFP line is wrong, one finding says why.
    report = run(with_amount(stale, "descuentos.afp", 315686))
    wrong = [f for f in report.findings if f.severity != "info"]
    assert [(f.code, f.path) for f in wrong] == [("PAY_AFP_RATE_MISMATCH", "descuentos.afp")]
    afp = wrong[0]
    assert (afp.severity, afp.expected, afp.actual) == ("error", 314783, 315686)
    assert "10,49 % (tasa declarada)" in afp.message
    assert "la tasa oficial de AFP Uno para noviembre 2025 es 10,46 %" in afp.message
    assert "corresponde $314.783" in afp.message
    assert "$3.157" not in afp.message
    assert report.recommendation == "reject"


def test_a_stale_declared_rate_with_the_right_amount_is_a_warning() -> None:
    report = run(variant(EXAMPLE_D, afp={"nombre": "Uno", "tasa": "10.49"}))
    [rate] = [f for f in report.findings if f.severity != "info"]
    assert (rate.code, rate.path, rate.severity) == ("PAY_AFP_RATE_MISMATCH", "afp.tasa", "warning")
    assert (rate.expected, rate.actual) == ("10,46 %", "10,49 %")
    assert "a la tasa oficial la cotización es $314.783" in rate.message
    assert "a la declarada sería $315.686" in rate.message
    assert report.recommendation == "review"


def test_a_wrong_declared_rate_without_an_amount_is_an_error() -> None:
    data = variant(EXAMPLE_D, afp={"nombre": "Uno", "tasa": 0.1144})
    data["descuentos"] = {k: v for k, v in data["descuentos"].items() if k != "afp"}
    data.pop("liquido")
    report = run(data)
    [rate] = [f for f in report.findings if f.severity != "info"]
    assert (rate.code, rate.severity, rate.actual) == ("PAY_AFP_RATE_MISMATCH", "error", "11,44 %")


def test_the_official_rate_as_a_fraction_is_clean() -> None:
    assert run(variant(EXAMPLE_D, afp={"nombre": "Uno", "tasa": 0.1046})).findings == ()


def test_an_unknown_afp_uses_the_declared_rate() -> None:
    # No official rate to compare with: the declared one stands in, read as a fraction.
    data = variant(EXAMPLE_D, afp={"nombre": "AFP Futura", "tasa": 0.1046})
    assert [f.code for f in run(data).findings if f.severity != "info"] == []


def test_rate_overrides_as_a_fraction() -> None:
    data = variant(EXAMPLE_D, indicadores={"afp_tasas": {"uno": 0.1046}})
    assert [f.code for f in run(data).findings if f.severity != "info"] == []


@pytest.mark.parametrize("tasa", [0, 150, -0.1])
def test_an_impossible_rate_is_a_422_problem(tasa: Any) -> None:
    with pytest.raises(SlipInputError) as raised:
        parse_structured(variant(EXAMPLE_D, afp={"nombre": "Uno", "tasa": tasa}))
    assert [p.path for p in raised.value.problems] == ["afp.tasa"]


# --- Through the app: [plugins.payroll] tolerance and company_id --------------------------


async def test_configured_tolerance_and_numeric_company_id(
    payroll_app: Any, quipu_client: Any
) -> None:
    body = with_amount(EXAMPLE_A, "descuentos.afp", 158838)
    async with quipu_client(payroll_app()) as client:
        strict = await client.post(URL, json={**body, "company_id": "1"}, headers=SCOPED)
        other = await client.post(URL, json={**body, "company_id": "2"}, headers=SCOPED)
    async with quipu_client(payroll_app("tolerance = 1\n")) as client:
        tolerant = await client.post(URL, json=body, headers=SCOPED)
    assert strict.status_code == 200
    assert strict.json()["recommendation"] == "reject"
    assert strict.json()["errors"][0].startswith("PAY_AFP_MISMATCH: AFP declarado $158.838;")
    assert other.status_code == 403
    assert tolerant.json()["recommendation"] == "approve"


def test_a_negative_tolerance_stops_start_up(payroll_app: Any) -> None:
    with pytest.raises(StartupError, match="tolerance"):
        payroll_app("tolerance = -1\n")


def test_odoo_totals_one_peso_apart_are_inconsistent_unless_tolerated() -> None:
    """Example A as Odoo sends it: 1.509.396 − 274.288 = 1.235.108; a líquido 1 peso off
    is both a wrong líquido and totals that do not add up."""
    from quipu_payroll.odoo import check_odoo
    from test_payroll_odoo import EXAMPLE_A_ODOO

    payload = {**EXAMPLE_A_ODOO, "total_liquido": 1235109.0}
    report = check_odoo(payload)
    totals = [f for f in report.findings if f.code == "PAY_TOTALS_INCONSISTENT"]
    assert [(f.severity, f.expected, f.actual) for f in totals] == [("error", 1235108, 1235109)]
    assert "total_liquido declarado $1.235.109; corresponde $1.235.108" in totals[0].message
    assert report.recommendation == "reject"
    tolerant = check_odoo(payload, tolerance=1)
    assert [f.code for f in tolerant.findings if f.severity != "info"] == []
