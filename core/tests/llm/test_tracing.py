"""LLM calls become GenAI spans; without OTEL_* settings nothing is traced.

Tracing is process-wide, so these tests run their code in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

SCRIPT = r"""
import asyncio, json, sys
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from quipu.api import PromptTemplate
from quipu.config import load_settings
from quipu.llm import LlmGateway
from quipu.observability import tracing

exporter = InMemorySpanExporter()
if sys.argv[2] == "on":
    tracing.configure_tracing(exporter=exporter)
prompts = {"acme.short@1": PromptTemplate(name="short", version="1", system_blocks=("x",),
                                          user_template="{q}", max_tokens=30)}

async def main():
    env = {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": sys.argv[1]}
    gateway = LlmGateway(load_settings(env=env), prompts)
    await gateway.complete(plugin="acme", prompt="short", company=1, data={"q": "hola"})
    stream = gateway.stream(plugin="acme", prompt="short", company=1, data={"q": "chao"})
    async for _ in stream:
        pass
    await gateway.aclose()

asyncio.run(main())
print(json.dumps({"enabled": tracing.ENABLED, "spans": [
    {"name": s.name, "kind": s.kind.name, "attributes": dict(s.attributes)}
    for s in exporter.get_finished_spans()]}))
"""


def run(emulator: Any, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, emulator.url, mode],
        check=True,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_llm_calls_are_genai_spans(anthropic_emulator: Any) -> None:
    result = run(anthropic_emulator, "on")
    assert result["enabled"]
    unary, streamed = result["spans"]
    for span in (unary, streamed):
        attrs = span["attributes"]
        assert span["name"] == "chat claude-sonnet-4-6"
        assert span["kind"] == "CLIENT"
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.provider.name"] == "anthropic"
        assert attrs["gen_ai.usage.input_tokens"] > 0
        assert attrs["gen_ai.usage.output_tokens"] > 0
        assert "gen_ai.usage.cache_read.input_tokens" in attrs
        assert attrs["quipu.operation"] == "acme.short"
    assert streamed["attributes"]["gen_ai.request.stream"] is True
    assert streamed["attributes"]["gen_ai.response.time_to_first_chunk"] > 0


def test_nothing_is_traced_without_otel_settings(anthropic_emulator: Any) -> None:
    result = run(anthropic_emulator, "off")
    assert result == {"enabled": False, "spans": []}
