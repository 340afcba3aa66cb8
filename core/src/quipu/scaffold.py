"""``quipu new-plugin NAME``: a new plugin distribution from the template shipped with quipu.

The template (``quipu/templates/plugin``, a copier template) writes a route, a cache policy,
a prompt, a config schema, a README and tests that use :mod:`quipu.testing`; quipu's own
suite generates one, installs it and runs its tests, so the template cannot rot.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from quipu import __version__
from quipu.records import NAME_PATTERN

__all__ = ["TEMPLATE", "new_plugin"]

#: The template folder inside the installed ``quipu`` package.
TEMPLATE = "templates/plugin"


def new_plugin(
    name: str,
    dest: Path | None = None,
    *,
    distribution: str | None = None,
    module: str | None = None,
) -> Path:
    """Write a new plugin called ``name`` into ``dest`` and return the folder.

    Args:
        name: The plugin's entry-point name (``^[a-z][a-z0-9_]*$``, not ``platform``).
        dest: The folder to create; default ``./quipu-<name>``.
        distribution: The distribution name; default ``quipu-<name>``.
        module: The Python package; default ``quipu_<name>``.

    Raises:
        ValueError: the name is invalid or ``dest`` exists and is not empty.
    """
    if not NAME_PATTERN.match(name) or name == "platform":
        raise ValueError(
            f"plugin name {name!r} is not valid: use a lower-case name matching "
            "^[a-z][a-z0-9_]*$ other than 'platform' (e.g. greeter)"
        )
    data = {"name": name, "quipu_version": __version__}
    if distribution:
        data["distribution"] = distribution
    if module:
        data["module"] = module
    target = dest or Path(f"quipu-{name.replace('_', '-')}")
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} exists and is not empty: choose another --dest")

    from copier import run_copy  # heavy import, only for this command

    with resources.as_file(resources.files("quipu").joinpath(TEMPLATE)) as template:
        run_copy(str(template), target, data=data, defaults=True, quiet=True)
    return target
