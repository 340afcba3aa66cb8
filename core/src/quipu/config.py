"""Platform configuration: ``platform.toml`` plus the environment, as frozen Structs.

The file holds what operators share between deployments; the environment holds what
differs per deployment (``PORT``, ``HOST``) and every secret (``API_KEY``, ``REDIS_URL``,
``ANTHROPIC_API_KEY``). Secrets are only ever named in the file (``env = "ODOO_KEY"``),
never written into it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from quipu.errors import Problem, StartupError

__all__ = [
    "ApiKeySpec",
    "AuthSection",
    "BreakerSection",
    "CacheSection",
    "LlmSection",
    "ModelPrice",
    "PlatformSection",
    "RedisSection",
    "RetrySection",
    "Secrets",
    "Settings",
    "load_settings",
]

Role = Literal["client", "admin", "metrics"]


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class PlatformSection(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[platform]``: plugin loading policy and serving."""

    disabled: tuple[str, ...] = ()
    on_plugin_error: Literal["fail", "warn"] = "fail"
    host: str = "127.0.0.1"
    port: int = 8002
    workers: int = 0
    """Granian workers; 0 picks one per CPU core."""
    health_probe_interval_s: float = 5.0
    max_body_bytes: int = 5 * 1024 * 1024
    log_format: Literal["auto", "json", "console"] = "auto"
    metrics_access: Literal["role", "internal"] = "role"
    """Who may read ``/metrics``: ``role`` only keys with the ``metrics`` role; ``internal``
    also callers without a key whose address is in ``internal_networks``."""
    internal_networks: tuple[str, ...] = (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    )
    """Client networks (CIDR) that ``metrics_access = "internal"`` lets read ``/metrics``."""


