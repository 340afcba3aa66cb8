"""quipu's Locust suite: one ``FastHttpUser`` per endpoint family, realistic payloads.

Run against any quipu (``perf/run.py`` does it all on one machine)::

    API_KEY=... .venv/bin/locust -f perf/locustfile.py --host http://127.0.0.1:8002 \\
        --headless -u 40 -r 10 -t 60s --quipu-mix health=10,dte=12 --cache-hit-ratio 0.8

Options (each also an environment variable):

- ``--quipu-mix`` / ``QUIPU_PERF_MIX``: user weights per family (``health``, ``dte``,
  ``batch``, ``payroll``, ``indicators``, ``chat``, ``chat_stream``); default
  :data:`endpoints.DEFAULT_MIX`.
- ``--cache-hit-ratio`` / ``QUIPU_PERF_CACHE_HIT``: share of DTE validations asking for a
  document of the primed pool (cached); the rest are new documents (uncached).
- ``--dte-pool`` / ``QUIPU_PERF_DTE_POOL`` and ``--seed`` / ``QUIPU_PERF_SEED``: the pool
  the runner primes (:func:`payloads.dte_cached_pool`).
- ``--think-time`` / ``QUIPU_PERF_THINK``: ``min,max`` seconds between a user's requests.
- ``--precise-csv`` / ``QUIPU_PERF_PRECISE_CSV``: also write exact percentiles (Locust's
  own round to whole milliseconds under 100 ms, too coarse for a 1 ms route).
- ``--served-file`` / ``QUIPU_PERF_SERVED_FILE``: write which families the host serves.
- ``API_KEY``: the bearer key sent on every request.

A family whose route the host does not serve (absent from its OpenAPI, or answering 404
``Not Found``) is dropped before users start and listed as "not served", so the suite
runs against a quipu with only some plugins installed. The streaming user records the
time to the first text event as its own metric: request type ``SSE``, name ``chat ttfb``.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import sys
import time
import urllib.request
from array import array
from pathlib import Path
from typing import Any

from locust import FastHttpUser, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent))

import payloads
from endpoints import DEFAULT_MIX, ENDPOINTS, FAMILIES, parse_mix

NAMES = {e.key: e.name for e in ENDPOINTS}
_PATHS = {
    "health": ("/health",),
    "dte": ("/api/ai/validate",),
    "batch": ("/api/ai/validate/batch",),
    "payroll": ("/api/payroll/validate",),
    "indicators": ("/api/payroll/indicators/{period}",),
    "chat": ("/api/chat/message", "/api/chat"),
    "chat_stream": ("/api/chat/message/stream",),
}


class _Settings:
    """What the options and the host said, set once at ``init``."""

    def __init__(self) -> None:
        self.mix = parse_mix(DEFAULT_MIX)
        self.hit_ratio = 0.8
        self.think = (0.5, 1.5)
        self.seed = 8
        self.pool: list[bytes] = []
        self.served = dict.fromkeys(FAMILIES, True)
        self.headers: dict[str, str] = {}
        self.expect_hits = False


SETTINGS = _Settings()
_ids = itertools.count()
_latencies: dict[tuple[str, str], array[float]] = {}


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--quipu-mix", env_var="QUIPU_PERF_MIX", default=DEFAULT_MIX)
    parser.add_argument("--cache-hit-ratio", env_var="QUIPU_PERF_CACHE_HIT", default="0.8")
    parser.add_argument("--dte-pool", env_var="QUIPU_PERF_DTE_POOL", default="200")
    parser.add_argument("--seed", env_var="QUIPU_PERF_SEED", default="8")
    parser.add_argument("--think-time", env_var="QUIPU_PERF_THINK", default="0.5,1.5")
    parser.add_argument("--precise-csv", env_var="QUIPU_PERF_PRECISE_CSV", default="")
    parser.add_argument("--served-file", env_var="QUIPU_PERF_SERVED_FILE", default="")
    parser.add_argument(
        "--expect-cache-hits",
        env_var="QUIPU_PERF_EXPECT_HITS",
        default="0",
        help="1: a [cached] request answered without a Cache-Status hit is a failure",
    )


def served_paths(host: str) -> set[str] | None:
    """The paths ``host`` documents in its OpenAPI, or None if it has none."""
    try:
        with urllib.request.urlopen(f"{host.rstrip('/')}/schema/openapi.json", timeout=10) as r:  # noqa: S310
            return set(json.load(r).get("paths", {}))
    except (OSError, ValueError):
        return None


@events.init.add_listener
def _configure(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    if options is None:
        return
    SETTINGS.mix = parse_mix(options.quipu_mix)
    SETTINGS.hit_ratio = float(options.cache_hit_ratio)
    SETTINGS.expect_hits = options.expect_cache_hits == "1"
    low, _, high = options.think_time.partition(",")
    SETTINGS.think = (float(low), float(high or low))
    SETTINGS.seed = int(options.seed)
    SETTINGS.pool = [
        json.dumps(body).encode()
        for body in payloads.dte_cached_pool(int(options.dte_pool), SETTINGS.seed)
    ]
    key = os.environ.get("API_KEY", "")
    SETTINGS.headers = {"Authorization": f"Bearer {key}"} if key else {}
    paths = served_paths(environment.host or "")
    if paths is not None:
        SETTINGS.served = {f: any(p in paths for p in _PATHS[f]) for f in FAMILIES}
    for user_class in environment.user_classes:
        family = getattr(user_class, "family", "")
        user_class.weight = SETTINGS.mix.get(family, 0) if SETTINGS.served.get(family) else 0
    kept = [u for u in environment.user_classes if u.weight > 0]
    if not kept:
        kept = [HealthUser]
        HealthUser.weight = 1
    environment.user_classes[:] = kept
    if options.served_file:
        Path(options.served_file).write_text(json.dumps(SETTINGS.served))


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, exception: Any, **_: Any) -> None:
    if exception is None:
        _latencies.setdefault((request_type, name), array("d")).append(response_time)


def _percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    rank = p / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@events.quitting.add_listener
def _write_precise(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.precise_csv:
        return
    with open(options.precise_csv, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["type", "name", "count", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
             "p999_ms", "max_ms"]
        )  # fmt: skip
        for (kind, name), values in sorted(_latencies.items()):
            ordered = sorted(values)
            writer.writerow(
                [kind, name, len(ordered), f"{sum(ordered) / len(ordered):.3f}"]
                + [f"{_percentile(ordered, p):.3f}" for p in (50, 90, 95, 99, 99.9)]
                + [f"{ordered[-1]:.3f}"]
            )


class QuipuUser(FastHttpUser):
    """Common set-up: the API key, a per-user random stream, think time, 404 handling."""

    abstract = True
    family = ""
    connection_timeout = 10.0
    network_timeout = 60.0

    def on_start(self) -> None:
        self.rng = random.Random(SETTINGS.seed * 1_000_003 + next(_ids))

    def wait_time(self) -> float:
        return self.rng.uniform(*SETTINGS.think)

    def send(
        self,
        method: str,
        path: str,
        name: str,
        body: bytes | None = None,
        *,
        expect_hit: bool = False,
    ) -> Any:
        """One request; a 404 ``Not Found`` means the route is not served: stop this user.

        ``expect_hit`` (with ``--expect-cache-hits 1``): an answer whose ``Cache-Status`` is
        not a hit counts as a failure, so a "cached" row measures cached answers only.
        """
        headers = dict(SETTINGS.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        with self.client.request(
            method, path, data=body, headers=headers, name=name, catch_response=True
        ) as response:
            if response.status_code == 404 and b'"Not Found"' in (response.content or b""):
                response.success()
                SETTINGS.served[self.family] = False
                raise StopUser()
            if response.status_code >= 400:
                detail = (response.text or "")[:200]
                response.failure(f"HTTP {response.status_code}: {detail}")
            elif expect_hit and SETTINGS.expect_hits:
                status = response.headers.get("cache-status") or ""
                if "; hit" not in status:
                    response.failure(f"not a cache hit: Cache-Status {status!r}")
            return response


class HealthUser(QuipuUser):
    """Odoo's availability check (no auth), ``GET /health``."""

    family = "health"

    @task
    def health(self) -> None:
        self.send("GET", "/health", NAMES["health"])


