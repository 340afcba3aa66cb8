"""Start-up checks that name the plugin at fault and say how to fix it."""

from __future__ import annotations

import importlib.metadata
import os
import sys
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from litestar import get
from quipu.api import CachePolicy, hookimpl
from quipu.app import build_platform
from quipu.cli import main
from quipu.config import load_settings
from quipu.errors import StartupError
from quipu.lifespans import PluginLifespan

CLASH = """
from litestar import get
from quipu.api import hookimpl

@get("/clash")
async def clash() -> dict:
    return {{"from": "{name}"}}

@hookimpl
def register_routes():
    return [clash]
"""


def problems(tmp_path: Path, **plugins: object) -> str:
    cfg = tmp_path / "platform.toml"
    cfg.write_text("")
    with pytest.raises(StartupError) as err:
        build_platform(load_settings(cfg, env={}), plugins=plugins.items())
    return str(err.value)


def set_installed(site: Path, dist: str, when: float) -> None:
    """Date an install: installers write RECORD then. METADATA is dated the other way, as
    uv leaves it (hard-linked from its cache, dated when the wheel was first unpacked)."""
    info = site / f"{dist.replace('-', '_')}-1.0.0.dist-info"
    os.utime(info / "RECORD", (when, when))
    os.utime(info / "METADATA", (2_000_000_000 - when, 2_000_000_000 - when))


@pytest.mark.parametrize("newer", ["aaa", "zzz"])
def test_a_route_clash_blames_the_plugin_installed_last(
    fake_site: Callable[..., Path], tmp_path: Path, newer: str
) -> None:
    for name in ("aaa", "zzz"):
        site = fake_site(
            dist=f"acme-{name}", entry_point=name, module=f"acme_{name}_{newer}",
            source=CLASH.format(name=name),
        )  # fmt: skip
    older = "zzz" if newer == "aaa" else "aaa"
    set_installed(site, f"acme-{older}", 1_000_000_000)
    set_installed(site, f"acme-{newer}", 1_700_000_000)
    message = problems(tmp_path)
    assert (
        f"plugin '{newer}' (acme-{newer} 1.0.0): route GET /clash is already served by "
        f"plugin '{older}' (acme-{older} 1.0.0)"
    ) in message
    assert f"fix: change the path in plugin '{newer}', or add \"{newer}\"" in message


