"""The README's AI demo does what the README says: its curl asks for the review, the emulator
answers it, and the repeats it describes are cache hits."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from platform_kit import llm_env

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_curl(path: str) -> str:
    """The body (``-d '...'``) of the README's curl to ``path``."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M)
    (block,) = [b for b in blocks if f"8002{path}" in b]
    match = re.search(r"-d '(.*?)'", block, re.S)
    assert match, block
    return match.group(1)


def test_the_emulator_is_where_the_readme_points_quipu() -> None:
    makefile = (ROOT / "Makefile").read_text()
    port = re.search(r"quipu emulator --port (\d+)", makefile)
    assert port
    assert f"ANTHROPIC_BASE_URL=http://127.0.0.1:{port.group(1)}" in README


@pytest.mark.usefixtures("flushed_redis")
async def test_the_readme_curl_gets_an_ai_review_then_cache_hits(
    make_quipu_app: Callable[..., Any],
    quipu_client: Any,
    anthropic_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = readme_curl("/api/ai/validate")
    # The repository's platform.toml, as `make run` reads it; only dte answers this route
    # (previred would try to download indicators at start-up).
    monkeypatch.setenv("QUIPU_LOAD_PLUGINS", "dte")
    # One thread for batches: no process pool to start for a test that sends no batch.
    config = (
        (ROOT / "platform.toml")
        .read_text()
        .replace("[plugins.dte]\n", "[plugins.dte]\nbatch_workers = 1\n", 1)
    )
    app = make_quipu_app(config=config, env=llm_env(anthropic_emulator), autoload=True)
    headers = {"Content-Type": "application/json"}
    async with quipu_client(app) as client:
        first = await client.post("/api/ai/validate", content=body, headers=headers)
        again = await client.post("/api/ai/validate", content=body, headers=headers)
        document = json.loads(body)
        document["dte_data"] = dict(reversed(document["dte_data"].items()))
        reordered = await client.post("/api/ai/validate", json=document)

    answer = first.json()
    assert first.status_code == 200, first.text
    assert answer["ai"]["status"] == "used"
    assert answer["recommendation"] == "review"
    assert [f["source"] for f in answer["findings"]] == ["ai"]
    assert re.match(r"AI_[A-Z_]+: \S", answer["warnings"][0])
    assert {"llm", "overhead"} <= {
        part.split(";")[0].strip() for part in first.headers["server-timing"].split(",")
    }
    # The same bytes: the response cache. The same document otherwise: the review cache.
    assert again.headers["cache-status"].startswith("quipu; hit")
    assert again.content == first.content
    assert reordered.json()["ai"] == {
        "status": "cached",
        "model": answer["ai"]["model"],
        "cost_usd": 0.0,
    }
    assert anthropic_emulator.requests()["count"] == 1
