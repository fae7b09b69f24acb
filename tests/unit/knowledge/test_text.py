"""Portuguese normalisation: a question and a document meet on the same terms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.knowledge.text import STOPWORDS, diminutive_bases, normalize, stem, synonyms, tokenize


def test_normalize_lowercases_folds_accents_and_collapses_spaces() -> None:
    assert normalize("  Horário de\tFUNCIONAMENTO  ") == "horario de funcionamento"
    assert normalize("Pães, ações e PROMOÇÃO") == "paes, acoes e promocao"
    assert normalize("Não é possível") == "nao e possivel"


@pytest.mark.parametrize(
    "words",
    [
        ("protetores", "protetor", "Protetor"),
        ("entregas", "entrega", "entregam", "entregamos", "entregar"),
        ("pães", "pão", "paes", "pao"),
        ("consultas", "consulta", "consultar"),
        ("horários", "horário", "horarios", "HORARIO"),
        ("funcionamento", "funciona", "funcionam", "funcionando"),
        ("disponíveis", "disponível"),
        ("itens", "item"),
        ("cardiologia", "cardiologista"),
        ("sábado", "sábados"),
    ],
)
def test_plurals_and_inflections_share_one_stem(words: tuple[str, ...]) -> None:
    stems = {tuple(tokenize(word)) for word in words}
    assert len(stems) == 1, stems


@pytest.mark.parametrize(
    "words",
    [
        ("comprei", "compra", "comprar"),
        ("troquei", "troca", "trocar"),
        ("paguei", "pagar", "paga"),
        ("marquei", "marcar", "marca"),
        ("cheguei", "chegar", "chega"),
    ],
)
def test_what_a_customer_says_they_did_meets_the_documents_word(words: tuple[str, ...]) -> None:
    stems = {tuple(tokenize(word)) for word in words}
    assert len(stems) == 1, stems


@pytest.mark.parametrize(
    ("diminutive", "word"),
    [
        ("manchinhas", "manchas"),
        ("sequinha", "seca"),
        ("florzinha", "flor"),
        ("cafezinho", "café"),
        ("pouquinho", "pouco"),
        ("cadeirinha", "cadeira"),
    ],
)
def test_a_diminutive_offers_the_stem_of_its_base(diminutive: str, word: str) -> None:
    (token,) = tokenize(diminutive)
    assert tokenize(word)[0] in diminutive_bases(token)


def test_words_that_only_end_like_a_diminutive_keep_their_own_stem() -> None:
    assert tokenize("cozinha") != tokenize("coz")
    assert tokenize("caminho") != tokenize("cama")
    assert diminutive_bases(tokenize("linha")[0]) == []


def test_different_words_keep_different_stems() -> None:
    assert tokenize("entrega") != tokenize("entrada")
    assert tokenize("preço") != tokenize("prazo")
    assert tokenize("pele seca") != tokenize("pele oleosa")


def test_stopwords_and_greetings_are_dropped() -> None:
    assert tokenize("Qual é o horário de vocês?") == tokenize("horário")
    assert tokenize("Oi, boa tarde! Por favor, eu queria saber o preço") == tokenize("preço")
    assert tokenize("what is the price of this") == tokenize("price")
    assert tokenize("o que é isso?") == []


def test_order_numbers_and_skus_stay_whole_tokens() -> None:
    assert tokenize("Qual o status do pedido CC-2026-00020?") == ["status", "ped", "cc-2026-00020"]
    assert tokenize("O BP-002 tem estoque") == ["bp-002", *tokenize("estoque")]
    assert tokenize("bp-002") == tokenize("BP-002")


def test_money_and_numbers_have_one_spelling() -> None:
    assert tokenize("R$ 69,90") == ["r$", "69,90"]
    assert tokenize("R$ 199,00") == ["r$", "199"]
    assert tokenize("199") == ["199"]
    assert tokenize("R$ 1.200,00") == ["r$", "1200"]
    assert tokenize("5% de desconto") == ["5%", "descont"]


def test_times_have_one_spelling() -> None:
    assert tokenize("das 10:00 às 22:00") == ["10h", "22h"]
    assert tokenize("das 10h às 22h") == ["10h", "22h"]
    assert tokenize("9:30") == ["9h30"]


def test_compounds_split_except_single_letter_prefixes() -> None:
    assert tokenize("pronto-socorro") == tokenize("pronto socorro")
    assert tokenize("e-mail") == tokenize("email")
    assert tokenize("sexta-feira") == tokenize("sexta")


def test_stem_leaves_short_words_and_numbers_alone() -> None:
    assert stem("pao") == "pao"
    assert stem("dia") == "dia"
    assert stem("cc-2026-00020") == "cc-2026-00020"
    assert stem("12") == "12"


def test_synonyms_relate_everyday_words_to_document_words() -> None:
    assert set(tokenize("preço")) <= synonyms(tokenize("quanto custa"))
    assert set(tokenize("horário")) <= synonyms(tokenize("abre"))
    assert not synonyms(tokenize("preço")) & set(tokenize("preço"))
    assert synonyms(["xyzzy"]) == set()


def test_everyday_verbs_have_the_documents_synonyms() -> None:
    assert set(tokenize("enviar")) <= synonyms(tokenize("mandar"))
    assert set(tokenize("entrega")) <= synonyms(tokenize("mandam"))
    assert set(tokenize("disponível")) <= synonyms(tokenize("saiu"))
    assert set(tokenize("liberado")) <= synonyms(tokenize("saiu"))


def test_past_tense_filler_and_yesterday_are_not_search_terms() -> None:
    assert tokenize("Fiz o exame ontem") == tokenize("exame")
    assert tokenize("Fui na loja e tive um problema") == tokenize("loja problema")


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


@given(st.text())
def test_tokenize_is_deterministic_and_yields_no_empty_token(text: str) -> None:
    tokens = tokenize(text)
    assert all(tokens)
    assert tokens == tokenize(text)


@given(st.lists(st.sampled_from(sorted(STOPWORDS))))
def test_a_message_of_stopwords_has_no_terms(words: list[str]) -> None:
    assert tokenize(" ".join(words).upper()) == []
