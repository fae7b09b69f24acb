"""The offline model's final answer after a tool ran: the observation, plus the documents'
lines only where they add what was asked; nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.crews.observations import ask_for, best_products, final_answer
from hub.crews.planner import Step
from hub.domains.registry import DomainRegistry
from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import LexicalIndex

SAMPLE_DOMAINS = Path(__file__).parents[3] / "domains"
UNKNOWN = "Não sei com segurança. Quer falar com uma pessoa da equipe?"


@pytest.fixture(scope="module")
def indexes() -> dict[str, LexicalIndex]:
    registry = DomainRegistry(SAMPLE_DOMAINS)
    return {
        key: LexicalIndex.build(registry.get(key).knowledge_chunks())
        for key in ("cosmetics", "health", "retail")
    }


def reply(index: LexicalIndex, question: str, tool: str, observation: str) -> str:
    step = Step(tool=tool, arguments="{}", observation=observation)
    return final_answer(question, step, index, unknown_reply=UNKNOWN, language="pt-BR")


CATALOGUE = "\n".join(
    [
        "BP-002 — Protetor Solar Facial FPS 50 toque seco 50 g — R$ 69,90 — em estoque (120)",
        "BP-004 — Gel de Limpeza Facial Pele Oleosa 150 ml — R$ 39,90 — em estoque (80 unidades)",
        "BP-001 — Sérum Vitamina C 10% 30 ml — R$ 89,90 — em estoque (42 unidades)",
    ]
)


def test_the_catalogue_lines_that_match_the_question_best_are_quoted(
    indexes: dict[str, LexicalIndex],
) -> None:
    question = "Vocês têm protetor solar para pele oleosa? Quanto custa?"
    assert best_products(question, CATALOGUE, indexes["cosmetics"])[0].startswith("BP-002")
    text = reply(indexes["cosmetics"], question, "product_search", CATALOGUE)
    assert text.startswith("Encontrei no nosso catálogo:\n- BP-002 — Protetor Solar")
    assert "R$ 69,90" in text
    assert "BP-001" not in text  # found by the search, but not what was asked


def test_documents_add_what_the_catalogue_line_does_not_say(
    indexes: dict[str, LexicalIndex],
) -> None:
    rack = "CC-107 — Rack para TV até 55 polegadas — R$ 549,00 — em estoque (6 unidades)"
    text = reply(
        indexes["retail"], "Vocês montam o rack de TV? Quanto custa?", "product_search", rack
    )
    assert "R$ 549,00" in text and "R$ 80,00" in text  # the assembly service, from the documents


def test_a_search_that_finds_nothing_falls_back_to_the_documents_or_admits_it(
    indexes: dict[str, LexicalIndex],
) -> None:
    nothing = "Nenhum produto do catálogo corresponde a essa busca."
    coupon = reply(indexes["cosmetics"], "Tem cupom de desconto?", "product_search", nothing)
    assert "BEMVINDA10" in coupon
    cars = reply(indexes["cosmetics"], "Quanto custa um carro?", "product_search", nothing)
    assert cars == f"Não encontrei esse produto no nosso catálogo.\n\n{UNKNOWN}"


def test_an_order_status_is_told_as_the_store_has_it(indexes: dict[str, LexicalIndex]) -> None:
    observation = (
        "Pedido CC-2026-00020: cancelado. Pedido cancelado a pedido do cliente; "
        "o reembolso será feito em até 7 dias úteis."
    )
    text = reply(
        indexes["retail"], "Qual o status do pedido CC-2026-00020?", "order_status", observation
    )
    assert text.startswith(observation)
    assert text.count("7 dias úteis") == 1


def test_a_term_the_order_note_lacks_comes_from_the_documents() -> None:
    documents = LexicalIndex.build(
        [
            Chunk(
                "shop",
                "pedidos.md",
                "Pedidos > Pedido cancelado",
                "Pedido cancelado: o reembolso é feito em até 7 dias úteis.",
            ),
            Chunk("shop", "loja.md", "Loja", "Abrimos às 10:00."),
        ]
    )
    text = reply(
        documents, "Status do pedido X?", "order_status", "Pedido AB-2026-00001: cancelado."
    )
    assert "Pedido AB-2026-00001: cancelado." in text
    assert "7 dias úteis" in text
    assert "10:00" not in text


def test_a_missing_order_is_admitted_and_a_human_offered(indexes: dict[str, LexicalIndex]) -> None:
    text = reply(
        indexes["retail"], "CC-2026-99999?", "order_status", "Não encontrei o pedido CC-2026-99999."
    )
    assert text == f"Não encontrei o pedido CC-2026-99999.\n\n{UNKNOWN}"


def test_at_most_three_free_slots_are_offered_with_a_question(
    indexes: dict[str, LexicalIndex],
) -> None:
    observation = "Horários livres:\n" + "\n".join(
        f"- sexta-feira, 04/12/2026 às {hour:02d}:00 — Dra. Carla Mendes (Dermatologia)"
        for hour in range(8, 12)
    )
    text = reply(indexes["health"], "quero marcar", "appointment_slots", observation)
    lines = text.splitlines()
    assert lines[0] == "Estes são os próximos horários livres:"
    assert lines[1:4] == [
        f"{n}. sexta-feira, 04/12/2026 às {hour:02d}:00 — Dra. Carla Mendes (Dermatologia)"
        for n, hour in ((1, 8), (2, 9), (3, 10))
    ]
    assert "11:00" not in text and text.endswith("?")


def test_a_booking_is_confirmed_with_what_to_bring_from_the_documents(
    indexes: dict[str, LexicalIndex],
) -> None:
    observation = (
        "Consulta marcada: Dra. Carla Mendes (Dermatologia), sexta-feira, 04/12/2026 às 08:00, "
        "para Maria Silva. Número do agendamento: 7."
    )
    text = reply(indexes["health"], "pode ser o primeiro", "book_appointment", observation)
    assert observation in text
    assert "15 minutos antes" in text and "documento de identidade" in text
    assert "carteirinha do convênio" in text


def test_a_cancellation_is_explained_with_the_clinic_s_rule(
    indexes: dict[str, LexicalIndex],
) -> None:
    observation = (
        "Consulta cancelada: Dra. Carla Mendes (Dermatologia), sexta-feira, 04/12/2026 às 08:00. "
        "Faltavam menos de 24 horas para a consulta: o cancelamento ficou fora do prazo "
        "gratuito, e vale a regra de cancelamento tardio."
    )
    text = reply(indexes["health"], "quero cancelar", "cancel_appointment", observation)
    assert text.startswith(observation)
    assert "50%" in text and "24 horas" in text


@pytest.mark.parametrize(
    "observation",
    ["", "Error executing tool: database is locked", "I encountered an error while trying"],
)
def test_a_tool_that_failed_is_admitted_and_a_human_offered(
    indexes: dict[str, LexicalIndex], observation: str
) -> None:
    text = reply(
        indexes["retail"], "Qual o status do pedido CC-2026-00020?", "order_status", observation
    )
    assert text == f"Não consegui consultar essa informação agora.\n\n{UNKNOWN}"


def test_a_missing_order_number_is_asked_for_with_what_the_documents_say(
    indexes: dict[str, LexicalIndex],
) -> None:
    text = ask_for("número do pedido", indexes["retail"], language="pt-BR")
    assert "CC-2026-NNNNN" in text
    assert text.endswith("Pode me enviar o número do pedido?")