class DteUser(QuipuUser):
    """``POST /api/ai/validate``: a primed document (cached) or a new one (uncached)."""

    family = "dte"

    @task
    def validate(self) -> None:
        if SETTINGS.pool and self.rng.random() < SETTINGS.hit_ratio:
            body = self.rng.choice(SETTINGS.pool)
            self.send("POST", "/api/ai/validate", NAMES["dte_cached"], body, expect_hit=True)
        else:
            body = json.dumps(payloads.dte_request(self.rng)).encode()
            self.send("POST", "/api/ai/validate", NAMES["dte_uncached"], body)


class BatchUser(QuipuUser):
    """``POST /api/ai/validate/batch``: one company's documents of the day."""

    family = "batch"

    @task
    def batch(self) -> None:
        body = json.dumps(payloads.batch_request(self.rng)).encode()
        self.send("POST", "/api/ai/validate/batch", NAMES["dte_batch"], body)


class PayrollUser(QuipuUser):
    """``POST /api/payroll/validate``: one payslip, as Odoo's ``action_done`` sends it."""

    family = "payroll"

    @task
    def payroll(self) -> None:
        body = json.dumps(payloads.payroll_request(self.rng)).encode()
        self.send("POST", "/api/payroll/validate", NAMES["payroll"], body)


