"""Lenient-but-exact scalar coercion that collects problems instead of raising.

Every converter returns ``None`` for an absent value (``None``, ``""``, and
Odoo's ``False`` for empty fields) and records a ``(path, problem)`` pair for a
value it cannot read. Callers raise one :class:`~quipu_dte.errors.DteInputError`
at the end, so a client sees all its mistakes at once.
"""

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from quipu_dte.errors import DteInputError

__all__ = [
    "MAX_DOCUMENTS",
    "MAX_LINES",
    "MAX_REPEATED",
    "MAX_TEXT",
    "MAX_XML_CHARS",
    "MAX_XML_ELEMENTS",
    "NumberKind",
    "Reader",
    "is_empty",
]

# Input limits. The SII caps are lower (60 lines, 40 references, 20 taxes);
# values between the SII cap and these limits parse and are reported by the
# rules (DTE_LIMIT_EXCEEDED), anything above is refused as input.
MAX_XML_CHARS: Final = 5_000_000
MAX_XML_ELEMENTS: Final = 100_000
MAX_DOCUMENTS: Final = 100
MAX_LINES: Final = 1000  # boleta maximum (EnvioBOLETA_v11)
MAX_REPEATED: Final = 100
MAX_TEXT: Final = 10_000
_MAX_NUMBER_CHARS: Final = 40
_MAX_INT_DIGITS: Final = 18  # XSD MontoType / Folio are far below this

NumberKind = Literal["amount", "quantity", "percent"]

_NUMBER_RE: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_THOUSANDS_RE: Final = re.compile(r"-?\d{1,3}(?:\.\d{3})+", re.ASCII)
_HINTS: Final[dict[NumberKind, str]] = {
    "amount": "send an integer amount in pesos, e.g. 119000",
    "quantity": "send a decimal number such as 10 or 2.5 (dot as decimal separator)",
    "percent": "send a percentage such as 19 or 10.5",
}

try:  # The date of an aware timestamp is taken in Chile's official time zone.
    from zoneinfo import ZoneInfo

    _SANTIAGO: Any = ZoneInfo("America/Santiago")
except Exception:  # pragma: no cover - tz database missing: keep the written date
    _SANTIAGO = None


def is_empty(value: Any) -> bool:
    """Absent for our purposes: ``None``, ``False`` (Odoo) or a blank string."""
    return value is None or value is False or (isinstance(value, str) and not value.strip())


