"""Parse and check a batch's documents over every core, not one thread under the GIL.

Parsing and the rules are pure CPU work (~0.5 ms for a one-line document, ~3 ms for 60
lines). A batch of at least :data:`PARALLEL_FROM` documents is split into contiguous
chunks checked by a pool of worker processes (``[plugins.dte] batch_workers``, default one
per core); smaller batches, or ``batch_workers = 1``, run in one thread so the event loop
keeps serving meanwhile. Results come back in order and are exactly what a single
``POST /api/ai/validate`` of each document would compute: the validation date is taken
once, here, and handed to every chunk.

The pool is the standard library's ``ProcessPoolExecutor`` with ``spawn`` workers (this
process runs server threads; forking it would copy their locks), created on the first
large batch and reused; its workers import the DTE library once.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import msgspec

from quipu_dte.batch_checks import (
    DocumentKey,
    document_key,
    duplicate_key_findings,
    with_findings,
)
from quipu_dte.schemas import ValidateResponse
from quipu_dte.service import (
    Checked,
    DteRuntime,
    check,
    settle_without_review,
)

if TYPE_CHECKING:
    from quipu_dte.rules import VendorHistory

__all__ = ["PARALLEL_FROM", "Outcome", "Settled", "check_all", "check_batch", "item_input"]

#: Batches smaller than this are checked in one thread: sending them to other processes
#: would cost more than it saves.
PARALLEL_FROM: Final = 16

_pools: dict[int, ProcessPoolExecutor] = {}
_encode = msgspec.json.Encoder().encode
_lock = threading.Lock()


def item_input(item: Any) -> tuple[Any, Any, bool]:
    """(dte_data, own history or None, whether the item is ``{"dte_data": ...}``)."""
    if isinstance(item, dict) and "dte_data" in item:
        return item["dte_data"], item.get("history"), True
    return item, None, False


@dataclass(frozen=True)
class Settled:
    """An item finished where it was checked: its answer, already encoded as JSON, what the
    batch summary counts, and its documents' natural keys (what the batch-wide duplicate
    check needs, without the documents).

    The answer travels as bytes because that is what the server process sends: a worker's
    ~470-byte answer pickled and unpickled as a Struct cost the server ~9 us of its one
    thread per document (4-5 ms of a 500-document batch), the bytes cost nothing.
    """

    body: bytes
    recommendation: str
    ai_status: str
    keys: tuple[DocumentKey | None, ...]

    @classmethod
    def of(cls, response: ValidateResponse, keys: tuple[DocumentKey | None, ...]) -> Settled:
        """The finished answer ``response`` of an item whose documents have ``keys``."""
        return cls(_encode(response), response.recommendation, response.ai.status, keys)


Outcome = Settled | Checked | Exception
"""An item's outcome: its final answer (no AI review needed), the checked documents (the
AI review runs in the server process), or its failure (usually DteInputError)."""


def check_all(
    rt: DteRuntime,
    documents: list[Any],
    shared: VendorHistory | None,
    today: date,
    ai_ready: bool,
) -> list[Outcome]:
    """Parse and check every item, finishing those that need no AI review."""
    out: list[Outcome] = []
    for item in documents:
        dte_data, history, _ = item_input(item)
        try:
            checked = check(rt, dte_data, history if history is not None else shared, today)
        except Exception as exc:  # DteInputError, or a bug reported as this item's error
            out.append(exc)
            continue
        settled = settle_without_review(rt, checked, ai_ready)
        if settled is None:
            out.append(checked)
        else:
            keys = tuple(document_key(doc) for doc in checked.documents)
            out.append(Settled.of(settled, keys))
    return out


def _flag_duplicates(
    rt: DteRuntime,
    documents: list[Any],
    outcomes: list[Outcome],
    shared: VendorHistory | None,
    today: date,
) -> list[Outcome]:
    """A folio repeated across items flagged on its later items (``DTE_DUPLICATE_FOLIO``).

    Rare, so a flagged item that was already finished is checked again here, its report
    gains the finding, and it goes on as :class:`Checked` (its verdict may change).
    """
    keys: list[tuple[DocumentKey | None, ...] | None] = []
    for outcome in outcomes:
        if isinstance(outcome, Settled):
            keys.append(outcome.keys)
        elif isinstance(outcome, Checked):
            keys.append(tuple(document_key(doc) for doc in outcome.documents))
        else:
            keys.append(None)
    found = duplicate_key_findings(keys, rt.rules)
    if not found:
        return outcomes
    out = list(outcomes)
    for index in sorted({index for index, _ in found}):
        item = out[index]
        if isinstance(item, Settled):
            dte_data, history, _ = item_input(documents[index])
            item = check(rt, dte_data, history if history is not None else shared, today)
        if isinstance(item, Checked):
            reports = [
                with_findings(report, [found[index, pos]] if (index, pos) in found else [])
                for pos, report in enumerate(item.reports)
            ]
            out[index] = replace(item, reports=reports)
    return out


def workers_for(rt: DteRuntime) -> int:
    """How many processes check a large batch (``batch_workers``; 0 = one per core)."""
    configured = rt.config.batch_workers
    if configured:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _ready_worker() -> None:
    """A pool worker's start: import the library, then keep the collector off it.

    Without ``gc.freeze()`` every full collection walks the ~100k objects the imports
    leave, and the allocations of checking documents trigger them often: a worker checked
    a one-line document in ~230 us instead of ~150 us (the server process freezes its own
    start-up heap the same way, quipu.app).
    """
    import quipu_dte.service  # noqa: F401 - the parsers, rules and their catalogues

    gc.collect()
    gc.freeze()


def _pool(size: int) -> ProcessPoolExecutor:
    with _lock:
        pool = _pools.get(size)
        if pool is None:
            context = multiprocessing.get_context("spawn")
            pool = _pools[size] = ProcessPoolExecutor(
                max_workers=size, mp_context=context, initializer=_ready_worker
            )
        return pool


async def check_batch(
    rt: DteRuntime, documents: list[Any], shared: VendorHistory | None, ai_ready: bool
) -> list[Outcome]:
    """Every document parsed and checked, in order, spread over processes when worth it.

    Documents that need no AI review come back finished (their work, merge included,
    done where they were checked); the rest come back as :class:`Checked`.
    """
    today = rt.today()
    size = workers_for(rt)
    if size <= 1 or len(documents) < PARALLEL_FROM:
        outcomes = await asyncio.to_thread(check_all, rt, documents, shared, today, ai_ready)
        return _flag_duplicates(rt, documents, outcomes, shared, today)
    pool = _pool(size)
    loop = asyncio.get_running_loop()
    # Twice as many chunks as workers: a chunk of slow (60-line) documents does not leave
    # the other workers idle at the end.
    count = min(len(documents), size * 2)
    step = -(-len(documents) // count)
    chunks = [documents[i : i + step] for i in range(0, len(documents), step)]
    done = await asyncio.gather(
        *(
            loop.run_in_executor(pool, check_all, rt, chunk, shared, today, ai_ready)
            for chunk in chunks
        )
    )
    outcomes = [result for chunk in done for result in chunk]
    return _flag_duplicates(rt, documents, outcomes, shared, today)