class ApiKeySpec(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One API key, read from the environment variable ``env``."""

    name: str
    env: str
    companies: tuple[int, ...] | Literal["*"] = ()
    roles: tuple[Role, ...] = ("client",)


class AuthSection(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[auth]``: API keys beyond the single full-access ``API_KEY``."""

    keys: tuple[ApiKeySpec, ...] = ()


class RedisSection(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[redis]``: the shared Redis (its URL comes from ``REDIS_URL``)."""

    pool_size: int = 50
    socket_timeout_s: float = 0.25
    connect_timeout_s: float = 0.25
    breaker_failures: int = 3
    """Consecutive Redis errors that open the cache's circuit breaker."""
    breaker_probe_interval_s: float = 1.0
    """While the breaker is open, PING Redis this often; the first answer closes it."""


class CacheSection(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[cache]``: the in-process tier (L1) in front of Redis, and the hit-ratio window."""

    l1_max_entries: int = 10_000
    """0 turns the in-process tier off."""
    l1_max_bytes: int = 64 * 1024 * 1024
    l1_max_ttl_s: float = 300.0
    """An L1 copy lives at most this long (and never longer than its Redis entry)."""
    hit_ratio_window_s: float = 300.0


class ModelPrice(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """USD per million tokens of one model, and its minimum cacheable prefix.

    Cache and batch prices default to Anthropic's published multipliers of the input price
    (5-minute write x1.25, 1-hour write x2, read x0.1) and batch discount (50%).
    """

    input: float
    output: float
    cache_write_5m: float | None = None
    cache_write_1h: float | None = None
    cache_read: float | None = None
    batch_discount: float = 0.5
    min_cacheable_tokens: int = 1024


class BreakerSection(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[llm.breaker]``: open on ``failure_ratio`` of >= ``min_calls`` in ``window_s``."""

    failure_ratio: float = 0.5
    min_calls: int = 5
    window_s: float = 60.0
    cooldown_s: float = 30.0


class RetrySection(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[llm.retry]``: exponential backoff with full jitter, inside the call's deadline."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0


class LlmSection(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[llm]``: the Anthropic model, limits, prices (key and base URL come from the env)."""

    model: str = "claude-sonnet-4-6"
    deadline_s: float = 60.0
    """Overall time for one call, retries included; plugins may pass a shorter one."""
    max_tokens_per_request: int = 100_000
    max_estimated_cost_per_request: float = 1.00
    exact_token_count: Literal["never", "near_limit", "always"] = "near_limit"  # noqa: S105
    """When to ask ``count_tokens`` instead of trusting the local estimate."""
    near_limit_ratio: float = 0.8
    prompt_cache_ttl: Literal["5m", "1h"] = "5m"
    sampling: Mapping[str, float] = msgspec.field(default_factory=dict)
    """``temperature`` etc.; sent only if set, and refused by API version 2026-10-21."""
    monthly_budget_usd: float | None = None
    """Default monthly budget per company; None = unlimited."""
    company_budgets_usd: Mapping[str, float] = msgspec.field(default_factory=dict)
    """Monthly budgets by company id, overriding ``monthly_budget_usd``."""
    prices: Mapping[str, ModelPrice] = msgspec.field(default_factory=dict)
    """Overrides and additions to the shipped price table (``quipu/llm/prices.toml``)."""
    breaker: BreakerSection = BreakerSection()
    retry: RetrySection = RetrySection()
    max_concurrency: int = 32
    """Upstream calls in flight per process; more wait their turn."""


class Secrets(msgspec.Struct, frozen=True, kw_only=True):
    """Values read from the environment only. Never logged, never shown."""

    api_key: str | None = None
    redis_url: str | None = None
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    named: Mapping[str, str] = msgspec.field(default_factory=dict)
    """Keys of ``[auth.keys]``, by their environment variable name."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the platform is configured with."""

    platform: PlatformSection = PlatformSection()
    auth: AuthSection = AuthSection()
    redis: RedisSection = RedisSection()
    cache: CacheSection = CacheSection()
    llm: LlmSection = LlmSection()
    plugins: Mapping[str, Mapping[str, Any]] = msgspec.field(default_factory=dict)
    """Raw ``[plugins.<name>]`` sections, decoded against each plugin's schema later."""
    secrets: Secrets = Secrets()
    source: str | None = None
    """The file the settings came from, if any."""
    problems: tuple[Problem, ...] = ()
    """What was wrong in the file; start-up reports them with the plugins' problems."""


_SECTIONS: dict[str, type[_Section]] = {
    "platform": PlatformSection,
    "auth": AuthSection,
    "redis": RedisSection,
    "cache": CacheSection,
    "llm": LlmSection,
}


def _config_path(path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path)
    if "QUIPU_CONFIG" in env:
        return Path(env["QUIPU_CONFIG"])
    default = Path("platform.toml")
    return default if default.is_file() else None


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``platform.toml`` (or ``QUIPU_CONFIG``) and the environment.

    Args:
        path: The file to read; default ``QUIPU_CONFIG``, else ``./platform.toml`` if present,
            else built-in defaults.
        env: The environment (default ``os.environ``).

    Problems inside sections (unknown keys, wrong types) are collected in
    ``Settings.problems`` and reported by start-up together with the plugins' problems.

    Raises:
        StartupError: the file cannot be read or is not TOML.
    """
    env = os.environ if env is None else env
    file = _config_path(path, env)
    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    if file is not None:
        try:
            raw = msgspec.toml.decode(file.read_bytes())
        except FileNotFoundError:
            raise StartupError(
                [Problem(str(file), "file not found", "create it or unset QUIPU_CONFIG")]
            ) from None
        except msgspec.DecodeError as exc:
            raise StartupError([Problem(str(file), f"not valid TOML: {exc}")]) from None

    where = str(file) if file else "platform.toml"
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "plugins":
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                problems.append(
                    Problem(
                        f"{where} [plugins]",
                        "must hold one table per plugin",
                        "write [plugins.<name>] tables",
                    )
                )
            continue
        section_type = _SECTIONS.get(key)
        if section_type is None:
            known = ", ".join(f"[{name}]" for name in [*_SECTIONS, "plugins.<name>"])
            problems.append(
                Problem(f"{where} [{key}]", "unknown section", f"known sections: {known}")
            )
            continue
        try:
            sections[key] = msgspec.convert(value, type=section_type)
        except msgspec.ValidationError as exc:
            problems.append(Problem(f"{where} [{key}]", str(exc), _fix_hint(section_type)))

    platform: PlatformSection = sections.get("platform", PlatformSection())
    for network in platform.internal_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            problems.append(
                Problem(
                    f"{where} [platform] internal_networks",
                    str(exc),
                    'write networks in CIDR form, e.g. "10.0.0.0/8" or "::1/128"',
                )
            )
    overrides: dict[str, Any] = {}
    if "HOST" in env:
        overrides["host"] = env["HOST"]
    for name, field in (("PORT", "port"), ("QUIPU_WORKERS", "workers")):
        if name in env:
            try:
                overrides[field] = int(env[name])
            except ValueError:
                problems.append(Problem(f"environment {name}", f"{env[name]!r} is not an integer"))
    if overrides:
        platform = msgspec.structs.replace(platform, **overrides)

    auth: AuthSection = sections.get("auth", AuthSection())
    secrets = Secrets(
        api_key=env.get("API_KEY") or None,
        redis_url=env.get("REDIS_URL") or None,
        anthropic_api_key=env.get("ANTHROPIC_API_KEY") or None,
        anthropic_base_url=env.get("ANTHROPIC_BASE_URL") or None,
        named={k.env: env[k.env] for k in auth.keys if env.get(k.env)},
    )
    return Settings(
        platform=platform,
        auth=auth,
        redis=sections.get("redis", RedisSection()),
        cache=sections.get("cache", CacheSection()),
        llm=sections.get("llm", LlmSection()),
        plugins=raw.get("plugins", {}) if isinstance(raw.get("plugins"), dict) else {},
        secrets=secrets,
        source=str(file) if file else None,
        problems=tuple(problems),
    )


def _fix_hint(section_type: type[msgspec.Struct]) -> str:
    return "known keys: " + ", ".join(section_type.__struct_fields__)
