"""A customer's words in the documents' words, before the offline model searches."""

from __future__ import annotations

from collections.abc import Callable

from hub.knowledge.glossary import search_text
from hub.knowledge.text import tokenize


def knowing(*words: str) -> Callable[[str], bool]:
    """A `knows` for documents that use exactly `words`."""
    known = {term for word in words for term in tokenize(word)}
    return lambda term: term in known


NOTHING = knowing()


def same_terms(text: str, expected: str) -> bool:
    """Whether `text` searches for the terms of `expected`, in order (spacing aside)."""
    return tokenize(text) == tokenize(expected) and text.split() != []


def test_an_english_question_is_searched_in_portuguese() -> None:
    assert same_terms(
        search_text("Is shipping free?", knows=NOTHING, language="en"), "frete entrega gratis ?"
    )
    assert same_terms(
        search_text("How much is the coffee maker?", knows=NOTHING, language="en"),
        "quanto custa cafeteira ?",
    )


def test_the_leftmost_longest_phrase_wins() -> None:
    text = search_text("When will my blood test results be ready?", knows=NOTHING, language="en")
    assert same_terms(text, "quando exame de sangue resultados disponiveis")


def test_an_english_possessive_is_the_word_itself_but_a_contraction_is_kept() -> None:
    assert same_terms(
        search_text("What's the clinic's address?", knows=NOTHING, language="en"),
        "clinica endereco ?",
    )


def test_spanish_filler_is_dropped_after_an_inverted_question_mark() -> None:
    assert same_terms(search_text("¿Cuál es el horario?", knows=NOTHING, language="es"), "horario?")
    assert same_terms(
        search_text("¿Cuánto cuesta el envío?", knows=NOTHING, language="es"),
        "¿ quanto custa frete entrega ?",
    )


def test_ten_x_is_ten_instalments() -> None:
    assert same_terms(
        search_text("posso parcelar em 10x?", knows=NOTHING), "posso parcelar em 10 vezes parcelar?"
    )
    assert same_terms(
        search_text("em 3 x no cartão", knows=NOTHING), "em 3 vezes parcelar no cartao"
    )


def test_a_colloquial_phrase_is_replaced_when_the_documents_never_use_it() -> None:
    text = search_text("o frete sai de graça?", knows=knowing("frete grátis"))
    assert same_terms(text, "o frete grátis")


def test_a_phrase_the_documents_use_is_kept_beside_its_replacement() -> None:
    text = search_text("a entrega sai de graça?", knows=knowing("retire de graça"))
    assert same_terms(text, "a entrega sai de graça grátis")


def test_a_domain_alias_names_what_the_documents_call_it() -> None:
    aliases = {"rímel": "máscara de cílios"}
    assert same_terms(
        search_text("tem rímel?", knows=NOTHING, aliases=aliases), "tem mascara de cilios?"
    )
    english = search_text("Do you sell waterproof mascara?", knows=NOTHING, language="en")
    assert "mascara de cilios" in english and "prova d agua" in english


def test_a_portuguese_question_gets_no_english_rewrite() -> None:
    assert same_terms(
        search_text("o site é free mesmo?", knows=NOTHING, language="pt"), "o site e free mesmo?"
    )


def test_an_empty_or_blank_question_is_empty() -> None:
    assert search_text("", knows=NOTHING, language="en") == ""
    assert search_text("   ", knows=NOTHING) == ""