class IndicatorsUser(QuipuUser):
    """``GET /api/payroll/indicators/{period}``: the monthly Previred cron."""

    family = "indicators"

    @task
    def indicators(self) -> None:
        self.send("GET", payloads.indicators_path(self.rng), NAMES["indicators"])


class ChatUser(QuipuUser):
    """JSON chat: the Odoo chat mixin (``/api/chat/message``) and wizard (``/api/chat``)."""

    family = "chat"

    @task(3)
    def message(self) -> None:
        body = json.dumps(payloads.chat_message_request(self.rng)).encode()
        self.send("POST", "/api/chat/message", NAMES["chat"], body)

    @task(1)
    def wizard(self) -> None:
        body = json.dumps(payloads.chat_wizard_request(self.rng)).encode()
        self.send("POST", "/api/chat", NAMES["chat_wizard"], body)


class ChatStreamUser(QuipuUser):
    """``POST /api/chat/message/stream`` (SSE): whole stream, and first text as ``chat ttfb``."""

    family = "chat_stream"

    @task
    def stream(self) -> None:
        body = json.dumps(payloads.chat_message_request(self.rng)).encode()
        headers = {
            **SETTINGS.headers,
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "Accept-Encoding": "identity",
        }
        started = time.perf_counter()
        with self.client.request(
            "POST",
            "/api/chat/message/stream",
            data=body,
            headers=headers,
            name=NAMES["chat_stream"],
            stream=True,
            catch_response=True,
        ) as response:
            if response.status_code == 404:
                response.success()
                SETTINGS.served[self.family] = False
                raise StopUser()
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            problem = self._read_events(response, started)
            response.request_meta["response_time"] = (time.perf_counter() - started) * 1000
            if problem:
                response.failure(problem)

    def _read_events(self, response: Any, started: float) -> str | None:
        raw = response._response
        first_text = done = False
        size = 0
        while True:
            line = raw.readline(b"\n")
            if not line:
                break
            size += len(line)
            if not line.startswith(b"data:"):
                continue
            try:
                event = json.loads(line[5:])
            except ValueError:
                return f"malformed SSE data line: {line[:80]!r}"
            kind = event.get("type")
            if kind == "text" and not first_text:
                first_text = True
                self.environment.events.request.fire(
                    request_type="SSE",
                    name=NAMES["chat_ttfb"],
                    response_time=(time.perf_counter() - started) * 1000,
                    response_length=0,
                    exception=None,
                    context={},
                )
            elif kind == "error":
                return f"error event: {str(event.get('content'))[:120]}"
            elif kind == "done":
                done = True
        response.request_meta["response_length"] = size
        if not first_text:
            return "no text event"
        return None if done else "stream ended without a done event"
