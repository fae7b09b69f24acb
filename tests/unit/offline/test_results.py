"""The offline model's final answer after a tool ran: the tool's typed result, plus the
documents' lines only where they add what was asked; nothing else."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.domains.registry import DomainRegistry
from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import LexicalIndex
from hub.offline.prompt import Step
from hub.offline.results import ask_for, best_products, final_answer, result_for
from hub.turn import (
    AppointmentData,
    BookingData,
    CancellationData,
    OrderData,
    ProductData,
    ProductsData,
    SlotData,
    SlotsData,
    ToolData,
    ToolResult,
)

SAMPLE_DOMAINS = Path(__file__).parents[3] / "domains"
UNKNOWN = "Não sei com segurança. Quer falar com uma pessoa da equipe?"
CLINIC = ZoneInfo("America/Sao_Paulo")


@pytest.fixture(scope="module")
def indexes() -> dict[str, LexicalIndex]:
    registry = DomainRegistry(SAMPLE_DOMAINS)
    return {
        key: LexicalIndex.build(registry.get(key).knowledge_chunks())
        for key in ("cosmetics", "health", "retail")
    }


def reply(
    index: LexicalIndex, question: str, tool: str, observation: str, data: ToolData | None
) -> str:
    """The answer after `tool` returned `observation` (and recorded `data`, unless None:
    the tool raised, and CrewAI's observation is its error)."""
    step = Step(tool=tool, arguments="{}", observation=observation)
    result = None if data is None else ToolResult(tool, data, observation)
    return final_answer(question, step, result, index, unknown_reply=UNKNOWN, language="pt-BR")


def product(sku: str, name: str, price: str, stock: int, line: str) -> ProductData:
    return ProductData(sku=sku, name=name, price=Decimal(price), stock=stock, line=line)


def products(*items: ProductData) -> ProductsData:
    return ProductsData("busca", items)


SUNSCREEN = product(
    "BP-002",
    "Protetor Solar Facial FPS 50 toque seco 50 g",
    "69.90",
    120,
    "BP-002 — Protetor Solar Facial FPS 50 toque seco 50 g — R$ 69,90 — em estoque (120)",
)
CLEANSER = product(
    "BP-004",
    "Gel de Limpeza Facial Pele Oleosa 150 ml",
    "39.90",
    80,
    "BP-004 — Gel de Limpeza Facial Pele Oleosa 150 ml — R$ 39,90 — em estoque (80 unidades)",
)
SERUM = product(
    "BP-001",
    "Sérum Vitamina C 10% 30 ml",
    "89.90",
    42,
    "BP-001 — Sérum Vitamina C 10% 30 ml — R$ 89,90 — em estoque (42 unidades)",
)
CATALOGUE = "\n".join(item.line for item in (SUNSCREEN, CLEANSER, SERUM))


def test_the_catalogue_lines_that_match_the_question_best_are_quoted(
    indexes: dict[str, LexicalIndex],
) -> None:
    question = "Vocês têm protetor solar para pele oleosa? Quanto custa?"
    found = products(SUNSCREEN, CLEANSER, SERUM)
    assert best_products(question, found.items, indexes["cosmetics"])[0].startswith("BP-002")
    text = reply(indexes["cosmetics"], question, "product_search", CATALOGUE, found)
    assert text.startswith("Encontrei no nosso catálogo:\n- BP-002 — Protetor Solar")
    assert "R$ 69,90" in text
    assert "BP-001" not in text  # found by the search, but not what was asked


def test_documents_add_what_the_catalogue_line_does_not_say(
    indexes: dict[str, LexicalIndex],
) -> None:
    rack = product(
        "CC-107",
        "Rack para TV até 55 polegadas",
        "549.00",
        6,
        "CC-107 — Rack para TV até 55 polegadas — R$ 549,00 — em estoque (6 unidades)",
    )
    text = reply(
        indexes["retail"],
        "Vocês montam o rack de TV? Quanto custa?",
        "product_search",
        rack.line,
        products(rack),
    )
    assert "R$ 549,00" in text and "R$ 80,00" in text  # the assembly service, from the documents


def test_a_search_that_finds_nothing_falls_back_to_the_documents_or_admits_it(
    indexes: dict[str, LexicalIndex],
) -> None:
    nothing = "Nenhum produto do catálogo corresponde a essa busca."
    none = products()
    coupon = reply(indexes["cosmetics"], "Tem cupom de desconto?", "product_search", nothing, none)
    assert "BEMVINDA10" in coupon
    cars = reply(indexes["cosmetics"], "Quanto custa um carro?", "product_search", nothing, none)
    assert cars == f"Não encontrei esse produto no nosso catálogo.\n\n{UNKNOWN}"


def test_an_order_status_is_told_as_the_store_has_it(indexes: dict[str, LexicalIndex]) -> None:
    observation = (
        "Pedido CC-2026-00020: cancelado. Pedido cancelado a pedido do cliente; "
        "o reembolso será feito em até 7 dias úteis."
    )
    order = OrderData(
        "CC-2026-00020",
        found=True,
        status="cancelado",
        note="Pedido cancelado a pedido do cliente; o reembolso será feito em até 7 dias úteis.",
    )
    text = reply(
        indexes["retail"],
        "Qual o status do pedido CC-2026-00020?",
        "order_status",
        observation,
        order,
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
        documents,
        "Status do pedido X?",
        "order_status",
        "Pedido AB-2026-00001: cancelado.",
        OrderData("AB-2026-00001", found=True, status="cancelado"),
    )
    assert "Pedido AB-2026-00001: cancelado." in text
    assert "7 dias úteis" in text
    assert "10:00" not in text


def test_a_missing_order_is_admitted_and_a_human_offered(indexes: dict[str, LexicalIndex]) -> None:
    text = reply(
        indexes["retail"],
        "CC-2026-99999?",
        "order_status",
        "Não encontrei o pedido CC-2026-99999.",
        OrderData("CC-2026-99999", found=False),
    )
    assert text == f"Não encontrei o pedido CC-2026-99999.\n\n{UNKNOWN}"


def test_at_most_three_free_slots_are_offered_with_a_question(
    indexes: dict[str, LexicalIndex],
) -> None:
    slots = tuple(
        SlotData(
            datetime(2026, 12, 4, hour, tzinfo=CLINIC),
            "Dra. Carla Mendes",
            "Dermatologia",
            f"sexta-feira, 04/12/2026 às {hour:02d}:00 — Dra. Carla Mendes (Dermatologia)",
        )
        for hour in range(8, 12)
    )
    observation = "Horários livres:\n" + "\n".join(f"- {slot.line}" for slot in slots)
    found = SlotsData("dermatologista", slots=slots)
    text = reply(indexes["health"], "quero marcar", "appointment_slots", observation, found)
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
    booked = BookingData(
        "booked",
        "Dra. Carla Mendes",
        datetime(2026, 12, 4, 8, tzinfo=CLINIC),
        patient="Maria Silva",
        appointment_id=7,
    )
    text = reply(indexes["health"], "pode ser o primeiro", "book_appointment", observation, booked)
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
    cancelled = CancellationData(
        "cancelled",
        AppointmentData(
            "Dra. Carla Mendes", "Dermatologia", datetime(2026, 12, 4, 8, tzinfo=CLINIC)
        ),
        fee_applies=True,
    )
    text = reply(indexes["health"], "quero cancelar", "cancel_appointment", observation, cancelled)
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
        indexes["retail"],
        "Qual o status do pedido CC-2026-00020?",
        "order_status",
        observation,
        None,
    )
    assert text == f"Não consegui consultar essa informação agora.\n\n{UNKNOWN}"


