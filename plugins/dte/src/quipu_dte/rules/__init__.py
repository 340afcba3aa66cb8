"""Exact, deterministic DTE rule engine.

``validate(doc, today=..., history=..., config=...) -> ValidationReport``;
:data:`CATALOGUE` lists every finding code with its severity and source.
"""

from quipu_dte.rules.catalogue import CATALOGUE, RULESET_VERSION, CodeInfo, Severity
from quipu_dte.rules.config import DEFAULT_RULE_CONFIG, RuleConfig
from quipu_dte.rules.context import Rule
from quipu_dte.rules.engine import ORDERED_RULES as RULES
from quipu_dte.rules.engine import confidence, validate, validate_batch
from quipu_dte.rules.history import (
    HistoryDocument,
    VendorHistory,
    parse_history,
    summarize_history,
)
from quipu_dte.rules.report import Finding, Recommendation, ValidationReport

__all__ = [
    "CATALOGUE",
    "DEFAULT_RULE_CONFIG",
    "RULES",
    "RULESET_VERSION",
    "CodeInfo",
    "Finding",
    "HistoryDocument",
    "Recommendation",
    "Rule",
    "RuleConfig",
    "Severity",
    "ValidationReport",
    "VendorHistory",
    "confidence",
    "parse_history",
    "summarize_history",
    "validate",
    "validate_batch",
]
