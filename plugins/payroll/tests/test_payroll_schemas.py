"""Decoding the structured slip: lenient on types, strict on meaning."""

from decimal import Decimal

import msgspec
import pytest
from payroll_examples import EXAMPLE_A, variant
from quipu_payroll.schemas import SlipInputError, StructuredSlip, parse_structured


def test_strings_numbers_and_bytes_are_accepted() -> None:
    data = variant(EXAMPLE_A, haberes={"sueldo_base": "1200000", "gratificacion": 209396.0})
    data["extra"] = {"ignored": True}
    slip = parse_structured(data)
    assert slip.haberes.sueldo_base == Decimal(1200000)
    assert slip.jornada.tipo == "completa"
    assert slip.haberes.regimen_gratificacion == "art50_mensual"
    assert parse_structured(msgspec.json.encode(data)) == slip


def test_defaults() -> None:
    slip = parse_structured({"periodo": "2025-07"})
    assert slip == StructuredSlip(periodo="2025-07")
    assert slip.contrato == "indefinido"
    assert slip.salud.tipo == "fonasa"
    assert slip.afp is None


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        ({"periodo": "2025-13"}, "periodo", "Mes inválido"),
        ({}, "$", "missing required field `periodo`"),
        (
            {"periodo": "2025-07", "haberes": {"sueldo_base": "mucho"}},
            "haberes.sueldo_base",
            "decimal",
        ),
        ({"periodo": "2025-07", "contrato": "honorarios"}, "contrato", "Invalid enum value"),
        ({"periodo": "2025-07", "afp": {"nombre": "Santa María"}}, "afp.nombre", "AFP desconocida"),
        ({"periodo": "2025-07", "descuentos": {"afp": -5}}, "descuentos.afp", "negativo"),
        ({"periodo": "2025-07", "descuentos": {"afp": "NaN"}}, "descuentos.afp", "no finito"),
        ({"periodo": "2025-07", "dias_trabajados": 0}, "dias_trabajados", "entre 1 y 31"),
        (
            {"periodo": "2025-07", "jornada": {"tipo": "parcial", "horas_semanales": 60}},
            "jornada.horas_semanales",
            "entre 0 y 45",
        ),
    ],
)
def test_input_errors_name_the_field(data: object, path: str, fragment: str) -> None:
    with pytest.raises(SlipInputError) as info:
        parse_structured(data)
    assert [p.path for p in info.value.problems] == [path]
    assert fragment in info.value.problems[0].message


def test_several_problems_are_reported_together_with_hints() -> None:
    data = {"periodo": "abc", "afp": {"nombre": "X"}, "descuentos": {"salud": -1}}
    with pytest.raises(SlipInputError) as info:
        parse_structured(data)
    paths = {p.path for p in info.value.problems}
    assert paths == {"periodo", "afp.nombre", "descuentos.salud"}
    assert all(p.hint for p in info.value.problems)
    assert "Liquidación no verificable" in str(info.value)


def test_unknown_afp_is_fine_with_an_explicit_rate() -> None:
    slip = parse_structured({"periodo": "2025-07", "afp": {"nombre": "Otra", "tasa": 11}})
    assert slip.afp is not None
    assert slip.afp.tasa == 11


def test_invalid_json_bytes() -> None:
    with pytest.raises(SlipInputError, match="JSON inválido"):
        parse_structured(b"{not json")


def test_negative_liquido_and_discounted_hours_are_input_not_errors() -> None:
    slip = parse_structured(
        {"periodo": "2025-07", "liquido": -1, "haberes": {"otros_imponibles": -5000}}
    )
    assert slip.liquido == -1
