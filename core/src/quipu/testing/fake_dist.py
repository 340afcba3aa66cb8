"""Installed-looking plugin distributions made on disk, for discovery tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_fake_plugin"]


def write_fake_plugin(
    site: Path,
    *,
    dist: str,
    entry_point: str,
    module: str,
    source: str,
    version: str = "1.0.0",
) -> None:
    """Write ``module.py`` and a ``*.dist-info`` declaring it in the ``quipu`` group.

    Put ``site`` on ``sys.path`` (``monkeypatch.syspath_prepend``) to make it visible to
    ``importlib.metadata``, as if the distribution were installed there.
    """
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[quipu]\n{entry_point} = {module}\n")
    # RECORD lists the files as an installer would (importlib.metadata's Distribution.files).
    files = [f"{module}.py", *(f"{info.name}/{n}" for n in ("METADATA", "entry_points.txt"))]
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in [*files, f"{info.name}/RECORD"]))
