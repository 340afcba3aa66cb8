"""The one exception of the payroll library: an input that is not a checkable slip."""

from collections.abc import Iterable

import msgspec

__all__ = ["InputProblem", "SlipInputError"]


class InputProblem(msgspec.Struct, frozen=True):
    """One reason an input cannot be checked: where, what, and how to fix it."""

    path: str
    message: str
    hint: str = ""


class SlipInputError(ValueError):
    """The input is not a payslip we can check; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[InputProblem]) -> None:
        self.problems = list(problems)
        text = "; ".join(
            f"{p.path}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in self.problems
        )
        super().__init__(f"Liquidación no verificable: {text}")
