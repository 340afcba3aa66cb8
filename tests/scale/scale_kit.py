"""What the scale-out tests share: several ``quipu serve`` processes on one Redis
deployment, request helpers, and reading one process's metrics."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
from platform_kit import CONFIG, KEYS_ENV, LLM_CONFIG, llm_env
from quipu.testing.pytest_plugin import TEST_API_KEY
from quipu.testing.server import QuipuServer

T = TypeVar("T")

VALIDATE = "/api/ai/validate"
FAST_REDIS = """
[platform]
health_probe_interval_s = 0.2

[redis]
socket_timeout_s = 0.2
connect_timeout_s = 0.2
breaker_failures = 3
breaker_probe_interval_s = 0.2
"""


@contextlib.contextmanager
def instances(
    count: int, redis_url: str, emulator: Any, extra: str = ""
) -> Iterator[list[QuipuServer]]:
    """``count`` ``quipu serve`` processes (one Granian worker each, every plugin, separate
    ports) on ``redis_url``, the emulator as the model; all healthy on entry."""
    env = {
        "API_KEY": TEST_API_KEY,
        "REDIS_URL": redis_url,
        **KEYS_ENV,
        **llm_env(emulator),
        "QUIPU_WORKERS": "1",
    }
    with tempfile.TemporaryDirectory(prefix="quipu-scale-") as folder:
        servers: list[QuipuServer] = []
        try:
            for n in range(count):  # started together: they boot in parallel
                home = Path(folder) / f"q{n}"
                home.mkdir()
                servers.append(QuipuServer(CONFIG + LLM_CONFIG + extra, env, folder=home))
            for server in servers:
                server.wait_healthy()
            yield servers
        finally:
            for server in servers:
                server.stop()


@contextlib.contextmanager
def clients(servers: list[QuipuServer], headers: Mapping[str, str]) -> Iterator[list[httpx.Client]]:
    """One httpx.Client per server, sending ``headers``."""
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(httpx.Client(base_url=s.url, headers=dict(headers), timeout=15.0))
            for s in servers
        ]


def poll(
    probe: Callable[[], T | None], timeout_s: float, what: str = "", every_s: float = 0.05
) -> T:
    """The first truthy value of ``probe()`` within ``timeout_s``; AssertionError (naming
    ``what``) otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'}: not true within {timeout_s} s")
        time.sleep(every_s)


def metric(client: httpx.Client, name: str, auth: Mapping[str, str], **labels: str) -> float:
    """The sum of ``name``'s samples on one instance whose labels include ``labels``."""
    from prometheus_client.parser import text_string_to_metric_families

    response = client.get("/metrics", headers=dict(auth))
    assert response.status_code == 200, response.text
    total = 0.0
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total
