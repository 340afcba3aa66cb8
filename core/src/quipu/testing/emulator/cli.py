"""Command line: ``python -m quipu.testing.emulator --port 8089 --ttft-ms 300 ...``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import msgspec

from quipu.testing.emulator.config import EmulatorConfig, config_from_env, patch_config
from quipu.testing.emulator.server import serve

__all__ = ["banner", "build_parser", "config_from_args", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Argument parser; flags override ``--config`` which overrides the environment."""
    parser = argparse.ArgumentParser(
        prog="python -m quipu.testing.emulator",
        description="Local emulator of the Anthropic Messages API (for tests and load tests).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--config", type=Path, help="JSON file with EmulatorConfig fields")
    parser.add_argument("--ttft-ms", type=float, help="time to first token, ms")
    parser.add_argument("--tokens-per-s", type=float, help="output pacing (0 = unpaced)")
    parser.add_argument("--reply-words", type=int, help="words in the default reply")
    parser.add_argument(
        "--api-key", action="append", dest="api_keys", help="accepted key (repeatable)"
    )
    parser.add_argument("--accept-unknown-models", action="store_true", default=None)
    parser.add_argument("--slow-first-token-ms", type=float)
    parser.add_argument("--hang-s", type=float, help="stall of the `timeout` fault")
    parser.add_argument("--retry-after-s", type=int)
    parser.add_argument("--fault-seed", type=int)
    parser.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Environment config, then the ``--config`` file, then explicit flags."""
    config = config_from_env()
    if args.config is not None:
        config = patch_config(config, msgspec.json.decode(args.config.read_bytes()))
    names = (
        "ttft_ms",
        "tokens_per_s",
        "reply_words",
        "api_keys",
        "accept_unknown_models",
        "slow_first_token_ms",
        "hang_s",
        "retry_after_s",
        "fault_seed",
    )
    changes: dict[str, Any] = {
        name: getattr(args, name) for name in names if getattr(args, name) is not None
    }
    return patch_config(config, changes) if changes else config


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and serve until interrupted. Returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (msgspec.ValidationError, msgspec.DecodeError, OSError) as error:
        parser.error(f"invalid configuration: {error}")
    print(banner(args.host, args.port, config), flush=True)
    serve(args.host, args.port, config, log_level=args.log_level)
    return 0


def banner(host: str, port: int, config: EmulatorConfig) -> str:
    """What the emulator prints before serving: where it listens and how to use it."""
    url = f"http://{host}:{port}"
    keys = "one of " + ", ".join(config.api_keys) if config.api_keys else "any value"
    return (
        f"Anthropic API emulator listening on {url} (Ctrl-C stops it)\n"
        f"  point quipu at it: ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY=<{keys}>\n"
        "  answers: a forced tool call gets an input valid against the tool's schema (same "
        f"prompt, same input); other requests {config.reply_words} words of text\n"
        f"  what it received: curl -s {url}/_emulator/requests"
    )
