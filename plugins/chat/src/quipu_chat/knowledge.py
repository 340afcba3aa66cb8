"""The chat knowledge base: plugin documents split into passages, ranked with BM25.

Documents come from ``register_knowledge`` (``Registry.knowledge``, keyed
``<plugin>.<id>``). Each Markdown document is split into *passages*: one per section
(heading), and a long section into several of about ``passage_chars`` characters along
paragraph, then line, boundaries; code fences stay whole when they fit. A passage is
indexed with its document title and its heading path (the heading twice, as it names the
topic), through :func:`quipu_chat.text.terms` (accent folding, Spanish stop words,
Spanish Snowball stems).

Ranking is Okapi BM25 (Lucene variant, k1 1.5, b 0.75) from ``bm25s``, over passages, so
a question is answered by the paragraph that matches rather than by a whole file. The
index is built once at start-up; a search is one sparse lookup per query term.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence

import bm25s
import msgspec
import numpy as np

from quipu_chat.records import KnowledgeDocument
from quipu_chat.schemas import KnowledgeResult
from quipu_chat.text import terms

__all__ = ["KnowledgeBase", "Passage", "format_passages", "sources", "split_markdown"]

# bm25s sets its logger to DEBUG on import; keep its chatter out of our logs.
logging.getLogger("bm25s").setLevel(logging.WARNING)
log = logging.getLogger("quipu.chat.knowledge")

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)


class Passage(msgspec.Struct, frozen=True, kw_only=True):
    """A piece of a knowledge document, as found by a search.

    Attributes:
        id: ``<doc_id>#<n>``, stable while the document does not change.
        doc_id: ``<plugin>.<id>`` of the document.
        plugin: The plugin that lent the document.
        title: The document's title (cited in ``sources``).
        heading: The section's heading path, ``"Notas de crédito > Referencias"``.
        text: The passage's Markdown, without its heading.
        tags: The document's tags.
        score: BM25 score of the last search (0 in the index itself).
    """

    id: str
    doc_id: str
    plugin: str
    title: str
    heading: str
    text: str
    tags: tuple[str, ...] = ()
    score: float = 0.0

    def to_result(self) -> KnowledgeResult:
        """The passage in the shape of ``GET /api/chat/knowledge/search``."""
        return KnowledgeResult(
            id=self.id,
            title=self.title,
            module=self.plugin,
            tags=list(self.tags),
            content=self.text,
            file_path=self.doc_id,
            heading=self.heading,
            score=round(self.score, 4),
        )


def _blocks(lines: list[str]) -> list[str]:
    """Paragraphs of a section: blank-line separated, code fences kept in one block."""
    blocks: list[str] = []
    current: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _pieces(block: str, limit: int) -> Iterable[str]:
    """``block`` cut to at most ``limit`` characters: at lines, then at spaces."""
    if len(block) <= limit:
        yield block
        return
    current = ""
    for line in block.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                yield current
                current = ""
            yield line[:cut].rstrip()
            line = line[cut:].lstrip()
        if current and len(current) + 1 + len(line) > limit:
            yield current
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        yield current


def _pack(blocks: list[str], limit: int) -> list[str]:
    """Join consecutive blocks into passages of at most about ``limit`` characters."""
    passages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _pieces(block, limit):
            if current and len(current) + 2 + len(piece) > limit:
                passages.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        passages.append(current)
    return passages


def split_markdown(text: str, passage_chars: int = 1200) -> list[tuple[str, str]]:
    """Split Markdown into ``(heading path, passage text)`` pairs, in document order.

    Front matter is dropped; headings inside code fences are not headings; sections with
    no text of their own produce no passage.
    """
    text = _FRONT_MATTER.sub("", text.replace("\r\n", "\n"), count=1)
    result: list[tuple[str, str]] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        heading = " > ".join(title for _, title in stack)
        result.extend((heading, p) for p in _pack(_blocks(lines), passage_chars))
        lines.clear()

    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        flush()
        level = len(match.group(1))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, match.group(2).strip()))
    flush()
    return result


class KnowledgeBase:
    """BM25 over the passages of every registered document.

    Args:
        documents: ``Registry.knowledge``: documents keyed ``<plugin>.<id>``.
        passage_chars: Target passage size in characters.

    Attributes:
        passages: Every passage, in index order.
        build_ms: How long building the index took, in milliseconds.
    """

    def __init__(
        self, documents: Mapping[str, KnowledgeDocument], *, passage_chars: int = 1200
    ) -> None:
        started = time.perf_counter()
        passages: list[Passage] = []
        corpus: list[list[str]] = []
        for doc_id in sorted(documents):
            doc = documents[doc_id]
            plugin = doc_id.split(".", 1)[0]
            for n, (heading, body) in enumerate(split_markdown(doc.text, passage_chars)):
                passages.append(
                    Passage(
                        id=f"{doc_id}#{n}",
                        doc_id=doc_id,
                        plugin=plugin,
                        title=doc.title,
                        heading=heading,
                        text=body,
                        tags=doc.tags,
                    )
                )
                corpus.append(terms(f"{doc.title}\n{heading}\n{heading}\n{body}"))
        self.passages: tuple[Passage, ...] = tuple(passages)
        self.documents = len(documents)
        self._plugins = np.array([p.plugin for p in passages], dtype=object)
        self._bm25: bm25s.BM25 | None = None
        if passages:
            self._bm25 = bm25s.BM25()
            self._bm25.index(corpus, show_progress=False)
        self.build_ms = (time.perf_counter() - started) * 1000
        log.info(
            "knowledge base: %d passages from %d documents in %.1f ms",
            len(passages),
            self.documents,
            self.build_ms,
        )

    def __len__(self) -> int:
        return len(self.passages)

    def search(
        self,
        query: str,
        top_k: int = 3,
        *,
        plugins: Iterable[str] | None = None,
        min_score: float = 0.0,
    ) -> list[Passage]:
        """The ``top_k`` passages that best match ``query``, best first.

        Args:
            query: Free text; accents and case do not matter.
            top_k: At most this many passages.
            plugins: Only passages of documents lent by these plugins.
            min_score: Leave out passages scoring this or less (0: any matching term).
        """
        if self._bm25 is None or top_k <= 0:
            return []
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in dict.fromkeys(terms(query)) if t in vocab]
        if not ids:
            return []
        mask = None
        if plugins is not None:
            mask = np.isin(self._plugins, list(plugins)).astype(np.float32)
        scores: np.ndarray = self._bm25.get_scores_from_ids(ids, weight_mask=mask)
        order = np.argsort(-scores, kind="stable")[:top_k]  # ties: index (document) order
        return [
            msgspec.structs.replace(self.passages[i], score=float(scores[i]))
            for i in order
            if scores[i] > min_score
        ]


def sources(passages: Sequence[Passage]) -> list[str]:
    """Titles of the documents behind ``passages``, once each, in order (``sources``)."""
    return list(dict.fromkeys(p.title for p in passages))


def format_passages(passages: Sequence[Passage]) -> str:
    """Passages as one prompt block, each delimited and labelled with its source.

    The block is data for the model; the order is the order given (best first), so the
    same search gives byte-identical text, which prompt caching needs.
    """
    parts = [
        f'<passage source="{p.title}" section="{p.heading}" id="{p.id}">\n{p.text}\n</passage>'
        for p in passages
    ]
    return "\n\n".join(parts)
