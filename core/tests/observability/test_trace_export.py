"""A request that uses the cache and the LLM is exported over OTLP/HTTP as one trace.

quipu is served as a subprocess with the standard ``OTEL_*`` variables pointing at a tiny
collector in this test, which decodes each ``ExportTraceServiceRequest``.
"""

from __future__ import annotations

import gzip
import http.server
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from quipu.testing.pytest_plugin import TEST_API_KEY

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


class Collector:
    """``POST /v1/traces`` on 127.0.0.1: keeps every span it is sent, as plain dicts."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                collector.receive(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            for resource_spans in request.resource_spans:
                resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            {
                                "name": span.name,
                                "kind": span.kind,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "attributes": {a.key: _value(a.value) for a in span.attributes},
                                "resource": resource,
                            }
                        )

    def wait_for(
        self, predicate: Any, count: int = 1, timeout_s: float = 15
    ) -> list[dict[str, Any]]:
        """The spans matching ``predicate`` once there are ``count`` (or the time is up)."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self.lock:
                found = [s for s in self.spans if predicate(s)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.stop()


SERVER, CLIENT = 2, 3  # opentelemetry.proto.trace.v1.Span.SpanKind


def test_a_request_with_cache_and_llm_is_exported_as_one_trace(
    serve_quipu: Any, collector: Collector, anthropic_emulator: Any, redis_url: str
) -> None:
    server = serve_quipu(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_SERVICE_NAME": "quipu-under-test",
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": anthropic_emulator.url,
            "REDIS_URL": redis_url,
        }
    )
    body = {"question": f"¿Cuál es la tasa del IVA? {uuid.uuid4()}", "company_id": 1}
    first = httpx.post(server.url + "/api/probe/ask", json=body, headers=AUTH, timeout=30)
    assert first.status_code == 200, first.text
    again = httpx.post(server.url + "/api/probe/ask", json=body, headers=AUTH, timeout=30)
    assert "hit" in again.headers["cache-status"]

    requests = {
        s["attributes"]["quipu.request_id"]: s
        for s in collector.wait_for(
            lambda s: s["kind"] == SERVER and s["name"] == "POST /api/probe/ask", count=2
        )
    }
    miss, hit = requests[first.headers["x-request-id"]], requests[again.headers["x-request-id"]]
    assert miss["attributes"]["http.route"] == "/api/probe/ask"
    assert miss["attributes"]["http.response.status_code"] == 200
    assert miss["resource"]["service.name"] == "quipu-under-test"

    llm = collector.wait_for(lambda s: s["kind"] == CLIENT and s["name"].startswith("chat "))
    assert len(llm) == 1, "the cached second request must not call the LLM"
    attrs = llm[0]["attributes"]
    assert llm[0]["trace_id"] == miss["trace_id"]
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"]
    assert attrs["gen_ai.usage.input_tokens"] > 0
    assert attrs["gen_ai.usage.output_tokens"] > 0
    assert "gen_ai.usage.cache_read.input_tokens" in attrs
    assert "gen_ai.usage.cache_creation.input_tokens" in attrs

    by_id = {s["span_id"]: s for s in collector.spans}

    def ancestors(span: dict[str, Any]) -> list[str]:
        names = []
        while span["parent"] and span["parent"] in by_id:
            span = by_id[span["parent"]]
            names.append(span["name"])
        return names

    assert "POST /api/probe/ask" in ancestors(llm[0])
    lookups = collector.wait_for(lambda s: s["name"] == "cache lookup", count=2)
    by_trace = {s["trace_id"]: s for s in lookups}
    assert {miss["trace_id"], hit["trace_id"]} <= set(by_trace)
    missed, served = by_trace[miss["trace_id"]], by_trace[hit["trace_id"]]
    assert missed["attributes"]["quipu.cache.policy"] == "probe.answers"
    assert missed["attributes"]["quipu.cache.status"] == "miss"
    assert served["attributes"]["quipu.cache.status"] == "hit"
    assert "cache lookup" in ancestors(llm[0]), "the LLM call is the cache's computation"
    redis_gets = collector.wait_for(
        lambda s: s["name"] == "cache redis get" and s["trace_id"] == miss["trace_id"]
    )
    assert redis_gets, "the miss asked Redis before computing"
