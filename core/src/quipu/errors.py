"""Errors the platform raises while it starts."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

__all__ = ["PlatformError", "Problem", "StartupError"]


class PlatformError(Exception):
    """Base class of quipu's own errors."""


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong at start-up: who, what, and how to fix it."""

    where: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


class StartupError(PlatformError):
    """Every problem found while building the platform, reported at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = [f"quipu cannot start: {count} problem{'s' if count != 1 else ''} found"]
        lines += [f"  {i}. {p}" for i, p in enumerate(self.problems, 1)]
        super().__init__("\n".join(lines))
