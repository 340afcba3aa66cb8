"""Start-up validation: every problem is collected and reported once, with a fix."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from litestar import get
from quipu.api import CachePolicy, PromptTemplate, hookimpl
from quipu.app import build_platform
from quipu.config import load_settings
from quipu.errors import StartupError


class AcmeConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    region: str = "cl"
    retries: int = 1


@get("/acme/ping")
async def acme_ping() -> dict[str, str]:
    return {"pong": "acme"}


@get("/acme/ping")
async def other_ping() -> dict[str, str]:
    return {"pong": "other"}


class AcmePlugin:
    """A well-behaved plugin using every hook."""

    @hookimpl
    def register_config_schema(self) -> type[msgspec.Struct]:
        return AcmeConfig

    @hookimpl
    def register_routes(self) -> list[Any]:
        return [acme_ping]

    @hookimpl
    def register_cache_policies(self) -> list[CachePolicy]:
        return [CachePolicy(name="lookup", ttl_s=60)]

    @hookimpl
    def register_prompts(self) -> list[PromptTemplate]:
        return [
            PromptTemplate(
                name="review",
                version="2",
                system_blocks=("Eres contador.",),
                user_template="Documento: {document}",
            )
        ]

    @hookimpl
    def register_lifespans(self) -> list[Any]:
        return []


def build(tmp_path: Path, toml: str = "", **plugins: object) -> Any:
    cfg = tmp_path / "platform.toml"
    cfg.write_text(toml)
    return build_platform(load_settings(cfg, env={}), plugins=plugins.items(), autoload=False)


def problems_of(tmp_path: Path, toml: str = "", **plugins: object) -> str:
    with pytest.raises(StartupError) as err:
        build(tmp_path, toml, **plugins)
    return str(err.value)


def test_records_are_namespaced_by_plugin_name(tmp_path: Path) -> None:
    registry = build(tmp_path, "[plugins.acme]\nregion = 'pe'\n", acme=AcmePlugin())
    assert set(registry.cache_policies) == {"acme.lookup"}
    assert set(registry.prompts) == {"acme.review@2"}
    assert registry.configs["acme"] == AcmeConfig(region="pe")
    info = registry.plugin("acme")
    assert info.routes == ("GET /acme/ping",)
    assert "register_prompts" in info.hooks


def test_ttl_override_applies(tmp_path: Path) -> None:
    registry = build(tmp_path, "[plugins.acme.cache]\nlookup = 5\n", acme=AcmePlugin())
    assert registry.cache_policies["acme.lookup"].ttl_s == 5.0


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = SimpleNamespace(
        register_cache_policies=hookimpl(
            lambda: [
                CachePolicy(name="zero", ttl_s=0),
                "not a policy",
                CachePolicy(name="Bad-Name", ttl_s=1),
            ]
        ),
        register_prompts=hookimpl(
            lambda: [
                PromptTemplate(
                    name="broken", version="1", system_blocks=("x",), user_template="{oops"
                ),
                PromptTemplate(
                    name="positional", version="1", system_blocks=("x",), user_template="a {} b"
                ),
            ]
        ),
        register_routes=hookimpl(lambda: [other_ping]),
    )
    toml = (
        "[plugins.acme]\nregoin = 'cl'\n"
        "[plugins.acme.cache]\nlookupp = 10\n"
        "[plugins.ghost]\nx = 1\n"
    )
    message = problems_of(tmp_path, toml, acme=AcmePlugin(), bad=bad)
    expected = [
        "9 problems found",
        "[plugins.acme]: Object contains unknown field `regoin`",
        "known keys: region, retries",
        "[plugins.acme.cache]: unknown cache policy 'lookupp'",
        "cache policy 'zero' has ttl_s <= 0",
        "register_cache_policies returned a str, expected CachePolicy",
        "CachePolicy name 'Bad-Name' is not valid",
        "prompt 'broken': user_template",
        "prompt 'positional': user_template: positional placeholder",
        "route GET /acme/ping is already served by plugin 'acme'",
        "[plugins.ghost]: no loaded plugin is called 'ghost'",
    ]
    for fragment in expected:
        assert fragment in message, fragment


def test_config_type_error_names_section_and_key(tmp_path: Path) -> None:
    message = problems_of(tmp_path, "[plugins.acme]\nretries = 'many'\n", acme=AcmePlugin())
    assert "[plugins.acme]: Expected `int`, got `str` - at `$.retries`" in message


def test_section_for_a_plugin_without_schema(tmp_path: Path) -> None:
    def no_routes() -> list[Any]:
        return []

    plain = SimpleNamespace(register_routes=hookimpl(no_routes))
    message = problems_of(tmp_path, "[plugins.plain]\nkey = 1\n", plain=plain)
    assert "takes no settings, got: key" in message


def test_a_disabled_plugins_section_is_allowed(tmp_path: Path) -> None:
    registry = build(tmp_path, "[platform]\ndisabled = ['acme']\n[plugins.acme]\nregion='x'\n")
    assert registry.plugin("acme") is None


def test_hook_that_raises_is_attributed(tmp_path: Path) -> None:
    def explode() -> list[Any]:
        raise RuntimeError("kaboom")

    message = problems_of(tmp_path, crash=SimpleNamespace(register_prompts=hookimpl(explode)))
    assert "plugin 'crash': register_prompts raised RuntimeError: kaboom" in message


def test_wrong_return_type_is_reported(tmp_path: Path) -> None:
    odd = SimpleNamespace(register_prompts=hookimpl(lambda: "text"))
    message = problems_of(tmp_path, odd=odd)
    assert "register_prompts returned str, expected a list of PromptTemplate" in message
