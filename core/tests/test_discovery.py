"""Discovery: one entry-point scan, attribution, blocking, allow-list, failure policy."""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from quipu.app import build_platform
from quipu.config import load_settings
from quipu.errors import StartupError

ROUTE_PLUGIN = """
from litestar import get
from quipu.api import hookimpl

@get("/hello/{{name:str}}")
async def hello(name: str) -> dict:
    return {{"hello": name, "from": "{ep}"}}

@hookimpl
def register_routes():
    return [hello]
"""

EMPTY_PLUGIN = "from quipu.api import hookimpl\n"


def settings(tmp_path: Path, toml: str = "") -> object:
    cfg = tmp_path / "platform.toml"
    cfg.write_text(toml)
    return load_settings(cfg, env={})


def test_installed_plugin_is_discovered_with_its_distribution(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(
        dist="acme-hello",
        entry_point="hello",
        module="acme_hello",
        source=ROUTE_PLUGIN.format(ep="hello"),
        version="2.3.4",
    )
    registry = build_platform(settings(tmp_path))
    info = registry.plugin("hello")
    assert info is not None
    assert (info.distribution, info.version) == ("acme-hello", "2.3.4")
    assert info.routes == ("GET /hello/{name:str}",)
    assert info.hooks == ("register_routes",)


def test_one_entry_point_scan_for_a_hundred_plugins(
    fake_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(100):
        fake_site(
            dist=f"fake-{i}", entry_point=f"fake_{i}", module=f"fake_mod_{i}", source=EMPTY_PLUGIN
        )
    scans = 0
    real = importlib.metadata.distributions

    def counting(**kwargs: object) -> object:
        nonlocal scans
        scans += 1
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "distributions", counting)
    registry = build_platform(settings(tmp_path))
    assert scans == 1
    assert sum(1 for p in registry.plugins if p.name.startswith("fake_")) == 100


def test_disabled_plugin_is_never_imported(fake_site: Callable[..., Path], tmp_path: Path) -> None:
    fake_site(
        dist="acme-boom",
        entry_point="boom",
        module="acme_boom",
        source="raise RuntimeError('imported!')\n",
    )
    registry = build_platform(settings(tmp_path, '[platform]\ndisabled = ["boom"]\n'))
    assert registry.plugin("boom") is None
    assert "acme_boom" not in sys.modules


def test_allow_list_limits_what_is_loaded(
    fake_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_site(dist="acme-a", entry_point="aaa", module="acme_aaa", source=EMPTY_PLUGIN)
    fake_site(dist="acme-b", entry_point="bbb", module="acme_bbb", source=EMPTY_PLUGIN)
    monkeypatch.setenv("QUIPU_LOAD_PLUGINS", "bbb")
    registry = build_platform(settings(tmp_path))
    assert [p.name for p in registry.plugins if not p.builtin] == ["bbb"]


def test_autoload_switch_turns_discovery_off(
    fake_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_site(dist="acme-a", entry_point="aaa", module="acme_aaa2", source=EMPTY_PLUGIN)
    monkeypatch.setenv("QUIPU_DISABLE_PLUGIN_AUTOLOAD", "1")
    registry = build_platform(settings(tmp_path))
    assert [p.name for p in registry.plugins] == ["platform"]


def test_import_failure_names_entry_point_distribution_and_version(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(
        dist="acme-broken",
        entry_point="broken",
        module="acme_broken",
        source="import not_a_module_anywhere\n",
        version="0.9.1",
    )
    with pytest.raises(StartupError) as err:
        build_platform(settings(tmp_path))
    message = str(err.value)
    assert "plugin 'broken' (acme-broken 0.9.1)" in message
    assert "ModuleNotFoundError" in message
    assert 'on_plugin_error = "warn"' in message


def test_warn_policy_skips_a_broken_plugin(fake_site: Callable[..., Path], tmp_path: Path) -> None:
    fake_site(
        dist="acme-broken",
        entry_point="broken",
        module="acme_broken2",
        source="raise ImportError('nope')\n",
    )
    fake_site(dist="acme-good", entry_point="good", module="acme_good", source=EMPTY_PLUGIN)
    registry = build_platform(settings(tmp_path, '[platform]\non_plugin_error = "warn"\n'))
    assert registry.plugin("good") is not None
    assert registry.plugin("broken") is None
    assert any("broken" in w and "skipped" in w for w in registry.warnings)


def test_two_distributions_claiming_one_name_is_an_error(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(dist="acme-one", entry_point="twin", module="acme_twin_one", source=EMPTY_PLUGIN)
    fake_site(dist="acme-two", entry_point="twin", module="acme_twin_two", source=EMPTY_PLUGIN)
    with pytest.raises(StartupError) as err:
        build_platform(settings(tmp_path))
    assert "claimed by 2 distributions: acme-one 1.0.0, acme-two 1.0.0" in str(err.value)


def test_unknown_hook_implementation_is_an_error(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(
        dist="acme-typo",
        entry_point="typo",
        module="acme_typo",
        source="from quipu.api import hookimpl\n\n"
        "@hookimpl\ndef register_route():\n    return []\n",
    )
    with pytest.raises(StartupError) as err:
        build_platform(settings(tmp_path))
    assert "register_route" in str(err.value)
    assert "plugin 'typo'" in str(err.value)


def test_builtin_plugin_cannot_be_disabled(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="built-in plugins cannot be disabled"):
        build_platform(settings(tmp_path, '[platform]\ndisabled = ["platform"]\n'), autoload=False)


def test_section_of_an_installed_plugin_left_out_is_kept(
    fake_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_site(dist="acme-a", entry_point="aaa", module="acme_aaa3", source=EMPTY_PLUGIN)
    fake_site(dist="acme-b", entry_point="bbb", module="acme_bbb3", source=EMPTY_PLUGIN)
    monkeypatch.setenv("QUIPU_LOAD_PLUGINS", "bbb")
    registry = build_platform(settings(tmp_path, "[plugins.aaa]\nanything = 1\n"))
    assert registry.plugin("aaa") is None


def test_sections_of_installed_plugins_are_valid_with_autoload_off(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(dist="acme-a", entry_point="aaa", module="acme_aaa4", source="raise ImportError\n")
    registry = build_platform(settings(tmp_path, "[plugins.aaa]\nanything = 1\n"), autoload=False)
    assert [p.name for p in registry.plugins] == ["platform"]  # and acme_aaa4 never imported
    with pytest.raises(StartupError, match="no loaded plugin is called 'typo'"):
        build_platform(settings(tmp_path, "[plugins.typo]\nx = 1\n"), autoload=False)
