"""BM25 over chunks: the passage about the question ranks first, the same way every time."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from hub.domains.registry import DomainRegistry
from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import Hit, LexicalIndex, chunk_terms
from hub.knowledge.text import tokenize

SAMPLE_DOMAINS = Path(__file__).parents[3] / "domains"


def chunk(heading: str, text: str) -> Chunk:
    return Chunk(domain_id="shop", source="knowledge/faq.md", heading=heading, text=text)


@pytest.fixture
def index() -> LexicalIndex:
    return LexicalIndex.build(
        [
            chunk("FAQ > Entregas", "Entregamos em todo o Brasil em até 10 dias úteis."),
            chunk("FAQ > Pagamento", "Aceitamos Pix e cartão de crédito em até 6 vezes."),
            chunk("FAQ > Trocas", "A troca vale por 7 dias. Perfumes só lacrados."),
            chunk("FAQ > Loja", "A loja fica no Centro e abre às 9:00."),
        ]
    )


@pytest.fixture(scope="module")
def registry() -> DomainRegistry:
    return DomainRegistry(SAMPLE_DOMAINS)


def test_the_passage_about_the_question_ranks_first(index: LexicalIndex) -> None:
    hits = index.search("Vocês aceitam pix?")
    assert hits[0].chunk.title == "Pagamento"
    assert hits[0].matched == frozenset(tokenize("aceitam pix"))


def test_a_heading_counts_twice_for_its_passage() -> None:
    terms = chunk_terms(chunk("Manual > Entregas", "Prazos por região."))
    assert terms[tokenize("entregas")[0]] == 2
    assert terms[tokenize("manual")[0]] == 1
    index = LexicalIndex.build(
        [
            chunk("Outros", "Falamos de entregas aqui também, entre outras coisas diversas."),
            chunk("Entregas", "Prazos por região, conforme a tabela de prazos e regiões."),
        ]
    )
    assert index.search("entregas")[0].chunk.title == "Entregas"


def test_a_rare_term_outweighs_a_common_one() -> None:
    index = LexicalIndex.build(
        [
            chunk("A", "Garantia de fábrica para o produto, produto com garantia."),
            chunk("B", "Produto com defeito: fale com a equipe."),
            chunk("C", "Produto novo."),
        ]
    )
    garantia, defeito = tokenize("garantia")[0], tokenize("defeito")[0]
    assert index.idf(defeito) > index.idf(tokenize("produto")[0])
    assert index.search("produto defeito")[0].chunk.title == "B"
    assert index.search("garantia produto")[0].chunk.title == "A"
    assert index.idf(garantia) == index.idf(defeito)


def test_an_unseen_term_has_the_highest_idf(index: LexicalIndex) -> None:
    seen = max(index.idf(term) for term in tokenize("entregamos pix troca loja"))
    assert index.idf("xyzzy") > seen > 0
    assert not index.knows("xyzzy")
    assert index.knows(tokenize("pix")[0])


def test_nothing_matches_nothing(index: LexicalIndex) -> None:
    assert index.search("carros importados") == []
    assert index.search("") == []
    assert index.search("pix", k=0) == []
    assert LexicalIndex.build([]).search("pix") == []


def test_results_are_limited_ordered_and_deterministic(index: LexicalIndex) -> None:
    hits = index.search("loja troca entrega pagamento", k=2)
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score
    assert hits == index.search("loja troca entrega pagamento", k=2)


def test_equal_scores_keep_the_documents_order() -> None:
    twins = LexicalIndex.build([chunk("A", "mesmo texto"), chunk("B", "mesmo texto")])
    assert [hit.chunk.title for hit in twins.search("texto")] == ["A", "B"]


def test_weighted_terms_change_the_ranking(index: LexicalIndex) -> None:
    pix, troca = tokenize("pix")[0], tokenize("troca")[0]
    assert index.search_terms({pix: 1.0, troca: 0.1})[0].chunk.title == "Pagamento"
    assert index.search_terms({pix: 0.1, troca: 1.0})[0].chunk.title == "Trocas"
    assert index.search_terms({pix: 0.0}) == []


def test_coverage_is_the_idf_weighted_share_of_the_question(index: LexicalIndex) -> None:
    pix, loja = tokenize("pix")[0], tokenize("loja")[0]
    assert index.coverage({pix: 1.0, loja: 1.0}, {pix, loja}) == pytest.approx(1.0)
    assert index.coverage({pix: 1.0, loja: 1.0}, {pix}) == pytest.approx(0.5)
    assert index.coverage({pix: 1.0, "xyzzy": 1.0}, {pix}) < 0.5
    assert index.coverage({}, {pix}) == 0.0


def test_the_index_is_immutable_and_shared_by_copies(index: LexicalIndex) -> None:
    assert copy.copy(index) is index
    assert copy.deepcopy(index) is index
    assert len(index) == 4
    assert index.chunks[0].title == "Entregas"


def test_hits_compare_by_value(index: LexicalIndex) -> None:
    hit = index.search("pix")[0]
    assert hit == Hit(hit.chunk, hit.score, hit.matched)


@pytest.mark.parametrize(
    ("domain_id", "query", "title"),
    [
        ("cosmetics", "frete grátis", "Frete grátis e valor do frete"),
        ("cosmetics", "BP-002", "BP-002 Protetor Solar Facial FPS 50 toque seco 50 g"),
        ("health", "jejum colesterol", "Jejum para perfil lipídico (colesterol e triglicerídeos)"),
        ("health", "hapvida", "Hapvida e outros convênios não aceitos"),
        ("retail", "horário de funcionamento", "Horário de funcionamento"),
        ("retail", "montagem de móveis", "Montagem de móveis"),
    ],
)
def test_sample_domains_find_their_passages(
    registry: DomainRegistry, domain_id: str, query: str, title: str
) -> None:
    index = LexicalIndex.build(registry.get(domain_id).knowledge_chunks())
    hits = index.search(query)
    assert hits[0].chunk.title == title
    assert {hit.chunk.domain_id for hit in hits} == {domain_id}
