"""A task's text for a real model: the paragraphs of the turn after the stable ones."""

from __future__ import annotations

from hub.crews.layout import stable_first

TASK = """Responda à mensagem do cliente.

Cliente: {customer_name}
Empresa: {business_name}
Data e hora local: {now}

Conversa até aqui:
{history}

Mensagem do cliente:
{message}

Como responder:
1. Pesquise na base.

2. Responda em até 5 frases para a {business_name}.
"""


def test_the_paragraphs_of_the_turn_move_after_the_stable_ones_in_their_order() -> None:
    assert stable_first(TASK).split("\n\n") == [
        "Responda à mensagem do cliente.",
        "Como responder:\n1. Pesquise na base.",
        "2. Responda em até 5 frases para a {business_name}.",
        "Cliente: {customer_name}\nEmpresa: {business_name}\nData e hora local: {now}",
        "Conversa até aqui:\n{history}",
        "Mensagem do cliente:\n{message}",
    ]


def test_a_text_without_a_value_of_the_turn_keeps_its_order() -> None:
    text = "Escolha a rota.\n\nRotas:\n{routes}\n\nResponda só o nome."
    assert stable_first(text) == text


def test_two_equal_paragraphs_both_stay() -> None:
    text = "Seja breve.\n\n{message}\n\nSeja breve."
    assert stable_first(text) == "Seja breve.\n\nSeja breve.\n\n{message}"


def test_an_empty_text_stays_empty() -> None:
    assert stable_first("") == ""
