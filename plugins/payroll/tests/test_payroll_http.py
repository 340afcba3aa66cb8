"""``POST /api/payroll/validate`` through the assembled app (real Redis, previred plugin)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from payroll_examples import EXAMPLE_A, EXAMPLE_B, EXAMPLE_D, EXAMPLES, variant
from payroll_kit import AUGUST_2026, SCOPED
from quipu.errors import StartupError
from test_payroll_odoo import AS_SENT, EXAMPLE_A_ODOO, line

URL = "/api/payroll/validate"


def codes(body: dict[str, Any], severity: str | None = None) -> list[str]:
    return [f["code"] for f in body["findings"] if severity is None or f["severity"] == severity]


def only(body: dict[str, Any], code: str) -> dict[str, Any]:
    found = [f for f in body["findings"] if f["code"] == code]
    assert len(found) == 1, codes(body)
    return found[0]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
async def test_the_worked_examples_validate_clean(
    payroll_app: Any, quipu_client: Any, name: str
) -> None:
    async with quipu_client(payroll_app()) as client:
        response = await client.post(URL, json=EXAMPLES[name], headers=SCOPED)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert (body["errors"], body["warnings"]) == ([], [])
    assert body["recommendation"] == "approve"
    assert body["confidence"] == 100.0
    assert body["breakdown"]["liquido"] == EXAMPLES[name]["liquido"]
    assert body["indicators"] == {"period": EXAMPLES[name]["periodo"], "source": "published"}
    assert body["ai"]["status"] == "skipped"
    assert body["verdict_by"] == "rules"


async def test_the_odoo_payload_is_accepted_as_sent(payroll_app: Any, quipu_client: Any) -> None:
    async with quipu_client(payroll_app()) as client:
        as_sent = await client.post(URL, json=AS_SENT, headers=SCOPED)
        example = await client.post(URL, json=EXAMPLE_A_ODOO, headers=SCOPED)
    assert as_sent.status_code == 200
    body = as_sent.json()
    assert body["success"] is True
    assert set(body) >= {"success", "confidence", "errors", "warnings", "recommendation"}
    assert body["recommendation"] in ("review", "reject")
    assert body["confidence"] < 80  # Odoo opens its review wizard
    assert "PAY_LINE_MISSING" in codes(body)
    clean = example.json()
    assert clean["recommendation"] == "approve", clean["warnings"] + clean["errors"]
    assert clean["breakdown"]["liquido"] == 1_235_108


async def test_a_2025_tope_in_march_2026_is_reported_with_the_expected_amount(
    payroll_app: Any, quipu_client: Any
) -> None:
    async with quipu_client(payroll_app()) as client:
        response = await client.post(URL, json=variant(EXAMPLE_B, descuentos={"afp": 400183}))
    body = response.json()
    found = only(body, "PAY_TOPE_STALE")
    assert (found["path"], found["expected"], found["actual"]) == ("descuentos.afp", 410210, 400183)
    assert "tope 87,8 UF de 2025; desde febrero 2026 el tope es 90,0 UF" in found["message"]
    assert body["recommendation"] == "reject"
    assert body["confidence"] <= 49
    assert any(e.startswith("PAY_TOPE_STALE: ") for e in body["errors"])


async def test_a_stale_afp_commission_is_reported(payroll_app: Any, quipu_client: Any) -> None:
    async with quipu_client(payroll_app()) as client:
        response = await client.post(URL, json=variant(EXAMPLE_D, descuentos={"afp": 315686}))
    found = only(response.json(), "PAY_AFP_RATE_STALE")
    assert (found["expected"], found["actual"]) == (314783, 315686)
    assert "10,49 %" in found["message"]
    assert "10,46 %" in found["message"]


async def test_the_whole_isapre_plan_off_the_tax_base_is_reported(
    payroll_app: Any, quipu_client: Any
) -> None:
    async with quipu_client(payroll_app()) as client:
        response = await client.post(URL, json=variant(EXAMPLE_B, descuentos={"impuesto": 117913}))
    found = only(response.json(), "PAY_HEALTH_TAX_BASE")
    assert (found["path"], found["expected"], found["actual"]) == (
        "descuentos.impuesto",
        120782,
        117913,
    )
    assert "$2.994.004" in found["message"]


async def test_realistic_slips_are_never_refused(payroll_app: Any, quipu_client: Any) -> None:
    long_slip = copy.deepcopy(EXAMPLE_A_ODOO)
    long_slip["lines"] += [line("COL", 0.0, "NOIMPO") for _ in range(150)]
    part_time = {
        "employee_id": 7,
        "wage": 250000.0,
        "period": "2024-12",
        "lines": [line("BASIC", 250000.0), line("AFP", -28000.0), line("SALUD", -17500.0)],
    }
    async with quipu_client(payroll_app()) as client:
        long_answer = await client.post(URL, json=long_slip)
        part_answer = await client.post(URL, json=part_time)
    assert long_answer.status_code == part_answer.status_code == 200
    assert "PAY_MANY_LINES" in codes(long_answer.json(), "info")
    assert long_answer.json()["recommendation"] == "approve"
    part = part_answer.json()
    assert part["success"] is True
    assert "PAY_PERIOD_OLD" in codes(part, "info")
    assert only(part, "PAY_BELOW_MINIMUM")["severity"] == "warning"  # unknown jornada


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hola": "mundo"}, "lines"),
        ([1, 2, 3], "$"),
        ({"period": "2025-10", "lines": [{"name": "sin código", "amount": 1}]}, "lines[0].code"),
        ({"periodo": "2025-13", "haberes": {"sueldo_base": "mucho"}}, "haberes.sueldo_base"),
        ({"company_id": "uno", "periodo": "2025-10"}, "company_id"),
    ],
)
async def test_uncheckable_input_is_422_with_field_paths(
    payroll_app: Any, quipu_client: Any, body: Any, field: str
) -> None:
    async with quipu_client(payroll_app()) as client:
        response = await client.post(URL, json=body)
    assert response.status_code == 422
    answer = response.json()
    assert answer["detail"]
    assert field in [e["field"] for e in answer["errors"]]


async def test_malformed_json_is_400(payroll_app: Any, quipu_client: Any) -> None:
    async with quipu_client(payroll_app()) as client:
        response = await client.post(
            URL, content=b"{no es json", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert "malformed" in response.json()["detail"]


async def test_a_company_outside_the_keys_scope_is_403(payroll_app: Any, quipu_client: Any) -> None:
    async with quipu_client(payroll_app()) as client:
        other = await client.post(URL, json={**EXAMPLE_A, "company_id": 2}, headers=SCOPED)
        mine = await client.post(URL, json={**EXAMPLE_A, "company_id": 1}, headers=SCOPED)
    assert other.status_code == 403
    assert "company 2" in other.json()["detail"]
    assert mine.status_code == 200


async def test_admin_loaded_indicators_are_used_and_given_ones_win(
    payroll_app: Any, quipu_client: Any
) -> None:
    # August 2026 is not shipped: an admin loads it through the previred plugin.
    month = AUGUST_2026
    slip = {
        "periodo": "2026-08",
        "afp": {"nombre": "Habitat"},
        "haberes": {"sueldo_base": 1_000_000, "regimen_gratificacion": "art47"},
        "descuentos": {"afp": 112700, "salud": 70000, "afc": 6000},
    }
    async with quipu_client(payroll_app()) as client:
        before = (await client.post(URL, json=slip)).json()
        put = await client.put("/api/payroll/indicators/2026-08", json=month)
        after = (await client.post(URL, json=slip)).json()
        given = (
            await client.post(
                URL, json={**slip, "indicadores": {"afp_tasas": {"habitat": "11.30"}}}
            )
        ).json()
    assert before["indicators"]["source"] == "none"
    assert "PAY_INDICATORS_UNAVAILABLE" in codes(before)
    assert put.status_code == 200
    assert after["indicators"]["source"] == "admin"
    assert after["breakdown"]["uf"] == "40850.33"
    assert (after["breakdown"]["afp"], after["breakdown"]["salud"]) == (112700, 70000)
    assert "PAY_INDICATORS_UNAVAILABLE" not in codes(after)
    assert after["recommendation"] == "approve"
    # The request's own rate wins over the loaded one: the declared AFP is now wrong.
    assert codes(given, "error") == ["PAY_AFP_RATE_STALE"]
    assert only(given, "PAY_AFP_RATE_STALE")["expected"] == 113000


def test_a_bad_line_code_stops_start_up(payroll_app: Any) -> None:
    with pytest.raises(StartupError) as raised:
        payroll_app('line_codes = { BONO_TURNO = "bono_rarisimo" }\n')
    message = str(raised.value)
    assert "[plugins.payroll]" in message
    assert "BONO_TURNO='bono_rarisimo'" in message


async def test_configured_line_codes_map_unknown_codes(payroll_app: Any, quipu_client: Any) -> None:
    slip = copy.deepcopy(EXAMPLE_A_ODOO)
    slip["lines"].insert(2, line("BONO_TURNO", 0.0, "OTRO"))
    async with quipu_client(payroll_app()) as client:
        unknown = (await client.post(URL, json=slip)).json()
    async with quipu_client(
        payroll_app('line_codes = { BONO_TURNO = "otros_imponibles" }\n')
    ) as client:
        mapped = (await client.post(URL, json=slip)).json()
    assert only(unknown, "PAY_UNKNOWN_CODE")["path"] == "lines[2].code"
    assert unknown["recommendation"] == "review"
    assert "PAY_UNKNOWN_CODE" not in codes(mapped)
    assert mapped["recommendation"] == "approve"


async def test_a_failing_check_answers_like_the_original(
    payroll_app: Any, quipu_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import quipu_payroll.routes

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("regla rota")

    monkeypatch.setattr(quipu_payroll.routes, "check", broken)
    async with quipu_client(payroll_app()) as client:
        response = await client.post(URL, json=EXAMPLE_A)
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["confidence"], body["recommendation"]) == (False, 0.0, "review")
    assert body["errors"] == ["Error en validación: RuntimeError: regla rota"]
