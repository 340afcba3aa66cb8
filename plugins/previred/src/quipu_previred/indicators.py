"""Public façade of the indicators library: the record, the shipped data, the flat form.

Import from here (or from the package root)::

    from quipu_previred.indicators import load_published, to_flat

    ind = load_published("2025-07")          # Indicators | None
    flat = to_flat(ind)                      # {"uf": 39179.01, "utm": 68923, ...}

The pieces live in small modules: :mod:`~quipu_previred.model` (the Struct),
:mod:`~quipu_previred.periods`, :mod:`~quipu_previred.published` (TOML data),
:mod:`~quipu_previred.flat` and :mod:`~quipu_previred.keys` (flat keys).
"""

from quipu_previred.flat import IndicatorsError, from_flat, to_decimal, to_flat
from quipu_previred.keys import ERP_KEYS, KEY_SPECS, KeySpec
from quipu_previred.model import AFP_LABELS, AFP_NAMES, AfpRate, AsigFamTramo, Indicators, afp_key
from quipu_previred.periods import (
    PeriodError,
    format_period,
    month_end,
    parse_period,
    period_label,
    shift_period,
)
from quipu_previred.published import (
    PublishedMonth,
    ValueRun,
    load_published,
    published_fingerprint,
    published_month,
    published_periods,
    value_runs,
)

__all__ = [
    "AFP_LABELS",
    "AFP_NAMES",
    "ERP_KEYS",
    "KEY_SPECS",
    "AfpRate",
    "AsigFamTramo",
    "Indicators",
    "IndicatorsError",
    "KeySpec",
    "PeriodError",
    "PublishedMonth",
    "ValueRun",
    "afp_key",
    "format_period",
    "from_flat",
    "load_published",
    "month_end",
    "parse_period",
    "period_label",
    "published_fingerprint",
    "published_month",
    "published_periods",
    "shift_period",
    "to_decimal",
    "to_flat",
    "value_runs",
]
