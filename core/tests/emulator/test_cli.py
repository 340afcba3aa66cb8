"""Command-line parsing: environment, then ``--config`` file, then flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from quipu.testing.emulator import EmulatorConfig
from quipu.testing.emulator.cli import build_parser, config_from_args
from quipu.testing.emulator.config import CONFIG_ENV_VAR, config_to_env


def test_flags_override_file_which_overrides_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_config = EmulatorConfig(ttft_ms=10, tokens_per_s=5, reply_words=7)
    monkeypatch.setenv(CONFIG_ENV_VAR, config_to_env(env_config))
    file = tmp_path / "emu.json"
    file.write_text('{"tokens_per_s": 50, "api_keys": ["a"]}')

    args = build_parser().parse_args(
        ["--config", str(file), "--ttft-ms", "300", "--api-key", "x", "--api-key", "y"]
    )
    config = config_from_args(args)

    assert config.ttft_ms == 300  # flag
    assert config.tokens_per_s == 50  # file
    assert config.reply_words == 7  # environment
    assert config.api_keys == ("x", "y")  # flag replaces file


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    from quipu.testing.emulator.cli import main

    with pytest.raises(SystemExit) as raised:
        main(["--reply-words", "0"])
    assert raised.value.code == 2
