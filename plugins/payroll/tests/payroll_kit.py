"""Helpers of the payroll plugin's HTTP tests: a key scoped to company 1 and the
configuration every test app starts from."""

SCOPED_KEY = "payroll-company-1-key-0123456789abcdef"
SCOPED = {"Authorization": f"Bearer {SCOPED_KEY}"}

BASE_CONFIG = """
[llm.retry]
base_delay_s = 0.01
max_delay_s = 0.05

[llm.breaker]
min_calls = 50

[[auth.keys]]
name = "odoo-empresa-1"
env = "PAYROLL_SCOPED_KEY"
companies = [1]
roles = ["client"]
"""
