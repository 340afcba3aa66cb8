"""The payload Odoo sends to ``POST /api/payroll/validate``, parsed leniently.

Shape (original-ai-service.md §1.3.9, §7.4)::

    {"employee_id": 15, "employee_name": "Juan Pérez", "wage": 1500000.0,
     "lines": [{"code": "BASIC", "name": "Sueldo Base", "category": "BASIC",
                "amount": 1500000.0, "total": 1500000.0}, ...],
     "period": "2025-10", "date_from": "2025-10-01", "date_to": "2025-10-31",
     "total_imponible": ..., "total_haberes": ..., "total_descuentos": ...,
     "total_liquido": ...}

Numbers may be JSON numbers or numeric strings; unknown keys are ignored;
everything but ``lines`` and a period is optional. Optional quipu hints let a
newer Odoo module state what the amounts can only suggest (see the README).
Every problem found is reported at once in one :class:`SlipInputError`.
"""

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import msgspec
from quipu_previred.indicators import PeriodError, parse_period

from quipu_payroll.errors import InputProblem, SlipInputError
from quipu_payroll.schemas import OdooHints, OdooLine, OdooPayload

__all__ = ["MAX_LINES", "parse_odoo"]

#: A real slip has tens of lines; this bound only protects the service.
MAX_LINES: Final = 2_000


def _number(value: object, path: str, problems: list[InputProblem]) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        problems.append(
            InputProblem(path, "debe ser numérico", "envíe un número o un texto numérico")
        )
        return None
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(InputProblem(path, "número no finito"))
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        problems.append(
            InputProblem(path, f"{value!r} no es numérico", 'p. ej. 1500000 o "1500000"')
        )
        return None
    if not number.is_finite():
        problems.append(InputProblem(path, "número no finito"))
        return None
    return number


def _period(data: Mapping[str, Any], problems: list[InputProblem]) -> str:
    raw = data.get("period")
    path = "period"
    if raw is None:
        for key in ("date_from", "date_to"):
            if isinstance(data.get(key), str) and len(data[key]) >= 7:
                raw, path = data[key][:7], key
                break
    if raw is None:
        problems.append(InputProblem("period", "falta el período", "envíe period = YYYY-MM"))
        return ""
    try:
        parse_period(raw)
    except PeriodError as exc:
        problems.append(InputProblem(path, str(exc), "use YYYY-MM, p. ej. 2025-10"))
        return ""
    return str(raw)


def _lines(raw: object, problems: list[InputProblem]) -> tuple[OdooLine, ...]:
    if not isinstance(raw, list):
        hint = "envíe lines = [{code, amount, ...}, ...]"
        problems.append(InputProblem("lines", "falta la lista de líneas", hint))
        return ()
    if not raw:
        problems.append(InputProblem("lines", "Liquidación sin líneas", "envíe al menos una línea"))
    if len(raw) > MAX_LINES:
        problems.append(InputProblem("lines", f"{len(raw)} líneas; máximo {MAX_LINES}"))
        return ()
    lines: list[OdooLine] = []
    for index, item in enumerate(raw):
        path = f"lines[{index}]"
        if not isinstance(item, Mapping):
            problems.append(InputProblem(path, "cada línea debe ser un objeto"))
            continue
        code = item.get("code")
        if isinstance(code, int | float) and not isinstance(code, bool):
            code = str(code)
        if not isinstance(code, str) or not code.strip():
            problems.append(InputProblem(f"{path}.code", f"Línea {index} sin campo 'code'"))
            continue
        amount = _number(item.get("amount"), f"{path}.amount", problems)
        total = _number(item.get("total"), f"{path}.total", problems)
        value = total if total is not None else amount
        if value is None:
            if "amount" not in item and "total" not in item:
                problems.append(InputProblem(f"{path}.amount", f"Línea {index}: falta 'amount'"))
            continue
        name, category = item.get("name"), item.get("category")
        lines.append(
            OdooLine(
                index,
                code.strip().upper(),
                name if isinstance(name, str) else "",
                category.strip().upper() if isinstance(category, str) else "",
                value,
            )
        )
    return tuple(lines)


def parse_odoo(payload: object) -> OdooPayload:
    """Parse the Odoo payload (JSON bytes or decoded object); raise :class:`SlipInputError`."""
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            payload = msgspec.json.decode(payload)
        except msgspec.DecodeError as exc:
            raise SlipInputError([InputProblem("$", f"JSON inválido: {exc}")]) from exc
    if not isinstance(payload, Mapping):
        raise SlipInputError([InputProblem("$", "se esperaba un objeto JSON")])
    problems: list[InputProblem] = []
    period = _period(payload, problems)
    lines = _lines(payload.get("lines"), problems)
    numbers = {
        key: _number(payload.get(key), key, problems)
        for key in ("wage", "total_imponible", "total_haberes", "total_descuentos", "total_liquido")
    }
    try:
        hints = msgspec.convert(payload.get("quipu") or {}, OdooHints, strict=False)
    except msgspec.ValidationError as exc:
        problems.append(InputProblem("quipu", str(exc), "revise las pistas opcionales"))
        hints = OdooHints()
    if problems:
        raise SlipInputError(problems)
    employee = payload.get("employee_id")
    return OdooPayload(
        period=period,
        lines=lines,
        employee_id=employee
        if isinstance(employee, int) and not isinstance(employee, bool)
        else None,
        hints=hints,
        **numbers,
    )
