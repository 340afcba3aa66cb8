"""platform.toml and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from quipu.config import load_settings
from quipu.errors import StartupError


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert (settings.platform.host, settings.platform.port) == ("127.0.0.1", 8002)
    assert settings.redis.pool_size == 50
    assert settings.secrets.api_key is None
    assert settings.source is None


def test_environment_overrides_and_secrets(tmp_path: Path) -> None:
    cfg = tmp_path / "platform.toml"
    cfg.write_text(
        "[platform]\nport = 9000\n"
        "[[auth.keys]]\nname = 'erp'\nenv = 'ERP_KEY'\ncompanies = [3, 4]\n"
    )
    env = {
        "QUIPU_CONFIG": str(cfg),
        "PORT": "8100",
        "HOST": "0.0.0.0",
        "API_KEY": "k1",
        "REDIS_URL": "redis://x:6379/0",
        "ANTHROPIC_API_KEY": "a",
        "ERP_KEY": "erp-secret",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9/",
    }
    settings = load_settings(env=env)
    assert settings.source == str(cfg)
    assert (settings.platform.host, settings.platform.port) == ("0.0.0.0", 8100)
    assert settings.secrets.api_key == "k1"
    assert settings.secrets.redis_url == "redis://x:6379/0"
    assert settings.secrets.anthropic_base_url == "http://127.0.0.1:9/"
    assert settings.secrets.named == {"ERP_KEY": "erp-secret"}
    assert settings.auth.keys[0].companies == (3, 4)


def test_section_problems_are_collected(tmp_path: Path) -> None:
    cfg = tmp_path / "platform.toml"
    cfg.write_text("[platform]\nport = 'x'\n[redis]\npool = 3\n[nonsense]\na = 1\n")
    settings = load_settings(cfg, env={"PORT": "eighty"})
    text = "\n".join(str(p) for p in settings.problems)
    assert "[platform]: Expected `int`, got `str` - at `$.port`" in text
    assert "[redis]: Object contains unknown field `pool`" in text
    assert "[nonsense]: unknown section" in text
    assert "environment PORT: 'eighty' is not an integer" in text


def test_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="file not found"):
        load_settings(tmp_path / "missing.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[platform\n")
    with pytest.raises(StartupError, match="not valid TOML"):
        load_settings(bad, env={})