def test_a_missing_order_number_is_asked_for_with_what_the_documents_say(
    indexes: dict[str, LexicalIndex],
) -> None:
    text = ask_for("número do pedido", indexes["retail"], language="pt-BR")
    assert "CC-2026-NNNNN" in text
    assert text.endswith("Pode me enviar o número do pedido?")


def test_free_slots_on_another_day_than_asked_are_offered_after_the_tool_s_reason(
    indexes: dict[str, LexicalIndex],
) -> None:
    slot = SlotData(
        datetime(2026, 12, 11, 8, tzinfo=CLINIC),
        "Dra. Carla Mendes",
        "Dermatologia",
        "sexta-feira, 11/12/2026 às 08:00 — Dra. Carla Mendes (Dermatologia)",
    )
    problem = "Não há horários livres para dermatologista em quinta."
    observation = f"{problem} Outros horários livres:\n- {slot.line}"
    found = SlotsData("dermatologista", "quinta", fits=False, slots=(slot,), problem=problem)
    text = reply(indexes["health"], "quinta", "appointment_slots", observation, found)
    assert text == (
        f"{problem} Outros horários livres:\n\n1. {slot.line}\n\n"
        "Qual desses horários fica melhor para você?"
    )


def test_a_cancellation_that_fits_several_appointments_asks_which(
    indexes: dict[str, LexicalIndex],
) -> None:
    observation = "Há mais de uma consulta marcada. Consultas marcadas nesta conversa: …"
    unclear = CancellationData("unclear")
    text = reply(indexes["health"], "quero cancelar", "cancel_appointment", observation, unclear)
    assert text == f"{observation}\n\nQual delas você quer cancelar?"


@pytest.mark.parametrize("recorded", [False, True], ids=["nothing-recorded", "untyped"])
def test_an_observation_without_typed_data_is_not_read_back_the_documents_answer(
    indexes: dict[str, LexicalIndex], recorded: bool
) -> None:
    from hub.offline.answers import answer

    question = "Qual o status do pedido CC-2026-00020?"
    observation = "Pedido CC-2026-00020: cancelado. O reembolso será feito em até 7 dias úteis."
    step = Step(tool="order_status", arguments="{}", observation=observation)
    result = ToolResult("order_status", None, observation) if recorded else None
    text = final_answer(
        question, step, result, indexes["retail"], unknown_reply=UNKNOWN, language="pt-BR"
    )
    assert text == answer(indexes["retail"], question, unknown_reply=UNKNOWN)
    assert not text.startswith("Pedido CC-2026-00020")


def test_a_step_s_result_is_the_latest_of_its_tool_whose_text_crewai_showed() -> None:
    older = ToolResult(
        "order_status", OrderData("CC-1", found=False), "Não encontrei o pedido CC-1."
    )
    newer = ToolResult(
        "order_status", OrderData("CC-2", found=False), "Não encontrei o pedido CC-2."
    )
    other = ToolResult("product_lookup", products(), "Não encontrei o pedido CC-2.")
    results = [older, newer, other]

    def shown(observation: str) -> ToolResult | None:
        return result_for(Step("order_status", "{}", observation), results)

    assert shown("Não encontrei o pedido CC-2.") is newer
    assert shown("Não encontrei o pedido CC-1.") is older
    reminder = "Não encontrei o pedido CC-2.\n\nYou ONLY have access to the following tools: …"
    assert shown(reminder) is newer  # CrewAI may append its format reminder
    assert shown("Error executing tool: database is locked") is None  # it raised: no result
    assert result_for(Step("order_status", "{}", "Não encontrei o pedido CC-2."), []) is None
