"""Against an unscripted emulator, the review behaves as in production: used, then cached."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dte_builders import flat_odoo
from dte_http import HISTORY, messages_calls

URL = "/api/ai/validate"


async def test_a_repeated_validation_is_a_cache_hit_without_any_script(
    dte_app: Callable[..., Any], quipu_client: Any, anthropic_emulator: Any
) -> None:
    app = dte_app("ai_review = 'always'", llm=anthropic_emulator)
    body = {"dte_data": flat_odoo(), "history": HISTORY, "company_id": 1}
    async with quipu_client(app) as client:
        first = await client.post(URL, json=body)
        repeat = await client.post(URL, json=body)
        # The same document written otherwise: past the response cache, to the review cache.
        second = await client.post(URL, json=dict(reversed(list(body.items()))))
    assert repeat.content == first.content  # the stored answer, byte for byte
    assert repeat.headers["cache-status"].startswith("quipu; hit")
    calls = messages_calls(anthropic_emulator)
    assert len(calls) == 1
    assert calls[0]["script"] is None  # the emulator's own answer, no rule
    assert calls[0]["body"]["tool_choice"] == {"type": "tool", "name": "record_review"}
    assert first.json()["ai"]["status"] == "used"
    assert second.json()["ai"]["status"] == "cached"
    assert re.fullmatch(r"quipu; hit; ttl=\d+; detail=l1", second.headers["cache-status"])
    timings = second.headers["server-timing"]
    assert "llm;dur=" not in timings  # a hit never reaches the model
    assert "llm;dur=" in first.headers["server-timing"]
