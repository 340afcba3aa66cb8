"""The single input-error type of the DTE library."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["MAX_REPORTED_PROBLEMS", "DteInputError"]

#: Cap on collected problems so a pathological payload cannot build a huge error.
MAX_REPORTED_PROBLEMS: Final = 50


class DteInputError(ValueError):
    """Input that cannot be read as a DTE (or PO-matching / history payload).

    ``problems`` is a list of ``(field_path, problem)`` pairs. Each problem says
    what is wrong and how to fix it, e.g.
    ``("dte_data.monto_iva", '"12a" is not a number; send an integer amount in pesos')``.
    This is the only exception the parsers raise for bad input; the HTTP layer
    can map it to a 422 with :meth:`to_list`.
    """

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        items = list(problems)[:MAX_REPORTED_PROBLEMS] or [("", "invalid input")]
        self.problems: list[tuple[str, str]] = items
        super().__init__("; ".join(f"{path}: {msg}" if path else msg for path, msg in items))

    def __reduce__(self) -> tuple[type[DteInputError], tuple[list[tuple[str, str]]]]:
        # Batches are checked in worker processes: the error must cross back intact.
        return (DteInputError, (self.problems,))

    def to_list(self) -> list[dict[str, str]]:
        """JSON-ready ``[{"field": ..., "problem": ...}, ...]``."""
        return [{"field": path, "problem": msg} for path, msg in self.problems]
