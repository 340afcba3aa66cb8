"""Tunable parameters of the rule engine (all defaults follow domain-chile.md)."""

from datetime import date
from decimal import Decimal
from typing import Final

import msgspec

from quipu_dte.rules.catalogue import Severity

__all__ = ["DEFAULT_RULE_CONFIG", "RuleConfig"]


class RuleConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Rule engine settings; decode from JSON with ``msgspec.convert(obj, RuleConfig)``.

    Unknown keys are refused so a typo in deployment config does not silently
    fall back to a default.
    """

    #: General IVA rate (DL 825, 19% since 2003; A7).
    iva_rate: Decimal = Decimal(19)
    #: Pesos of slack for IVA, MntNeto, MntExe, MntTotal, MontoImp. The reference
    #: recommends strict (0) by default; SII itself accepts content mismatches.
    amount_tolerance: int = 0
    #: Pesos of slack for each line's MontoItem.
    line_tolerance: int = 0
    #: FchEmis may be this many days after ``today`` (F3; today is taken in Chile).
    future_tolerance_days: int = 0
    #: Emission older than this many days is a warning (F5; no SII maximum).
    old_document_days: int = 60
    #: CAF validity for the types below (Res. Ex. SII N°58 de 2017; F6).
    caf_validity_months: int = 6
    caf_expiry_types: frozenset[int] = frozenset({33, 43, 46, 56, 61})
    #: The 6-month validity applies to CAFs authorised from this date on.
    caf_expiry_since: date = date(2018, 7, 1)
    #: Detalle maximum for DTE_v10 documents and for boletas (EnvioBOLETA_v11).
    max_lines: int = 60
    max_lines_boleta: int = 1000
    max_references: int = 40
    #: DTE_TOTAL_UNUSUAL fires when MntTotal > factor × the vendor's largest
    #: previous total of the same type, given at least ``min_history`` documents.
    unusual_total_factor: Decimal = Decimal(5)
    min_history: int = 3
    #: Codes to skip entirely, and per-code severity changes
    #: (e.g. ``{"DTE_IVA_MISMATCH": "warning"}`` if a company decides so).
    disabled_codes: frozenset[str] = frozenset()
    severity_overrides: dict[str, Severity] = msgspec.field(default_factory=dict)


DEFAULT_RULE_CONFIG: Final = RuleConfig()
