"""The Previred fetch: download the month's PDF, read its text, extract with the LLM, check.

Steps, each failing with a clear answer (:mod:`quipu_previred.errors`):

1. Only months up to ``fetch_ahead_months`` past the current one are attempted (404).
2. Download each configured URL in order with the shared ``httpx.AsyncClient`` (timeouts,
   size cap, streamed). 404 everywhere → 404; a network error or 5xx and nothing found → 503.
   A 200 that is not a PDF (Previred serves HTML error pages) counts as not found.
3. :func:`~quipu_previred.extract.pdf_text` (bounded) → 502 for an unreadable PDF.
4. The ``previred.extract`` prompt through the LLM gateway, the ``record_indicators`` tool
   forced with ``tool_choice``. LLM unavailable (no key, breaker open, overloaded) → 503.
5. :func:`~quipu_previred.extract.indicators_from_tool_input`: the document's month must be
   the one asked for and every value must pass ``range_check`` with UF, UTM, UTA and the
   minimum wage present → 502 listing every problem, nothing stored.
6. Store a :class:`~quipu_previred.store.FetchedRecord` (Redis, else this process).

One fetch per month runs at a time in a process; concurrent callers wait for it. A month
that could not be fetched (no document: 404; extraction refused: 502) is remembered for
``failure_ttl_s`` and answered the same without a new download or model call. A forced
refetch of a month attempted less than ``force_min_interval_s`` ago reuses that outcome.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from typing import Any

import httpx
import msgspec
from quipu.api import LlmRequestTooLarge, LlmUnavailable, LlmUpstreamError

from quipu_previred.clock import current_period
from quipu_previred.config import PreviredConfig, render_url
from quipu_previred.errors import (
    ExtractionRefused,
    FetchUnavailable,
    IndicatorsNotFound,
    IndicatorsProblem,
)
from quipu_previred.extract import (
    RECORD_INDICATORS_TOOL,
    ExtractionError,
    PdfTextError,
    indicators_from_tool_input,
    pdf_text,
)
from quipu_previred.flat import to_flat
from quipu_previred.periods import parse_period, period_label, shift_period
from quipu_previred.prompts import EXTRACT_PROMPT_NAME
from quipu_previred.store import FetchedRecord, read_record, write_record
from quipu_previred.versions import bump_version

__all__ = ["Download", "PreviredService"]

log = logging.getLogger("quipu.previred")

_TOOL_CHOICE = {"type": "tool", "name": RECORD_INDICATORS_TOOL["name"]}


class Download(msgspec.Struct, frozen=True):
    """A document downloaded for a month."""

    url: str
    content: bytes
    content_type: str


class _TooLarge(Exception):
    pass


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class PreviredService:
    """The Previred plugin's per-process state: settings, HTTP client, fetch bookkeeping.

    Held by the plugin's :class:`~quipu_previred.lookup.IndicatorsLookup`; the plugin's
    lifespan gives it its HTTP client. Without one (the app not started, a library caller)
    it never fetches.
    """

    def __init__(self, config: PreviredConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.http = http
        self._memory: dict[str, FetchedRecord] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._attempted_at: dict[str, float] = {}
        self._failures: dict[str, tuple[float, type[IndicatorsProblem], str]] = {}

    @property
    def can_fetch(self) -> bool:
        """Whether a fetch may run at all (URLs configured and an HTTP client)."""
        return bool(self.config.fetch_urls) and self.http is not None

    # -- stored results ------------------------------------------------------------------

    async def stored(self, redis: Any, period: str) -> tuple[FetchedRecord | None, str | None]:
        """The last fetch of ``period`` (Redis, else this process) and a warning, if any."""
        if redis is None:
            return self._memory.get(period), None
        record, warning = await read_record(redis, FetchedRecord, period)
        if record is None and warning is not None:
            return self._memory.get(period), warning
        return record, None

    async def _save(self, redis: Any, record: FetchedRecord) -> None:
        self._memory[record.period] = record
        if redis is not None:
            try:
                await write_record(redis, record)
            except Exception as exc:  # keep the answer; this process still remembers it
                log.warning("could not store the Previred fetch of %s: %s", record.period, exc)
        await bump_version(redis, record.period)

    # -- the fetch -----------------------------------------------------------------------

    async def fetch(self, *, redis: Any, gateway: Any, period: str, force: bool) -> FetchedRecord:
        """Fetch ``period`` from Previred (see the module docstring for every outcome)."""
        year, month = parse_period(period)
        label = period_label(period)
        if not self.can_fetch:
            raise IndicatorsNotFound(
                detail=f"No hay indicadores para {period} ({label}): no están en los valores "
                "publicados incluidos, ningún administrador los cargó y la descarga desde "
                "Previred está desactivada ([plugins.previred] fetch_urls vacío)."
            )
        latest = shift_period(current_period(), self.config.fetch_ahead_months)
        if period > latest:
            raise IndicatorsNotFound(
                detail=f"No hay indicadores para {period} ({label}): es un mes futuro que "
                "Previred aún no publica, no está en los valores publicados incluidos y ningún "
                "administrador lo cargó. No se extrapolan valores."
            )
        lock = self._locks.setdefault(period, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            last = self._attempted_at.get(period)
            if not force or (last is not None and now - last < self.config.force_min_interval_s):
                record, _ = await self.stored(redis, period)
                if record is not None:
                    return record
                failed = self._failures.get(period)
                if failed is not None and now - failed[0] < self.config.failure_ttl_s:
                    raise failed[1](detail=failed[2])
            try:
                document = await self._download(period, year, month)
                record = await self._extract(gateway, period, document)
            except (IndicatorsNotFound, ExtractionRefused) as exc:
                self._failures[period] = (time.monotonic(), type(exc), str(exc.detail))
                self._attempted_at[period] = time.monotonic()
                raise
            self._failures.pop(period, None)
            await self._save(redis, record)
            self._attempted_at[period] = time.monotonic()
            log.info(
                "Previred indicators of %s fetched from %s (%d bytes)",
                period,
                record.url,
                record.size_bytes,
            )
            return record

    async def _download(self, period: str, year: int, month: int) -> Download:
        assert self.http is not None
        outcomes: list[str] = []
        transient = False
        for template in self.config.fetch_urls:
            url = render_url(template, year, month)
            try:
                async with self.http.stream("GET", url) as response:
                    status = response.status_code
                    if status != 200:
                        outcomes.append(f"{url}: HTTP {status}")
                        transient = transient or status >= 500 or status == 429
                        continue
                    content = await self._read_capped(response)
                    kind = response.headers.get("content-type", "")
            except _TooLarge:
                outcomes.append(f"{url}: más de {self.config.max_pdf_bytes} bytes")
                continue
            except httpx.TimeoutException:
                outcomes.append(f"{url}: sin respuesta en {self.config.fetch_timeout_s:g} s")
                transient = True
                continue
            except httpx.HTTPError as exc:
                outcomes.append(f"{url}: {type(exc).__name__}")
                transient = True
                continue
            if b"%PDF-" not in content[:1024]:
                # Previred answers some missing files with an HTML page and status 200.
                outcomes.append(f"{url}: no es un PDF ({kind or 'sin content-type'})")
                continue
            return Download(url, content, kind)
        tried = "; ".join(outcomes)
        if transient:
            raise FetchUnavailable(
                detail=f"No se pudo descargar el documento de Previred de {period}; "
                f"intente más tarde. Intentos: {tried}",
                headers={"Retry-After": "60"},
            )
        raise IndicatorsNotFound(
            detail=f"No hay indicadores para {period}: no están en los valores publicados "
            f"incluidos, ningún administrador los cargó y Previred no tiene el documento del "
            f"mes. Intentos: {tried}"
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        limit = self.config.max_pdf_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    async def _extract(self, gateway: Any, period: str, document: Download) -> FetchedRecord:
        try:
            text = pdf_text(
                document.content,
                max_bytes=self.config.max_pdf_bytes,
                max_chars=self.config.max_text_chars,
            )
        except PdfTextError as exc:
            raise ExtractionRefused(
                detail=f"El documento de Previred de {period} ({document.url}) no se pudo leer: "
                f"{exc}. No se guardó nada."
            ) from exc
        if gateway is None:
            raise FetchUnavailable(detail="El servicio LLM no está iniciado.")
        try:
            result = await gateway.complete(
                plugin="previred",
                prompt=EXTRACT_PROMPT_NAME,
                data={"period": period, "document": text},
                company=None,
                tools=[RECORD_INDICATORS_TOOL],
                tool_choice=_TOOL_CHOICE,
            )
        except LlmUnavailable as exc:
            raise FetchUnavailable(
                detail=f"No se pueden extraer los indicadores de {period} del documento de "
                f"Previred: el LLM no está disponible ({exc.reason}: {exc.detail}).",
                headers=exc.headers,
            ) from exc
        except LlmUpstreamError as exc:
            raise FetchUnavailable(
                detail=f"No se pudieron extraer los indicadores de {period}: el LLM no respondió "
                f"({exc.kind}). Intente más tarde.",
                headers={"Retry-After": "30"},
            ) from exc
        except LlmRequestTooLarge as exc:
            raise ExtractionRefused(
                detail=f"El documento de Previred de {period} es demasiado largo para extraerlo "
                f"({exc.detail})."
            ) from exc
        calls = [call for call in result.tool_uses if call.name == RECORD_INDICATORS_TOOL["name"]]
        if not calls:
            raise ExtractionRefused(
                detail=f"El modelo no registró los indicadores de {period} (sin llamada a "
                "record_indicators). No se guardó nada."
            )
        try:
            ind = indicators_from_tool_input(calls[0].input, period)
        except ExtractionError as exc:
            raise ExtractionRefused(
                detail=f"Indicadores de {period} extraídos de Previred rechazados por el control "
                f"de rangos: {'; '.join(exc.problems)}. No se guardó nada."
            ) from exc
        return FetchedRecord(
            period=period,
            indicators=to_flat(ind),
            url=document.url,
            size_bytes=len(document.content),
            sha256=hashlib.sha256(document.content).hexdigest(),
            obtained_at=_now_iso(),
            model=result.model,
        )
