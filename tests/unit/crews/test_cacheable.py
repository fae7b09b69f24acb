"""Which turns the answer cache may serve or fill: the pure rules of `hub.crews.cacheable`."""

from __future__ import annotations

import pytest

from hub.crews.cacheable import ineligible, self_contained
from hub.turn import Turn

HISTORY = (("customer", "Oi"), ("bot", "Olá! Como posso ajudar?"))


@pytest.mark.parametrize(
    ("turn", "reason"),
    [
        (Turn(message="Qual o horário?", images=("https://x/y.jpg",)), "media"),
        (Turn(message="[áudio]", media_only=True, unheard_audio=True), "media"),
        (Turn(message="frete " * 80), "long"),
        (Turn(message="Qual a situação do pedido CC-2026-00020?"), "personal"),
        (Turn(message="meu CEP é 80010 000, quanto é o frete?"), "personal"),
        (Turn(message="meu e-mail é ana@exemplo.com"), "personal"),
        (Turn(message="Vocês abrem hoje?"), "moment"),
        (Turn(message="Are you open now?"), "moment"),
        (Turn(message="e pra Curitiba?", history=HISTORY), "history"),
        (Turn(message="quanto custa isso?", history=HISTORY), "history"),
        (Turn(message="sim", history=HISTORY), "history"),
    ],
)
def test_a_turn_that_leans_on_something_else_than_its_words_takes_no_part(
    turn: Turn, reason: str
) -> None:
    assert ineligible(turn) == reason


@pytest.mark.parametrize(
    "turn",
    [
        Turn(message="Qual o valor do frete?"),
        Turn(message="e pra Curitiba?"),  # a first turn: nothing before it to lean on
        Turn(message="Qual o valor do frete para Curitiba?", history=HISTORY),
        Turn(message="Is shipping free?"),
    ],
)
def test_a_whole_question_takes_part(turn: Turn) -> None:
    assert ineligible(turn) is None


@pytest.mark.parametrize(
    ("message", "whole"),
    [
        ("Qual o horário de funcionamento da loja?", True),
        ("Do you deliver outside São Paulo state?", True),
        ("e no sábado?", False),
        ("and on Sundays?", False),
        ("quanto custa esse?", False),
        ("does it come in blue?", False),
        ("y eso cuánto cuesta?", False),
        ("ok", False),
        ("", False),
    ],
)
def test_a_question_is_whole_without_words_that_point_back(message: str, whole: bool) -> None:
    assert self_contained(message) is whole
