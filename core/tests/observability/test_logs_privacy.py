"""Logs carry no secret at any level, and no message content or personal data at info.

Every record quipu's code emits while serving requests that authenticate (well and
badly), call the LLM with a message holding a RUT and a salary, fail validation and miss
routes is captured at DEBUG and checked, raw and as the JSON line production writes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from obs_probe import load_probe
from quipu.observability.logs import JsonFormatter, _RequestIdFilter
from quipu.testing.pytest_plugin import TEST_API_KEY

ANTHROPIC_KEY = "sk-ant-test-5f0c1e9a7b3d4c2e8f6a"
WRONG_KEY = "wrong-key-9d8c7b6a5f4e3d2c1b0a99887766"
MESSAGE = "Mi RUT es 12.345.678-5 y mi sueldo líquido es 1.234.567; ¿me descontaron bien la AFP?"


async def test_no_secrets_and_no_content_at_info(
    make_quipu_app: Any,
    quipu_client: Any,
    anthropic_emulator: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    probe = load_probe(tmp_path / "quipu_probe_logs.py")
    app = make_quipu_app(
        [("probe", probe)],
        env={"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": anthropic_emulator.url},
    )
    caplog.set_level(logging.DEBUG)
    async with quipu_client(app) as client:
        answer = await client.post("/api/probe/ask", json={"question": MESSAGE})
        assert answer.status_code == 200, answer.text
        again = await client.post("/api/probe/ask", json={"question": MESSAGE})
        assert "hit" in again.headers["cache-status"]
        bad = await client.post(
            "/api/probe/ask",
            json={"question": MESSAGE},
            headers={"Authorization": f"Bearer {WRONG_KEY}"},
        )
        assert bad.status_code in (401, 403)
        invalid = await client.post("/api/probe/ask", json={"question": 12, "rut": MESSAGE})
        assert invalid.status_code in (400, 422)
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/api/nothing", params={"q": MESSAGE})).status_code == 404
    assert anthropic_emulator.requests()["count"] >= 1, "the LLM was called"

    # The test's own HTTP client (httpx, to testserver.local) is not quipu.
    records = [r for r in caplog.records if "testserver.local" not in r.getMessage()]
    formatter, request_ids = JsonFormatter(), _RequestIdFilter()
    for record in records:
        request_ids.filter(record)
        rendered = f"{record.getMessage()} {formatter.format(record)}"
        for secret in (TEST_API_KEY, WRONG_KEY, ANTHROPIC_KEY):
            assert secret not in rendered, f"secret logged by {record.name}: {rendered}"
        if record.levelno >= logging.INFO:
            for private in (MESSAGE, "12.345.678-5", "1.234.567"):
                assert private not in rendered, f"content logged at info: {rendered}"
