"""Command-line parsing: environment, then ``--config`` file, then flags."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from quipu.testing.emulator import EmulatorConfig
from quipu.testing.emulator.cli import build_parser, config_from_args
from quipu.testing.emulator.config import CONFIG_ENV_VAR, config_to_env
from quipu.testing.redis_server import free_port


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


@pytest.mark.slow
def test_the_command_says_where_it_listens_before_serving() -> None:
    port = free_port()
    command = [sys.executable, "-m", "quipu.cli", "emulator", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k != CONFIG_ENV_VAR}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            url = f"http://127.0.0.1:{port}"
            assert first == f"Anthropic API emulator listening on {url} (Ctrl-C stops it)\n"
            assert f"ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY=<any value>" in (
                process.stdout.readline()
            )
            # And it does listen there.
            for _ in range(100):
                try:
                    assert httpx.get(f"{url}/_emulator/health", timeout=1).status_code == 200
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise AssertionError(f"nothing answers on {url}")
        finally:
            process.terminate()
            process.wait(timeout=10)
