"""The customer's language, told from one short chat message, offline."""

from __future__ import annotations

import pytest

from hub.language import choose, code, detect

# fmt: off
LABELLED: tuple[tuple[str, str], ...] = (
    ("oi", "pt"), ("olá, tudo bem?", "pt"), ("bom dia", "pt"), ("boa noite!", "pt"),
    ("obrigado!", "pt"), ("valeu", "pt"), ("sim", "pt"), ("quanto custa?", "pt"),
    ("qual o horário de vocês?", "pt"), ("vocês abrem sábado?", "pt"), ("tem rímel?", "pt"),
    ("e o frete?", "pt"), ("posso parcelar em 10x?", "pt"), ("preciso de um pediatra", "pt"),
    ("a partir de quanto o frete sai de graça?", "pt"), ("quero falar com atendente", "pt"),
    ("onde fica a loja?", "pt"), ("aceitam cartão?", "pt"), ("cadê meu pedido?", "pt"),
    ("vcs entregam hoje?", "pt"), ("não recebi ainda", "pt"), ("tá bom, obrigada", "pt"),
    ("hi", "en"), ("hello", "en"), ("hey there", "en"), ("thanks", "en"), ("yes please", "en"),
    ("how much?", "en"), ("good morning", "en"), ("what time do you open?", "en"),
    ("do you ship to Rio?", "en"), ("is shipping free?", "en"), ("I need a pediatrician", "en"),
    ("can I talk to a person", "en"), ("where is the store?", "en"),
    ("can I pay in installments?", "en"), ("what's the price of the mascara?", "en"),
    ("do you accept my insurance?", "en"), ("where's my order?", "en"), ("cheers", "en"),
    ("hola", "es"), ("gracias", "es"), ("buenos días", "es"), ("¿cuánto cuesta?", "es"),
    ("¿abren el sábado?", "es"), ("y el envío?", "es"), ("necesito un pediatra para mi hijo", "es"),
    ("quiero hablar con una persona", "es"), ("¿dónde está la tienda?", "es"),
    ("¿aceptan tarjeta?", "es"), ("¿tienen envío gratis?", "es"), ("muy bien, gracias", "es"),
)
UNSURE: tuple[str, ...] = (
    "ok", "10x", "👍", "", "   ", "???", "mascara", "BP-002", "R$ 69,90", "pix", "site",
    "delivery", "online", "kkkk", "hmm",
)
# fmt: on


@pytest.mark.parametrize(("text", "language"), LABELLED)
def test_a_short_message_is_told_in_its_language(text: str, language: str) -> None:
    assert detect(text) == language


@pytest.mark.parametrize("text", UNSURE)
def test_a_message_with_no_language_of_its_own_is_unsure(text: str) -> None:
    assert detect(text) is None


def test_a_message_split_between_two_languages_is_unsure() -> None:
    assert detect("hola obrigado") is None


def test_short_messages_are_told_right_or_left_unsure_never_wrong() -> None:
    answers = [detect(text) for text, _ in LABELLED]
    wrong = [
        text
        for (text, language), got in zip(LABELLED, answers, strict=True)
        if got not in (language, None)
    ]
    right = sum(got == language for (_, language), got in zip(LABELLED, answers, strict=True))
    assert wrong == []
    assert right / len(LABELLED) >= 0.95


def test_choose_keeps_the_fallback_when_the_message_says_nothing() -> None:
    assert choose("ok", "pt-BR") == "pt"
    assert choose("ok", "en") == "en"
    assert choose("👍", "es-MX") == "es"


def test_choose_follows_the_customer_over_the_domain() -> None:
    assert choose("how much is shipping?", "pt-BR") == "en"
    assert choose("¿cuánto cuesta?", "pt-BR") == "es"
    assert choose("quanto custa?", "en") == "pt"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("pt-BR", "pt"), ("pt_PT", "pt"), ("EN-us", "en"), ("es", "es"), (" fr ", "fr"), ("", "pt")],
)
def test_a_language_tag_becomes_its_primary_code(tag: str, expected: str) -> None:
    assert code(tag) == expected


def test_curly_apostrophes_read_as_straight_ones() -> None:
    assert detect("what\u2019s the price?") == "en"
