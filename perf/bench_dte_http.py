"""``POST /api/ai/validate`` under load: rules only, AI review cached, AI review uncached.

quipu (only the ``dte`` plugin) is served by Granian (1 worker, pinned to one core) on a
throwaway Redis; the Anthropic API is the emulator. ``wrk`` (or the Python client of
:mod:`bench_cache_client` when ``wrk`` is missing) drives it from another core. Scenarios:

- ``rules, flat``: Odoo's flat reception form, ``ai_review = "off"``: parse + 56 rules;
- ``rules, XML 60 lines``: a 60-line factura as SII XML (~9 KB), ``ai_review = "off"``;
- ``AI cached, XML 60 lines``: ``ai_review = "always"``; the AI review comes from L1
  (rules still run on every request: only the AI part is cached);
- ``AI cached, flat + history``: the Odoo payload with 20 history items, AI from L1;
- ``AI uncached, flat``: ``Cache-Control: no-store``, every request calls the emulator
  (no artificial model latency: this is quipu's own cost around an LLM call).

Each scenario runs at 1 connection (latency) and at ``--connections`` (throughput).

Run: ``.venv/bin/python perf/bench_dte_http.py [--duration 5] [--connections 32]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_dte_rules import factura_60_lines, xml_document  # noqa: E402
from harness import Server as HarnessServer  # noqa: E402
from harness import cores, pinned  # noqa: E402
from quipu.testing.emulator import EmulatorConfig, EmulatorProcess  # noqa: E402
from quipu.testing.redis_server import RedisServer  # noqa: E402

API_KEY = "bench-key-0123456789abcdef0123456789abcdef"
PATH = "/api/ai/validate"
AUTH = f"Bearer {API_KEY}"


def today_cl() -> date:
    return datetime.now(ZoneInfo("America/Santiago")).date()


def xml_body(today: date) -> bytes:
    """The 60-line factura of bench_dte_rules, dated today (so no date rule fires)."""
    doc = copy.deepcopy(factura_60_lines())
    doc["Encabezado"]["IdDoc"]["FchEmis"] = today.isoformat()
    doc["Encabezado"]["IdDoc"].pop("FmaPago", None)
    doc["Encabezado"]["IdDoc"]["FmaPago"] = 2
    doc["Referencia"]["FchRef"] = (today - timedelta(days=5)).isoformat()
    dd = doc["TED"]["DD"]
    dd["FE"] = today.isoformat()
    dd["CAF"]["DA"]["FA"] = (today - timedelta(days=30)).isoformat()
    return json.dumps(
        {"dte_data": {"dte_xml": xml_document(doc)}, "company_id": 1}, ensure_ascii=False
    ).encode()


def flat_body(today: date, history: int = 0) -> bytes:
    items = [
        {
            "tipo_dte": "33",
            "folio": str(1000 + i),
            "fecha_emision": (today - timedelta(days=3 * i + 3)).isoformat(),
            "monto_total": 119000.0 + 1000 * i,
            "monto_neto": 100000.0,
            "monto_iva": 19000.0,
            "monto_exento": 0.0,
        }
        for i in range(history)
    ]
    body = {
        "dte_data": {
            "tipo_dte": "33",
            "folio": "12345",
            "fecha_emision": today.isoformat(),
            "rut_emisor": "76354771-K",
            "razon_social_emisor": "Proveedor SpA",
            "monto_total": 119000.0,
            "monto_neto": 100000.0,
            "monto_iva": 19000.0,
            "monto_exento": 0.0,
        },
        "company_id": 1,
        "mode": "reception",
    }
    if items:
        body["history"] = items
    return json.dumps(body).encode()


class Server:
    """quipu with only the dte plugin, on Granian (1 worker)."""

    def __init__(self, dte_config: str, env: dict[str, str], core: int | None) -> None:
        self.config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)  # noqa: SIM115
        self.config.write(f"[platform]\nlog_format = 'json'\n\n[plugins.dte]\n{dte_config}\n")
        self.config.close()
        env = {
            **env,
            "API_KEY": API_KEY,
            "QUIPU_CONFIG": self.config.name,
            "QUIPU_LOAD_PLUGINS": "dte",
        }
        self.server = HarnessServer.factory("quipu-dte", "quipu.app:create_app", env, core)
        self.url = self.server.url + PATH

    def __enter__(self) -> Server:
        self.server.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        os.unlink(self.config.name)

    def probe(self, body: bytes, headers: dict[str, str]) -> tuple[int, str, dict[str, Any]]:
        request = urllib.request.Request(self.url, data=body, method="POST")  # noqa: S310
        request.add_header("Authorization", AUTH)
        request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name, value)
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return (
                response.status,
                response.headers.get("cache-status", "-"),
                json.loads(response.read()),
            )


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    """A wrk duration (``1.23ms``, ``850.00us``) in milliseconds."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    assert found is not None, text
    return float(found.group(1)) * _UNITS[found.group(2)]


