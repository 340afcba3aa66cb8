"""The README documents every finding code and every default line code."""

from pathlib import Path

from quipu_payroll.findings import CATALOGUE
from quipu_payroll.odoo_codes import DEFAULT_CODE_MAP

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_finding_code_is_documented() -> None:
    for code in CATALOGUE:
        assert f"`{code}`" in README, code


def test_every_default_line_code_is_documented() -> None:
    for code in DEFAULT_CODE_MAP:
        assert f"`{code}`" in README, code
