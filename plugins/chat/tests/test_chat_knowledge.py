"""The knowledge base: Markdown passages ranked with BM25, accent-insensitive."""

from __future__ import annotations

import time

import pytest
from quipu_chat import plugin
from quipu_chat.knowledge import KnowledgeBase, format_passages, sources, split_markdown
from quipu_chat.records import KnowledgeDocument

NOTAS = """---
title: Notas de crédito
module: l10n_cl_dte
---
# Notas de crédito y débito

Las notas de crédito (tipo 61) y de débito (tipo 56) corrigen un documento ya emitido.

## Cuándo emitir una nota de crédito

Se emite cuando se anula una factura, se otorga un descuento posterior o se devuelve
mercadería. El plazo para emitirla depende del motivo.

## Referencia al documento original

Toda nota de crédito debe llevar una referencia al documento que corrige, en el nodo
`<Referencia>` del XML: tipo del documento referenciado (TpoDocRef), su folio (FolioRef),
su fecha (FchRef) y el código de referencia (CodRef): 1 anula el documento, 2 corrige
texto y 3 corrige montos.

```xml
<Referencia>
# esto no es un título
<TpoDocRef>33</TpoDocRef>
</Referencia>
```

## Plazos

El SII acepta notas de crédito que anulen facturas dentro de los plazos legales.
"""

FOLIOS = """# Folios y CAF

## Qué es el CAF

El Código de Autorización de Folios (CAF) es el archivo que el SII entrega con un rango
de folios autorizados para un tipo de documento.

## Folios agotados

Cuando se agotan los folios, solicita un nuevo CAF en el sitio del SII y cárgalo en Odoo.
"""

AFP = """# Cotizaciones previsionales

## AFP

La cotización obligatoria a la AFP es el 10 % de la remuneración imponible más la
comisión de la administradora, con tope imponible en UF.

## Seguro de cesantía

El empleador aporta 2,4 % en contratos indefinidos; el trabajador 0,6 %.
"""


def corpus() -> dict[str, KnowledgeDocument]:
    return {
        "dte.notas": KnowledgeDocument(
            id="notas", title="Notas de crédito", text=NOTAS, tags=("dte", "61")
        ),
        "dte.folios": KnowledgeDocument(id="folios", title="Folios y CAF", text=FOLIOS),
        "payroll.afp": KnowledgeDocument(id="afp", title="Cotizaciones", text=AFP),
        **{f"chat.{d.id}": d for d in plugin.register_knowledge()},
    }


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase(corpus())


def test_the_referencing_passage_ranks_first_not_the_whole_file(kb: KnowledgeBase) -> None:
    found = kb.search("nota de crédito referencia", top_k=3)
    best = found[0]
    assert best.doc_id == "dte.notas"
    assert best.heading == "Notas de crédito y débito > Referencia al documento original"
    assert "CodRef" in best.text
    assert "<Referencia>" in best.text
    assert "Plazos" not in best.text
    assert "descuento posterior" not in best.text
    assert len(best.text) < len(NOTAS) / 2
    assert best.title == "Notas de crédito"
    assert best.plugin == "dte"
    assert best.tags == ("dte", "61")
    assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)


def test_accents_and_case_do_not_matter(kb: KnowledgeBase) -> None:
    with_accents = kb.search("nota de crédito referencia", top_k=3)
    without = kb.search("NOTA DE CREDITO REFERENCIA", top_k=3)
    assert [(p.id, p.score) for p in with_accents] == [(p.id, p.score) for p in without]
    assert (
        kb.search("codigo de autorizacion de folios")[0].heading == "Folios y CAF > Qué es el CAF"
    )


def test_plurals_and_filters(kb: KnowledgeBase) -> None:
    assert kb.search("folios agotados")[0].id == "dte.folios#1"
    only_payroll = kb.search("tope imponible AFP", top_k=5, plugins=["payroll"])
    assert only_payroll
    assert {p.plugin for p in only_payroll} == {"payroll"}
    assert kb.search("referencia", plugins=["payroll"]) == []
    assert kb.search("zzz qwerty") == []
    assert kb.search("de la que el") == []  # stop words only
    assert len(kb.search("nota crédito folios AFP asistente", top_k=2)) == 2
    assert kb.search("nota", top_k=0) == []


def test_the_plugin_documents_its_own_assistant(kb: KnowledgeBase) -> None:
    found = kb.search("¿qué puede hacer el asistente?", top_k=1)
    assert found[0].doc_id == "chat.uso_asistente"
    assert found[0].heading == "Uso del asistente > Qué puede hacer"


def test_results_sources_and_prompt_block(kb: KnowledgeBase) -> None:
    found = kb.search("nota de crédito referencia", top_k=3)
    result = found[0].to_result()
    assert (result.id, result.module, result.file_path) == ("dte.notas#2", "dte", "dte.notas")
    assert result.content == found[0].text
    assert result.tags == ["dte", "61"]
    titles = sources(found)
    assert titles[0] == "Notas de crédito"
    assert len(titles) == len(set(titles))
    block = format_passages(found[:1])
    assert block.startswith('<passage source="Notas de crédito"')
    assert block.endswith("</passage>")
    assert format_passages(found) == format_passages(kb.search("nota de credito referencia", 3))


def test_split_markdown_bounds_sections_and_respects_fences() -> None:
    parts = split_markdown(NOTAS, passage_chars=1200)
    headings = [h for h, _ in parts]
    assert "esto no es un título" not in " ".join(headings)
    assert headings[0] == "Notas de crédito y débito"
    assert all(not text.startswith("#") for _, text in parts)
    long_doc = "# T\n\n" + "\n\n".join(f"Párrafo {i} " + "palabra " * 60 for i in range(20))
    pieces = split_markdown(long_doc, passage_chars=500)
    assert len(pieces) > 5
    assert all(len(t) <= 500 for _, t in pieces)
    huge_line = "# T\n\n" + "x" * 1300
    assert [len(t) for _, t in split_markdown(huge_line, 500)] == [500, 500, 300]
    assert split_markdown("") == []
    assert split_markdown("# Solo título\n") == []


def test_empty_knowledge_base() -> None:
    kb = KnowledgeBase({})
    assert len(kb) == 0
    assert kb.search("nota") == []


def test_build_and_search_are_fast() -> None:
    """Start-up build and per-question search time on a corpus larger than ours."""
    docs = {
        f"p{i % 4}.doc{i}": KnowledgeDocument(
            id=f"doc{i}",
            title=f"Documento {i}",
            text="\n\n".join(
                f"## Sección {j}\n\n{NOTAS if j == 0 else FOLIOS if j % 2 else AFP}"
                for j in range(5)
            ),
        )
        for i in range(100)
    }
    started = time.perf_counter()
    kb = KnowledgeBase(docs)
    build_s = time.perf_counter() - started
    queries = ["nota de crédito referencia", "folios agotados CAF", "tope imponible AFP"] * 100
    kb.search(queries[0])
    started = time.perf_counter()
    for q in queries:
        kb.search(q, top_k=3)
    per_search_ms = (time.perf_counter() - started) * 1000 / len(queries)
    print(f"\n{len(kb)} passages: build {build_s * 1000:.0f} ms, search {per_search_ms:.3f} ms")
    assert build_s < 3.0
    assert per_search_ms < 2.0
