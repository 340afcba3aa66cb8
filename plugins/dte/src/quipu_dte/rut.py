"""RUT (Rol Único Tributario) normalisation and módulo-11 check digit.

Rules from domain-chile.md §1: the canonical form used inside SII XML is
``12345678-5`` (no dots, a dash, uppercase ``K``); user input may carry dots,
spaces, a lowercase ``k``, leading zeros or no dash. The check digit is
computed with :func:`stdnum.cl.rut.calc_check_digit`. stdnum's own
``is_valid`` is not used because it rejects 6-digit bodies, which the SII range
(100.000 – 99.999.999, SII-FORMATO) allows.
"""

import re
from functools import lru_cache
from typing import Final

import msgspec
from stdnum.cl import rut as _stdnum_rut

__all__ = [
    "SII_RUT_MAX",
    "SII_RUT_MIN",
    "Rut",
    "canonical_rut",
    "check_digit",
    "format_rut",
    "is_xsd_canonical",
    "parse_rut",
]

SII_RUT_MIN: Final = 100_000
SII_RUT_MAX: Final = 99_999_999

# Body of 1–8 digits (leading zeros are stripped first), optional dash, DV.
_RUT_RE: Final = re.compile(r"(\d{1,8})-?([0-9K])", re.ASCII)
# The XSD RUTType pattern is "[0-9]+-([0-9]|K)" with length 3..10.
_XSD_RUT_RE: Final = re.compile(r"[0-9]+-[0-9K]")


class Rut(msgspec.Struct, frozen=True):
    """A syntactically valid RUT: numeric body and declared check digit."""

    body: int
    dv: str

    @property
    def canonical(self) -> str:
        """``12345678-5`` form (the one the SII XML requires)."""
        return f"{self.body}-{self.dv}"

    @property
    def expected_dv(self) -> str:
        """The check digit the body should carry."""
        return check_digit(self.body)

    @property
    def dv_ok(self) -> bool:
        """True when the declared check digit matches módulo 11."""
        return self.dv == self.expected_dv

    @property
    def in_sii_range(self) -> bool:
        """True when the body is inside the SII range for DTE parties."""
        return SII_RUT_MIN <= self.body <= SII_RUT_MAX


# A batch repeats the same few RUTs (the company's own, its suppliers): both functions are
# pure, their results immutable, and a hit costs 0.15 µs against 1.6 (parse) and 2.0
# (check digit through python-stdnum) (issue 12).
@lru_cache(maxsize=4096)
def check_digit(body: int) -> str:
    """Return the módulo-11 check digit (``0``-``9`` or ``K``) of a RUT body."""
    return str(_stdnum_rut.calc_check_digit(str(body)))


@lru_cache(maxsize=4096)
def parse_rut(raw: str | None) -> Rut | None:
    """Parse user or XML input into a :class:`Rut`; ``None`` if the format is wrong.

    Accepts dots, surrounding spaces, lowercase ``k``, a missing dash and
    leading zeros, as cl-sii's ``Rut.clean_str`` does. Check digit and range
    are *not* validated here (see :class:`Rut` properties).
    """
    if raw is None or len(raw) > 20:
        return None
    cleaned = raw.strip().replace(".", "").replace(" ", "").upper()
    if len(cleaned) > 2 and cleaned.startswith("CL"):
        cleaned = cleaned[2:]
    # Strip leading zeros of the body but keep a lone "0" (the "0-0" case).
    cleaned = cleaned.lstrip("0") or "0"
    if cleaned[0] == "-":
        cleaned = "0" + cleaned
    match = _RUT_RE.fullmatch(cleaned)
    if match is None:
        return None
    return Rut(int(match.group(1)), match.group(2))


def canonical_rut(raw: str | None) -> str | None:
    """Return ``12345678-5`` form, or ``None`` if ``raw`` is not a RUT."""
    rut = parse_rut(raw)
    return rut.canonical if rut is not None else None


def is_xsd_canonical(raw: str) -> bool:
    """True when ``raw`` already matches the XSD ``RUTType`` pattern.

    Dots or a lowercase ``k`` inside DTE XML make the SII reject the envelope
    with a schema error (RSC), even though both are fine on user input.
    """
    return 3 <= len(raw) <= 10 and _XSD_RUT_RE.fullmatch(raw) is not None


def format_rut(raw: str | None) -> str | None:
    """Printed form ``12.345.678-5`` for messages; ``None`` if not a RUT."""
    rut = parse_rut(raw)
    if rut is None:
        return None
    return f"{rut.body:,}".replace(",", ".") + f"-{rut.dv}"
