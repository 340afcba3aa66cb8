"""The README documents every flat key."""

from pathlib import Path

from quipu_previred.indicators import ERP_KEYS, KEY_SPECS

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_key() -> None:
    patterned = ("afp_", "asig_fam_tramo_")
    for key in KEY_SPECS:
        if key.startswith(patterned) and "_fondo_" in key:
            continue  # documented as afp_<afp>_fondo_<a..e>
        if key.endswith("_comision_pct"):
            continue  # documented as afp_<afp>_comision_pct
        if key.startswith("asig_fam_tramo_") and key.endswith("_hasta"):
            continue  # documented as a range
        assert f"`{key}`" in README or key in README, key
    for key in ERP_KEYS:
        assert key in README, key