def _show(value: Any) -> str:
    """Short, safe rendering of a bad value for an error message."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f'"{text}"'


def _normalise(d: Decimal) -> Decimal:
    """``119000.0`` → ``119000`` and ``2.50`` → ``2.5`` so equal values hash equally."""
    if d == d.to_integral_value():
        return d.quantize(Decimal(1)) if d else Decimal(0)
    return d.normalize()


class Reader:
    """Collects problems for one input, with paths relative to ``base``."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.problems: list[tuple[str, str]] = []

    def path(self, rel: str) -> str:
        """Full field path for messages."""
        return f"{self.base}.{rel}" if rel else self.base

    def fail(self, rel: str, problem: str) -> None:
        """Record one problem."""
        self.problems.append((self.path(rel), problem))

    def raise_if_failed(self) -> None:
        """Raise the collected problems as one :class:`DteInputError`."""
        if self.problems:
            raise DteInputError(self.problems)

    # -- scalars -----------------------------------------------------------

    def text(self, value: Any, rel: str, *, max_chars: int = MAX_TEXT) -> str | None:
        """A stripped string (ints are accepted and rendered, e.g. Acteco 620200)."""
        if value is None:
            return None
        if is_empty(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.fail(rel, f"expected text, got {type(value).__name__}; send a string")
            return None
        text = value.strip()
        if len(text) > max_chars:
            self.fail(rel, f"text too long ({len(text)} characters); at most {max_chars}")
            return None
        return text

    def decimal(self, value: Any, rel: str, kind: NumberKind = "amount") -> Decimal | None:
        """An exact Decimal from an int, float, Decimal or numeric string."""
        if value is None:
            return None
        if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 17:
            # Fast path for the common case (plain integer text from XML).
            return Decimal(value)
        if type(value) is float and value.is_integer() and -1e15 < value < 1e15:
            # Fast path for Odoo's whole amounts (119000.0): the same Decimal the general
            # path below makes from repr() (exponent 0, -0.0 → 0) at 0.3 µs instead of 2.3.
            return Decimal(int(value))
        if is_empty(value):
            return None
        hint = _HINTS[kind]
        number: Decimal
        if isinstance(value, bool):
            self.fail(rel, f"{_show(value)} is not a number; {hint}")
            return None
        if isinstance(value, int):
            if abs(value) >= 10**_MAX_INT_DIGITS:
                self.fail(rel, f"{_show(value)} is out of range; {hint}")
                return None
            return Decimal(value)
        if isinstance(value, float):
            # repr() gives the shortest round-tripping text: 0.1 → "0.1", not 0.1000000000000000055…
            text = repr(value)
        elif isinstance(value, Decimal):
            text = format(value, "f") if value.is_finite() else "nan"
        elif isinstance(value, str):
            text = value.strip()
        else:
            self.fail(rel, f"expected a number, got {type(value).__name__}; {hint}")
            return None
        if len(text) > _MAX_NUMBER_CHARS:
            self.fail(rel, f"{_show(text)} is too long for a number; {hint}")
            return None
        if kind == "amount" and _THOUSANDS_RE.fullmatch(text):
            self.fail(
                rel,
                f"{_show(text)} looks like a number with '.' thousands separators; "
                f"send it without separators, e.g. {text.replace('.', '')}",
            )
            return None
        if "," in text:
            self.fail(rel, f"{_show(text)} uses ',' ; use '.' as the decimal separator")
            return None
        if not _NUMBER_RE.fullmatch(text):
            self.fail(rel, f"{_show(text)} is not a number; {hint}")
            return None
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):  # pragma: no cover - regex guards this
            self.fail(rel, f"{_show(text)} is not a number; {hint}")
            return None
        number = _normalise(number)
        if number.adjusted() >= _MAX_INT_DIGITS:
            self.fail(rel, f"{_show(text)} is out of range; {hint}")
            return None
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -10:
            self.fail(rel, f"{_show(text)} has more than 10 decimals; {hint}")
            return None
        return number

    def integer(self, value: Any, rel: str, *, what: str = "an integer") -> int | None:
        """A whole number from an int, an integral float/Decimal or a digit string."""
        if value is None:
            return None
        if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 17:
            return int(value)
        if is_empty(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            if abs(value) >= 10**_MAX_INT_DIGITS:
                self.fail(rel, f"{_show(value)} is out of range; send {what}")
                return None
            return value
        if isinstance(value, (float, str, Decimal)):
            probe = Reader(self.base)
            number = probe.decimal(value, rel, "quantity")
            if number is not None and number == number.to_integral_value():
                return int(number)
        self.fail(rel, f"{_show(value)} is not a whole number; send {what}")
        return None

    def date(self, value: Any, rel: str) -> date | None:
        """A date from ``YYYY-MM-DD`` or an ISO datetime (with or without zone)."""
        if value is None or is_empty(value):
            return None
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            return value
        elif isinstance(value, str) and len(value.strip()) <= 40:
            text = value.strip()
            try:
                if len(text) == 10:
                    return date.fromisoformat(text)
                moment = datetime.fromisoformat(text)
            except ValueError:
                moment = None
        if moment is None:
            self.fail(rel, f"{_show(value)} is not a date; send YYYY-MM-DD, e.g. 2025-10-23")
            return None
        if moment.tzinfo is not None and _SANTIAGO is not None:
            # A timestamp with a zone is an instant; the SII date is the one in Chile.
            moment = moment.astimezone(_SANTIAGO)
        return moment.date()

    # -- structure ---------------------------------------------------------

    def mapping(self, value: Any, rel: str) -> Mapping[str, Any] | None:
        """A nested object, or ``None`` if absent."""
        if is_empty(value):
            return None
        if isinstance(value, Mapping):
            return value
        self.fail(rel, f"expected an object, got {type(value).__name__}")
        return None

    def many(self, value: Any, rel: str, *, limit: int) -> list[Mapping[str, Any]]:
        """A repeated element: one object or a list of objects (at most ``limit``)."""
        if is_empty(value):
            return []
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(items) > limit:
            self.fail(rel, f"{len(items)} entries; at most {limit} are accepted")
            return []
        result: list[Mapping[str, Any]] = []
        for index, item in enumerate(items):
            if isinstance(item, Mapping):
                result.append(item)
            else:
                self.fail(f"{rel}[{index}]", f"expected an object, got {type(item).__name__}")
        return result

    def texts(
        self, value: Any, rel: str, *, limit: int = 10, max_chars: int = 100
    ) -> tuple[str, ...]:
        """A repeated scalar element (Acteco, CodImpAdic): one value or a list."""
        if is_empty(value):
            return ()
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(items) > limit:
            self.fail(rel, f"{len(items)} values; at most {limit} are accepted")
            return ()
        out: list[str] = []
        for index, item in enumerate(items):
            text = self.text(
                item, f"{rel}[{index}]" if len(items) > 1 else rel, max_chars=max_chars
            )
            if text is not None:
                out.append(text)
        return tuple(out)