def run_wrk(
    url: str,
    body: bytes,
    headers: dict[str, str],
    duration: float,
    connections: int,
    core: str | None,
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\n')
        # A Lua long string: raw UTF-8, no escapes (Lua does not know JSON's \\u escapes).
        script.write(f"wrk.body = [==[{body.decode()}]==]\n")
        for name, value in {
            "Authorization": AUTH,
            "Content-Type": "application/json",
            **headers,
        }.items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        out = subprocess.run(
            pinned(
                core,
                [
                    "wrk",
                    "-t1",
                    f"-c{connections}",
                    f"-d{max(1, round(duration))}s",
                    "--latency",
                    "-s",
                    script.name,
                    url,
                ],
            ),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
    }


def run_python(
    url: str,
    body: bytes,
    headers: dict[str, str],
    duration: float,
    connections: int,
    core: str | None,
) -> dict[str, float]:
    argv = [sys.executable, str(HERE / "bench_cache_client.py"), url, "--body", body.decode()]
    for name, value in {
        "Authorization": AUTH,
        "Content-Type": "application/json",
        **headers,
    }.items():
        argv += ["--header", f"{name}: {value}"]
    argv += ["--connections", str(connections), "--duration", str(duration)]
    out = subprocess.run(pinned(core, argv), capture_output=True, text=True, check=True).stdout
    summary: dict[str, float] = json.loads(out)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client", choices=["wrk", "python"], default=None)
    args = parser.parse_args()
    client = args.client or ("wrk" if shutil.which("wrk") else "python")
    load = run_wrk if client == "wrk" else run_python
    server_core, client_core = cores()
    today = today_cl()
    xml, flat, flat_history = xml_body(today), flat_body(today), flat_body(today, 20)
    no_store = {"Cache-Control": "no-store"}

    print(
        f"python {sys.version.split()[0]}, Granian 1 worker (core {server_core}), {client} "
        f"(core {client_core}), {args.duration:g} s per run; XML body {len(xml)} bytes"
    )
    print(f"{'scenario':<30} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  cache-status")
    rows: list[tuple[str, bytes, dict[str, str], str, str]] = []
    with RedisServer() as redis, EmulatorProcess(EmulatorConfig(reply_words=12)) as emulator:
        emulator.script(
            {
                "tool": "record_review",
                "tool_use": [
                    {
                        "name": "record_review",
                        "input": {
                            "observations": [],
                            "confidence_adjustment": 0,
                            "needs_review": False,
                        },
                    }
                ],
            }
        )
        env = {
            "REDIS_URL": redis.url,
            "ANTHROPIC_API_KEY": "bench",
            "ANTHROPIC_BASE_URL": emulator.url,
        }
        rows = [
            ("rules, flat", flat, {}, "ai_review = 'off'", "skipped"),
            ("rules, XML 60 lines", xml, {}, "ai_review = 'off'", "skipped"),
            ("AI cached, XML 60 lines", xml, {}, "ai_review = 'always'", "cached"),
            ("AI cached, flat + history 20", flat_history, {}, "ai_review = 'always'", "cached"),
            ("AI uncached, flat", flat, no_store, "ai_review = 'always'", "used"),
        ]
        for name, body, headers, config, expect in rows:
            with Server(config, env, server_core) as server:
                # Warm up (and fill the cache), then check the scenario is what it claims.
                for _ in range(3):
                    status, cache_status, answer = server.probe(body, headers)
                assert status == 200, answer
                assert answer["ai"]["status"] == expect, answer["ai"]
                assert answer["recommendation"] == "send", answer
                for connections in (1, args.connections):
                    result = load(
                        server.url, body, headers, args.duration, connections, client_core
                    )
                    print(
                        f"{name:<30} {connections:>5} {result['rps']:>9.0f} "
                        f"{result['p50_ms']:>8.2f} {result['p99_ms']:>8.2f}  {cache_status}"
                        + (f"  non-2xx {result['non_2xx']:.0f}" if result.get("non_2xx") else "")
                    )


if __name__ == "__main__":
    main()
