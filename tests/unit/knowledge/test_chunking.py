"""Knowledge documents become one chunk per section, with its heading path and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.domains.registry import DomainRegistry
from hub.exceptions import ConfigurationError
from hub.knowledge.chunking import (
    MAX_CHARS,
    Chunk,
    Sentence,
    chunk_markdown,
    plain,
    sentences,
    split_sentences,
)
from tests.domain_tree import DomainTree

SAMPLE_DOMAINS = Path(__file__).parents[3] / "domains"

DOCUMENT = """\
# Entregas

Valem para todo o Brasil.

## Frete

O frete é grátis a partir de R$ 199,00.

## Prazos

### Capitais

- Curitiba: 1 a 2 dias úteis.
- Outras capitais: 3 a 5 dias úteis.

## Vazia

```
## não é um título
```
"""


def test_each_section_becomes_a_chunk_with_its_heading_path_and_source() -> None:
    chunks = chunk_markdown(DOCUMENT, source="knowledge/entregas.md", domain_id="shop")
    assert [chunk.heading for chunk in chunks] == [
        "Entregas",
        "Entregas > Frete",
        "Entregas > Prazos > Capitais",
        "Entregas > Vazia",
    ]
    assert {chunk.source for chunk in chunks} == {"knowledge/entregas.md"}
    assert {chunk.domain_id for chunk in chunks} == {"shop"}
    assert chunks[1].text == "O frete é grátis a partir de R$ 199,00."
    assert chunks[1].title == "Frete"


def test_a_heading_inside_a_code_fence_is_text() -> None:
    chunks = chunk_markdown(DOCUMENT, source="a.md", domain_id="shop")
    assert "## não é um título" in chunks[-1].text


def test_a_heading_with_no_text_of_its_own_is_only_a_parent() -> None:
    chunks = chunk_markdown("# A\n\n## B\n\n## C\n\nTexto.\n", source="a.md", domain_id="d")
    assert [(chunk.heading, chunk.text) for chunk in chunks] == [("A > C", "Texto.")]


def test_a_document_without_headings_is_one_chunk() -> None:
    chunks = chunk_markdown("Só um parágrafo.\n", source="a.md", domain_id="d")
    assert [(chunk.heading, chunk.title, chunk.text) for chunk in chunks] == [
        ("", "", "Só um parágrafo.")
    ]


def test_front_matter_is_not_text() -> None:
    chunks = chunk_markdown("---\ntitle: x\n---\n# A\n\nTexto.\n", source="a.md", domain_id="d")
    assert [chunk.text for chunk in chunks] == ["Texto."]


def test_a_long_section_is_cut_on_paragraphs_and_nothing_is_lost() -> None:
    paragraphs = [f"Parágrafo {n}. " + "palavra " * 60 for n in range(12)]
    text = "## Longa\n\n" + "\n\n".join(paragraphs) + "\n\nFim curto.\n"
    chunks = chunk_markdown(text, source="a.md", domain_id="d")
    assert len(chunks) > 1
    assert all(chunk.heading == "Longa" for chunk in chunks)
    assert all(len(chunk.text) <= MAX_CHARS + 200 for chunk in chunks)
    joined = "\n\n".join(chunk.text for chunk in chunks)
    assert all(paragraph.strip() in joined for paragraph in paragraphs)
    assert chunks[-1].text.endswith("Fim curto.")  # the tiny tail joined the piece before
    assert len(chunks[-1].text) > len("Fim curto.")


def test_one_enormous_paragraph_is_cut_on_sentences() -> None:
    text = "## Longa\n\n" + " ".join(f"Frase número {n} sobre o assunto." for n in range(200))
    chunks = chunk_markdown(text, source="a.md", domain_id="d")
    assert len(chunks) > 1
    assert all(len(chunk.text) <= MAX_CHARS for chunk in chunks)
    assert all(chunk.text.endswith(".") for chunk in chunks)


def test_the_content_hash_is_stable_and_follows_the_content() -> None:
    one = Chunk(domain_id="d", source="a.md", heading="A", text="Texto.")
    same = Chunk(domain_id="d", source="a.md", heading="A", text="Texto.")
    other = Chunk(domain_id="d", source="a.md", heading="A", text="Outro texto.")
    elsewhere = Chunk(domain_id="e", source="a.md", heading="A", text="Texto.")
    assert one.sha256 == same.sha256
    assert len(one.sha256) == 64
    assert len({one.sha256, other.sha256, elsewhere.sha256}) == 3


def test_sentences_split_prose_and_keep_bullets_whole() -> None:
    text = (
        "A loja abre cedo. Ela fica no Centro.\n\n"
        "Os horários são:\n\n"
        "- de segunda a sexta, das 9:00 às 19:00;\n"
        "- aos sábados, das 9:00\n"
        "  às 14:00.\n"
    )
    assert sentences(text) == [
        Sentence("A loja abre cedo."),
        Sentence("Ela fica no Centro."),
        Sentence("Os horários são:", intro=True),
        Sentence("de segunda a sexta, das 9:00 às 19:00;", bullet=True),
        Sentence("aos sábados, das 9:00 às 14:00.", bullet=True),
    ]


def test_titles_and_abbreviations_do_not_end_a_sentence() -> None:
    assert split_sentences("A Dra. Ana Souza atende às segundas. O Dr. Bruno, às terças.") == [
        "A Dra. Ana Souza atende às segundas.",
        "O Dr. Bruno, às terças.",
    ]
    assert split_sentences("Preço: R$ 69,90. Disponível.") == ["Preço: R$ 69,90.", "Disponível."]


def test_markdown_syntax_is_removed_from_sentences() -> None:
    assert plain("Use o **cupom** `BEMVINDA10` no [site](https://x.example).") == (
        "Use o cupom BEMVINDA10 no site."
    )
    assert sentences("| SKU | Preço |\n|---|---|\n| BP-001 | R$ 89,90 |") == [
        Sentence("SKU — Preço", bullet=True),
        Sentence("BP-001 — R$ 89,90", bullet=True),
    ]


def test_a_sample_domain_loads_every_knowledge_file_in_order() -> None:
    domain = DomainRegistry(SAMPLE_DOMAINS).get("cosmetics")
    chunks = domain.knowledge_chunks()
    sources = [chunk.source for chunk in chunks]
    assert sources == sorted(sources)
    assert "knowledge/entregas.md" in sources
    assert {chunk.domain_id for chunk in chunks} == {"cosmetics"}
    frete = next(chunk for chunk in chunks if chunk.title == "Frete grátis e valor do frete")
    assert frete.heading == "Entregas, frete e rastreio > Frete grátis e valor do frete"
    assert "R$ 199,00" in frete.text


def test_knowledge_paths_are_globs_relative_to_the_domain_folder(tree: DomainTree) -> None:
    tree.minimal()
    tree.write(
        "shop/domain.yaml",
        "extends: _base\nname: Loja\nknowledge:\n  paths: [docs/*.md, extra.md, docs/a.md]\n",
    )
    tree.write("shop/docs/a.md", "## A\n\nTexto A.\n")
    tree.write("shop/docs/b.md", "## B\n\nTexto B.\n")
    tree.write("shop/extra.md", "## Extra\n\nTexto extra.\n")
    tree.write("shop/knowledge/ignored.md", "## Ignorado\n\nNão listado.\n")
    chunks = DomainRegistry(tree.root).get("shop").knowledge_chunks()
    assert [(chunk.source, chunk.text) for chunk in chunks] == [
        ("docs/a.md", "Texto A."),
        ("docs/b.md", "Texto B."),
        ("extra.md", "Texto extra."),
    ]


def test_a_knowledge_path_may_not_reach_another_domains_files(tree: DomainTree) -> None:
    tree.minimal()
    tree.write("other/domain.yaml", "extends: _base\nname: Outra\n")
    tree.write("other/knowledge/secret.md", "## Segredo\n\nDe outra empresa.\n")
    tree.write(
        "shop/domain.yaml",
        "extends: _base\nname: Loja\nknowledge:\n  paths: ['../other/knowledge/*.md']\n",
    )
    with pytest.raises(ConfigurationError, match="outside the domain folder"):
        DomainRegistry(tree.root).get("shop").knowledge_chunks()


def test_a_knowledge_file_that_is_not_utf8_is_a_configuration_error(tree: DomainTree) -> None:
    tree.minimal()
    (tree.root / "shop" / "knowledge").mkdir(parents=True)
    (tree.root / "shop" / "knowledge" / "bad.md").write_bytes(b"## A\n\n\xff\xfe\n")
    with pytest.raises(ConfigurationError, match="cannot be read"):
        DomainRegistry(tree.root).get("shop").knowledge_chunks()
