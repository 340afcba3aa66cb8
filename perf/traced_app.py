"""quipu with tracing on but nothing exported: the cost of making the spans alone.

Granian factory (``traced_app:create_app``, ``perf/`` on ``PYTHONPATH``) used by
:mod:`quick` to measure tracing overhead: "off" is ``quipu.app:create_app`` without
``OTEL_*`` variables, "on, no exporter" is this one (every span is created, ended and
handed to a processor that drops it), "on, OTLP" is ``quipu.app:create_app`` with
``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a local sink.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Litestar
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = ["create_app"]


class DropExporter(SpanExporter):
    """Accepts every span and keeps none."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def create_app(**kwargs: Any) -> Litestar:
    """quipu's app with every span created and dropped."""
    from quipu.app import create_app as create_quipu_app
    from quipu.observability.tracing import configure_tracing

    configure_tracing(exporter=DropExporter())
    return create_quipu_app(**kwargs)
