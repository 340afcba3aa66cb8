"""quipu previred plugin: Previred's monthly indicators as a pure library.

The shipped published values (``data/YYYY.toml``), the original API's flat
form, plausibility checks, and PDF/LLM-extraction helpers
(:mod:`quipu_previred.extract`, imported on demand because it loads pypdf)::

    from quipu_previred import load_published, to_flat

    flat = to_flat(load_published("2025-07"))
"""

from quipu_previred.indicators import (
    ERP_KEYS,
    KEY_SPECS,
    Indicators,
    IndicatorsError,
    PeriodError,
    from_flat,
    load_published,
    parse_period,
    to_flat,
)
from quipu_previred.validation import CORE_KEYS, range_check

__version__ = "0.1.0"

__all__ = [
    "CORE_KEYS",
    "ERP_KEYS",
    "KEY_SPECS",
    "Indicators",
    "IndicatorsError",
    "PeriodError",
    "__version__",
    "from_flat",
    "load_published",
    "parse_period",
    "range_check",
    "to_flat",
]
