"""How the offline model reads a question, on a small shop that is none of the samples.

Each rule of `hub.offline.answers` is shown here on a pet shop's documents, so a
rule that only worked for one sample business's sentence would fail here; the
sample businesses' own questions are in tests/unit/crews/test_offline_llm.py.
"""

from __future__ import annotations

import pytest

from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import LexicalIndex
from hub.knowledge.text import tokenize
from hub.offline.answers import answer, find, questions, understand

UNKNOWN = "Não sei responder isso com segurança. Quer falar com uma pessoa?"


def chunk(heading: str, text: str) -> Chunk:
    return Chunk(domain_id="pets", source="knowledge/loja.md", heading=heading, text=text)


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(
        [
            chunk(
                "Pet Feliz > Endereço", "A loja da Pet Feliz fica na Rua das Flores, 45, Centro."
            ),
            chunk(
                "Pet Feliz > Horário de funcionamento",
                "Atendemos de segunda a sexta, das 8:00 às 18:00, "
                "e aos sábados, das 8:00 às 12:00.",
            ),
            chunk(
                "Pet Feliz > Banho e tosa",
                "O banho custa R$ 50,00 e a tosa custa R$ 70,00, com hora marcada.",
            ),
            chunk(
                "Pet Feliz > Devoluções",
                "Você pode devolver qualquer produto sem uso em até 15 dias.",
            ),
            chunk(
                "Pet Feliz > Cartão fidelidade",
                "A cada compra você ganha um carimbo, e dez carimbos valem um banho grátis.",
            ),
            chunk(
                "Pet Feliz > Exames",
                "Fazemos exames de sangue de cães e gatos. "
                "Os laudos ficam disponíveis em até 2 dias úteis.",
            ),
            chunk(
                "Pet Feliz > Entregas",
                "Entregamos ração em toda a cidade no mesmo dia, para pedidos até as 14:00.",
            ),
            chunk(
                "Catálogo > Escova macia para gatos", "Escova de cerdas macias. Preço: R$ 25,00."
            ),
            chunk("Catálogo > Caminha para cães", "Caminha acolchoada, lavável. Preço: R$ 120,00."),
            chunk(
                "Catálogo > Coleira de couro",
                "Coleira de couro para cães de porte médio. Preço: R$ 39,90.",
            ),
        ]
    )


def reply(index: LexicalIndex, question: str) -> str:
    return answer(index, question, unknown_reply=UNKNOWN)


# Two questions in one sentence


def test_clauses_that_each_ask_something_are_separate_questions() -> None:
    assert questions("Qual o endereço e até que horas abre no sábado?") == [
        "Qual o endereço",
        "até que horas abre no sábado",
    ]
    assert questions("Onde fica a loja, quanto custa o banho? E a tosa?") == [
        "Onde fica a loja",
        "quanto custa o banho",
        "E a tosa",
    ]


def test_things_listed_in_one_question_stay_one_question() -> None:
    assert questions("Quanto custa o banho e a tosa?") == ["Quanto custa o banho e a tosa"]
    assert questions("Comprei uma coleira e quero devolver, qual o prazo?") == [
        "Comprei uma coleira e quero devolver, qual o prazo"
    ]


def test_a_sentence_asking_for_an_address_and_the_hours_gets_both(index: LexicalIndex) -> None:
    text = reply(index, "Qual o endereço e até que horas abre no sábado?")
    assert "Rua das Flores" in text
    assert "12:00" in text
    assert text.endswith("Posso ajudar em mais alguma coisa?")


def test_the_clause_the_documents_do_not_answer_ends_with_the_unknown_reply(
    index: LexicalIndex,
) -> None:
    text = reply(index, "Onde fica a loja e quanto custa um aquário?")
    assert "Rua das Flores" in text
    assert text.endswith(UNKNOWN)


def test_a_lead_in_names_a_kind_of_fact_only_when_one_kind_was_answered(
    index: LexicalIndex,
) -> None:
    assert reply(index, "Quanto custa o banho?").startswith("Sobre valores:")
    both = find(index, "Qual o endereço e o horário?")
    assert both is not None and both.kind == "default"
    text = reply(index, "Qual o endereço da loja e o horário de funcionamento?")
    assert "Sobre o endereço:" in text and "Sobre o horário:" in text  # one per question


# Diminutives


def test_a_diminutive_is_read_as_the_word_the_documents_use(index: LexicalIndex) -> None:
    assert "25,00" in reply(index, "Quanto custa a escovinha?")
    assert set(understand(index, "escovinha").core) == set(tokenize("escova"))


def test_a_word_the_documents_use_is_never_read_as_a_diminutive(index: LexicalIndex) -> None:
    assert set(understand(index, "caminha").core) == set(tokenize("caminha"))
    assert "120,00" in reply(index, "Quanto custa a caminha?")


def test_a_diminutive_of_something_the_shop_does_not_have_stays_unknown(
    index: LexicalIndex,
) -> None:
    assert reply(index, "Quanto custa o aquariozinho?") == UNKNOWN


# What the customer tells they did


def test_what_the_customer_did_is_the_setting_of_the_question_not_its_subject(
    index: LexicalIndex,
) -> None:
    query = understand(index, "Comprei uma coleira e quero devolver, qual o prazo?")
    assert query.core[tokenize("coleira")[0]] < query.core[tokenize("devolver")[0]]
    assert query.core[tokenize("comprei")[0]] < query.core[tokenize("devolver")[0]]
    text = reply(index, "Comprei uma coleira e quero devolver, até quando posso?")
    assert "15 dias" in text
    assert "carimbo" not in text  # "compra" of the loyalty card is not what was asked


def test_something_the_shop_never_sold_keeps_a_told_question_unknown(
    index: LexicalIndex,
) -> None:
    assert reply(index, "Comprei um aquário e quero devolver, qual o prazo?") == UNKNOWN
    assert reply(index, "Qual o prazo para devolver um aquário?") == UNKNOWN


def test_a_message_that_only_tells_a_story_keeps_its_subject_at_full_weight(
    index: LexicalIndex,
) -> None:
    query = understand(index, "Comprei uma coleira")
    assert query.core[tokenize("coleira")[0]] == 1.0


# The kind of fact asked


def test_a_line_giving_the_kind_of_fact_asked_answers_the_word_that_asked_for_it(
    index: LexicalIndex,
) -> None:
    # The documents never say "prazo"; "em até 15 dias" is the prazo.
    assert "15 dias" in reply(index, "Qual o prazo para devolver?")
    assert "14:00" in reply(index, "Qual o horário das entregas de ração?")


# Everyday words


def test_everyday_verbs_meet_the_documents_words(index: LexicalIndex) -> None:
    assert "2 dias úteis" in reply(index, "O laudo do exame do meu gato já saiu?")
    assert "2 dias úteis" in reply(index, "Fiz o exame ontem, quando sai o laudo?")
    assert "mesmo dia" in reply(index, "Vocês mandam ração?")


@pytest.mark.parametrize(
    "question",
    [
        "Vocês vendem aquário?",
        "Vocês fazem castração?",
        "O raio-x do meu cachorro já saiu?",
        "Vocês mandam remédio?",
        "Tem um aquariozinho?",
    ],
)
def test_what_the_documents_do_not_say_stays_unknown(index: LexicalIndex, question: str) -> None:
    assert reply(index, question) == UNKNOWN
