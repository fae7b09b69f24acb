"""The reply gate refuses every kind of bad reply, and lets a grounded one through."""

from __future__ import annotations

import pytest

from hub import language
from hub.crews.facts import Evidence, facts
from hub.crews.screen import Screen

PASSAGES = [
    "Lojas: de segunda-feira a sábado, das 10:00 às 22:00; aos domingos, das 14h às 20h.",
    "Frete grátis para compras acima de R$ 199,00. Pix com 5% de desconto.",
    "Loja Paulista: Av. Paulista, 1500 — telefone (11) 3456-7890.",
    "CC-102 — Air Fryer 4 litros — R$ 349.90 — 9 unidades",
]
INSTRUCTIONS = (
    "1. Pedidos: se o cliente perguntar sobre um pedido e não tiver dado o número, peça o "
    "número do pedido (formato CC-2026-NNNNN, por exemplo CC-2026-00017).",
)
CUSTOMER = "Qual o horário da loja? Meu pedido é CC-2026-00020."


@pytest.fixture
def gate() -> Screen:
    return Screen(
        evidence=Evidence(PASSAGES, customer=[CUSTOMER]),
        instructions=INSTRUCTIONS,
        tools=frozenset({"knowledge_search", "order_status", "handoff"}),
        language="pt",
        detect=language.detect,
    )


def test_a_grounded_reply_passes(gate: Screen) -> None:
    reply = (
        "Abrimos de segunda a sábado das 10h às 22h e aos domingos das 14:00 às 20:00. "
        "A Air Fryer custa R$ 349,90 e o frete é grátis acima de R$ 199. "
        "O seu pedido CC-2026-00020 está sendo verificado."
    )
    assert gate(reply).passed


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty"),
        ("  ... ", "empty"),
        (
            'Boa tarde! ```json\n{"name": "knowledge_search", "arguments": {"query": "x"}}\n```',
            "tool_call",
        ),
        ("<tool_call>\n{}\n</tool_call>", "tool_call"),
        ("Thought: preciso ver\nFinal Answer: Abrimos às 10:00.", "scaffolding"),
        ("Vou usar a ferramenta knowledge_search para ver isso.", "recital"),
        (
            "Se o cliente perguntar sobre um pedido e não tiver dado o número, peça o número.",
            "recital",
        ),
        ("We open every day from ten in the morning, and the shipping is free.", "language"),
        ("Endereço: Rua X, Cidade Y.", "unsupported_fact"),
        ("O produto custa R$ 59,90.", "unsupported_fact"),
        ("Abrimos às 9h.", "unsupported_fact"),
        ("Ligue para (11) 99999-1234.", "unsupported_fact"),
        ("Seu pedido CC-2026-00017 saiu para entrega.", "unsupported_fact"),
        ("Sua entrega chega em 05/12.", "unsupported_fact"),
        ("No cartão há 15% de desconto.", "unsupported_fact"),
    ],
)
def test_a_bad_reply_is_refused_with_its_reason(gate: Screen, reply: str, reason: str) -> None:
    verdict = gate(reply)
    assert verdict.reason == reason
    assert verdict.advice()


def test_the_refusal_of_a_fact_names_it_for_the_retry(gate: Screen) -> None:
    verdict = gate("A loja fica na Rua das Acácias, 45.")
    assert verdict.reason == "unsupported_fact"
    assert "rua das acacias" in verdict.advice()


def test_a_fact_written_another_way_is_the_same_fact() -> None:
    evidence = Evidence(["R$ 1.234,56 às 8h30 em 04/12/2026, tel. +55 11 3456-7890, 10 %"])
    for same in ("R$ 1234,56", "08:30", "4 de dezembro", "(11) 3456-7890", "10%"):
        assert evidence.unsupported(same) == [], same
    assert {f.kind for f in facts("Ligue 0800 123 4567 ou vá à Rua X, 10 até 6 pm")} == {
        "phone",
        "address",
        "time",
    }


def test_an_order_number_only_a_tool_answered_about_is_still_invented() -> None:
    evidence = Evidence(
        ["Pedido CC-2026-00017: saiu para entrega"], customer=["Qual o horário das lojas?"]
    )
    assert [f.kind for f in evidence.unsupported("O pedido CC-2026-00017 saiu.")] == ["order"]
    assert [f.kind for f in evidence.unsupported("A air fryer é o CC-102.")] == ["code"]
    given = Evidence(["Pedido CC-2026-00017: saiu"], customer=["e o pedido cc-2026-00017?"])
    assert given.unsupported("O pedido CC-2026-00017 saiu para entrega.") == []


def test_an_unsure_language_is_not_a_refusal(gate: Screen) -> None:
    assert gate("Ok!").passed


def test_an_address_is_the_street_and_its_number_when_the_reply_gives_one() -> None:
    evidence = Evidence(["Loja Pinheiros: Rua dos Pinheiros, 450.", "Av. Paulista, 1500 — loja"])
    for same in ("Rua dos Pinheiros, 450", "rua dos pinheiros nº 450", "Avenida Paulista, 1500"):
        assert evidence.unsupported(same) == [], same
    assert evidence.unsupported("A loja fica na Rua dos Pinheiros.") == []
    (wrong,) = evidence.unsupported("A loja fica na Rua dos Pinheiros, 540.")
    assert (wrong.kind, wrong.value) == ("address", "rua dos pinheiros, 540")
    assert [f.kind for f in evidence.unsupported("Av. Paulista, 1600")] == ["address"]


def test_a_time_after_a_street_is_not_its_number() -> None:
    found = facts("Na Rua dos Pinheiros, 10h às 22h")
    assert ("address", "rua dos pinheiros") in {(f.kind, f.value) for f in found}
    assert {f.value for f in found if f.kind == "time"} == {"10:00", "22:00"}


def test_an_order_number_the_business_documents_as_an_example_is_supported() -> None:
    evidence = Evidence(
        ["Pedido CC-2026-00018: pago"],
        customer=["Como vejo o meu pedido?"],
        documents=["O número tem o formato CC-2026-NNNNN (por exemplo, CC-2026-00017)."],
    )
    assert evidence.unsupported("Envie o número, por exemplo CC-2026-00017.") == []
    assert [f.kind for f in evidence.unsupported("O pedido CC-2026-00018 foi pago.")] == ["order"]
