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

#: August 2026 is not shipped: what an admin loads for it (the Previred figures of the
#: worked examples, domain-chile.md §3).
AUGUST_2026 = {
    "uf": 40850.33,
    "utm": 71900,
    "uta": 862800,
    "sueldo_minimo": 539000,
    "afp_tope_uf": 90.0,
    "salud_tope_uf": 90.0,
    "afc_tope_uf": 135.2,
    "afp_habitat_pct": 11.27,
    "afc_trabajador_indefinido": 0.6,
    "fonasa_pct": 7,
}
