"""quipu dte plugin: pure domain library for Chilean DTE pre-validation.

Main entry points (imported lazily, so ``import quipu_dte`` stays cheap for the
plugin loader):

* :func:`quipu_dte.parse.parse_dte_data` → :class:`~quipu_dte.model.ParsedDocuments`
* :func:`quipu_dte.rules.validate` / :func:`quipu_dte.rules.validate_batch`
  → :class:`~quipu_dte.rules.ValidationReport`
* :func:`quipu_dte.rules.parse_history`, :func:`quipu_dte.rules.summarize_history`
* :func:`quipu_dte.matching.match_po_request` → :class:`~quipu_dte.matching.MatchResult`
* :func:`quipu_dte.knowledge.knowledge_documents`
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "DteInputError": "quipu_dte.errors",
    "DteDocument": "quipu_dte.model",
    "ParsedDocuments": "quipu_dte.model",
    "parse_dte_data": "quipu_dte.parse",
    "RULESET_VERSION": "quipu_dte.rules",
    "RuleConfig": "quipu_dte.rules",
    "ValidationReport": "quipu_dte.rules",
    "VendorHistory": "quipu_dte.rules",
    "parse_history": "quipu_dte.rules",
    "summarize_history": "quipu_dte.rules",
    "validate": "quipu_dte.rules",
    "validate_batch": "quipu_dte.rules",
    "MatchResult": "quipu_dte.matching",
    "match_po_request": "quipu_dte.matching",
    "knowledge_documents": "quipu_dte.knowledge",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Resolve the public names above on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'quipu_dte' has no attribute {name!r}")
    return getattr(import_module(module), name)