def test_a_plugin_claiming_a_shipped_plugins_route_is_the_one_blamed(
    fake_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dte as `make install` installed it; the newcomer's wheel unpacked by uv years ago.
    site = fake_site(
        dist="acme-validate", entry_point="validate", module="acme_validate",
        source=CLASH.replace('@get("/clash")', '@post("/api/ai/validate")').replace(
            "import get", "import post"
        ).format(name="validate"),
    )  # fmt: skip
    set_installed(site, "acme-validate", time.time())
    monkeypatch.setenv("QUIPU_LOAD_PLUGINS", "dte,validate")
    message = problems(tmp_path)
    dte = importlib.metadata.version("quipu-dte")
    assert (
        "plugin 'validate' (acme-validate 1.0.0): route POST /api/ai/validate is already "
        f"served by plugin 'dte' (quipu-dte {dte})"
    ) in message
    assert "plugin 'dte' (" not in message.split("already served by")[0]


def test_a_route_clash_with_the_core_blames_the_newcomer(tmp_path: Path) -> None:
    @get("/health")
    async def my_health() -> dict[str, str]:
        return {}

    copy = SimpleNamespace(register_routes=hookimpl(lambda: [my_health]))
    message = problems(tmp_path, aaa_copy=copy)
    assert "plugin 'aaa_copy': route GET /health is already served by plugin 'platform'" in message
    assert "plugin 'platform':" not in message


def test_hook_typos_name_distribution_and_version_and_suggest_the_hook(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(
        dist="acme-typo",
        entry_point="typo",
        module="acme_typo_2",
        source="from quipu.api import hookimpl\n\n"
        "@hookimpl\ndef register_route():\n    return []\n\n"
        "@hookimpl\ndef register_prompt():\n    return []\n",
        version="0.9.1",
    )
    message = problems(tmp_path)
    assert "2 problems found" in message
    assert "plugin 'typo' (acme-typo 0.9.1): @hookimpl 'register_route' is not a quipu hook" in (
        message
    )
    assert "did you mean 'register_routes'?" in message
    assert "did you mean 'register_prompts'?" in message
    assert "<module" not in message


def test_a_misspelt_hook_argument_is_named_with_the_ones_the_hook_passes(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(
        dist="acme-args", entry_point="args", module="acme_args", version="2.0.0",
        source="from quipu.api import hookimpl\n\n@hookimpl\ndef register_routes(platfrom):\n"
        "    return []\n",
    )  # fmt: skip
    message = problems(tmp_path)
    assert (
        "plugin 'args' (acme-args 2.0.0): @hookimpl register_routes takes platfrom, which the "
        "hook does not pass"
    ) in message
    assert "fix: did you mean 'platform'? register_routes may take platform" in message


def test_a_positional_record_in_a_hook_gets_the_keyword_fix(tmp_path: Path) -> None:
    def register_cache_policies() -> list[CachePolicy]:
        return [CachePolicy("lookup", 60)]  # type: ignore[misc]

    plugin = SimpleNamespace(register_cache_policies=hookimpl(register_cache_policies))
    message = problems(tmp_path, positional=plugin)
    assert "register_cache_policies raised TypeError: Extra positional arguments" in message
    assert "fix: records are keyword-only: CachePolicy(name=..., ttl_s=...)" in message


def test_a_positional_record_at_import_gets_the_keyword_fix(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(
        dist="acme-early",
        entry_point="early",
        module="acme_early",
        source="from quipu.api import PromptTemplate\n\n"
        "REVIEW = PromptTemplate('review', '1', ('Eres contador.',), '{doc}')\n",
    )
    message = problems(tmp_path)
    assert "plugin 'early' (acme-early 1.0.0): failed to import acme_early: TypeError" in message
    assert (
        "fix: records are keyword-only: PromptTemplate(name=..., version=..., "
        "system_blocks=..., user_template=...); fix or uninstall it"
    ) in message


def test_a_positional_record_skipped_with_warn_still_gets_the_fix(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    fake_site(
        dist="acme-late", entry_point="late", module="acme_late",
        source="from quipu.api import CachePolicy\n\nPOLICY = CachePolicy('answers', 60)\n",
    )  # fmt: skip
    cfg = tmp_path / "platform.toml"
    cfg.write_text('[platform]\non_plugin_error = "warn"\n')
    registry = build_platform(load_settings(cfg, env={}))
    (warning,) = [w for w in registry.warnings if "late" in w]
    assert warning.startswith("plugin 'late' (acme-late 1.0.0) skipped: failed to import")
    assert warning.endswith("(records are keyword-only: CachePolicy(name=..., ttl_s=...))")


async def not_a_context_manager(app: Any) -> None:
    return None


@asynccontextmanager
async def fine(app: Any) -> Any:
    yield


def test_lifespan_mistakes_seen_without_calling_anything(tmp_path: Path) -> None:
    async def bare_generator(app: Any) -> Any:
        yield

    bad = SimpleNamespace(
        register_lifespans=hookimpl(lambda: [not_a_context_manager, bare_generator, fine(None)])
    )
    single = SimpleNamespace(register_lifespans=hookimpl(lambda: fine))
    message = problems(tmp_path, bad=bad, single=single)
    assert "plugin 'bad': register_lifespans: not_a_context_manager is an async function" in (
        message
    )
    assert "bare_generator is an async generator without @asynccontextmanager" in message
    assert "a _AsyncGeneratorContextManager, not a callable taking the app" in message
    assert "fix: return functions decorated with @contextlib.asynccontextmanager" in message
    assert "plugin 'single': register_lifespans returned function, expected a list" in message


LIFESPAN_PLUGIN = """
from quipu.api import hookimpl

def start(app):
    app.state.started = True   # a startup hook, mistaken for a lifespan

@hookimpl
def register_lifespans():
    return [start]
"""


def test_quipu_check_fails_on_a_lifespan_returning_no_context_manager(
    fake_site: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_site(dist="acme-life", entry_point="life", module="acme_life", source=LIFESPAN_PLUGIN)
    (tmp_path / "platform.toml").write_text("")
    monkeypatch.delenv("QUIPU_CONFIG", raising=False)
    monkeypatch.setattr("quipu.cli.configure_logging", lambda *args, **kwargs: None)
    assert main(["--config", str(tmp_path / "platform.toml"), "check"]) == 1
    err = capsys.readouterr().err
    assert "quipu cannot start: 1 problem found" in err
    assert (
        "plugin 'life' (acme-life 1.0.0): lifespan start returned NoneType, "
        "not an async context manager"
    ) in err
    assert "fix: return functions decorated with @contextlib.asynccontextmanager" in err
    assert "acme_life" in sys.modules


def test_quipu_serve_fails_before_serving_on_such_a_lifespan(
    fake_site: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_site(dist="acme-life", entry_point="life", module="acme_life_s", source=LIFESPAN_PLUGIN)
    (tmp_path / "platform.toml").write_text("")
    monkeypatch.delenv("QUIPU_CONFIG", raising=False)
    monkeypatch.setattr("quipu.cli.configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setattr("quipu.serve.serve", lambda settings: pytest.fail("served"))
    assert main(["--config", str(tmp_path / "platform.toml"), "serve", "--port", "1"]) == 1
    assert "lifespan start returned NoneType, not an async context manager" in (
        capsys.readouterr().err
    )


def test_one_module_under_two_entry_points_is_named_not_printed(
    fake_site: Callable[..., Path], tmp_path: Path
) -> None:
    source = "from quipu.api import hookimpl\n\n@hookimpl\ndef register_routes():\n    return []\n"
    for name in ("one", "two"):
        fake_site(dist=f"acme-{name}", entry_point=name, module="acme_same", source=source)
    message = problems(tmp_path)
    assert (
        "plugin 'two' (acme-two 1.0.0): its module is already loaded as plugin 'one' "
        "(acme-one 1.0.0)"
    ) in message
    assert "fix: point each entry point at a module of its own" in message
    assert "<module" not in message


def test_a_wrong_lifespan_fails_start_up_naming_the_plugin() -> None:
    lifespan = PluginLifespan("plugin 'life' (acme-life 1.0.0)", lambda app: "started")
    with pytest.raises(StartupError, match=r"plugin 'life' .*returned str"):
        lifespan(object())
    assert PluginLifespan("plugin 'ok'", fine)(object()) is not None
