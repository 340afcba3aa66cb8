"""Under several Granian workers, ``/metrics`` is the sum over workers, whoever answers."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from quipu.testing.pytest_plugin import TEST_API_KEY

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One scrape on a fresh connection (so any worker may answer it)."""
    text = httpx.get(url + "/metrics", headers=AUTH, timeout=10).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_and_cache_gauges_are_summed_over_two_workers(
    serve_quipu: Any, redis_url: str
) -> None:
    server = serve_quipu({"REDIS_URL": redis_url}, workers=2)
    pids: dict[int, int] = {}
    sent = 0
    # A new connection per request: the kernel hands connections to both workers.
    while (len(pids) < 2 or sent < 40) and sent < 600:
        pid = httpx.get(server.url + "/api/probe/pid", timeout=10).json()["pid"]
        pids[pid] = pids.get(pid, 0) + 1
        sent += 1
    assert len(pids) == 2, f"one worker answered all {sent} requests"

    lookups = 0
    for question in ("uno", "dos", "tres", "uno", "dos", "uno") * 5:
        answer = httpx.post(
            server.url + "/api/probe/echo", json={"question": question}, headers=AUTH, timeout=10
        )
        assert answer.status_code == 200
        lookups += 1
    # No wait: a scrape asks every worker for a fresh snapshot first.

    key = ("quipu_http_requests_total",
           (("method", "GET"), ("route", "/api/probe/pid"), ("status", "200")))  # fmt: skip
    window = ("quipu_cache_window_requests", (("plugin", "probe"), ("policy", "answers")))
    ratio = ("quipu_cache_hit_ratio", (("plugin", "probe"), ("policy", "answers")))
    for _ in range(8):
        values = scrape(server.url)
        assert values[key] == sent
        assert values[window] == lookups
        hits = sum(
            v
            for (name, labels), v in values.items()
            if name == "quipu_cache_requests_total"
            and dict(labels).get("plugin") == "probe"
            and dict(labels)["result"] == "hit"
        )
        assert math.isclose(values[ratio], hits / lookups, rel_tol=1e-6)
        # Gauges combine as their multiprocess_mode says: one series, no per-worker pid label.
        in_flight = [k for k in values if k[0] == "quipu_http_requests_in_flight"]
        assert in_flight == [("quipu_http_requests_in_flight", ())]
        assert values[in_flight[0]] >= 1  # this scrape itself
