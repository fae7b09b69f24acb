"""The offline model's tool decisions: rules from what each tool is for and what the message says.

Prompts here are shaped like CrewAI's (the system prompt lists "Tool Name:" lines, the
task carries the conversation so far); `tests/integration/crews/test_offline_tools.py`
runs the same decisions through real crews.
"""

from __future__ import annotations

import json

import pytest

from hub.offline.planner import Action, Ambiguous, Missing, decide, offers_in, who_of
from hub.offline.prompt import Prompt, read_prompt

RETAIL_SUPPORT = ("knowledge_search", "order_status", "handoff")
SALES = ("knowledge_search", "product_search", "product_lookup", "handoff")
SCHEDULING = (
    "knowledge_search",
    "appointment_slots",
    "book_appointment",
    "cancel_appointment",
    "handoff",
)
HEALTH_SUPPORT = ("knowledge_search", "handoff")

OFFER = (
    "Estes são os próximos horários livres:\n"
    "1. sexta-feira, 04/12/2026 às 08:00 — Dra. Carla Mendes (Dermatologia)\n"
    "2. sexta-feira, 04/12/2026 às 08:30 — Dra. Carla Mendes (Dermatologia)\n"
    "3. quinta-feira, 10/12/2026 às 14:00 — Dra. Carla Mendes (Dermatologia)\n\n"
    "Qual desses horários fica melhor para você?"
)


def prompt(tools: tuple[str, ...], *history: tuple[str, str]) -> Prompt:
    return Prompt(tools=tools, history=tuple(history))


def after_offer(*tools: str) -> Prompt:
    return prompt(
        tools or SCHEDULING,
        ("customer", "Quero marcar consulta com a dermatologista"),
        ("bot", OFFER),
    )


def action(question: str, where: Prompt) -> Action:
    decision = decide(question, where)
    assert isinstance(decision, Action), decision
    return decision


@pytest.mark.parametrize(
    "question",
    ["Qual o status do pedido CC-2026-00020?", "é o cc-2026-00020", "CC-2026-00020 chegou?"],
)
def test_an_order_number_and_an_order_status_tool_look_the_order_up(question: str) -> None:
    decision = action(question, prompt(RETAIL_SUPPORT))
    assert (decision.tool, decision.arguments) == (
        "order_status",
        {"order_number": "CC-2026-00020"},
    )


def test_an_order_number_in_a_domain_without_the_order_tool_calls_no_tool() -> None:
    for tools in (HEALTH_SUPPORT, SALES, ()):
        assert decide("Qual o status do pedido CC-2026-00020?", prompt(tools)) is None


def test_an_order_question_without_its_number_asks_for_the_number() -> None:
    decision = decide("Meu pedido ainda não chegou, pode ver pra mim?", prompt(RETAIL_SUPPORT))
    assert isinstance(decision, Missing)
    assert (decision.tool, decision.needed) == ("order_status", "número do pedido")


@pytest.mark.parametrize(
    ("tools", "question"),
    [
        (RETAIL_SUPPORT, "Qual o horário de funcionamento?"),
        (RETAIL_SUPPORT, "Moro em Campinas, em quantos dias chega o meu pedido?"),
        (SALES, "Em quantas vezes posso parcelar no cartão de crédito?"),
        (SALES, "Como funcionam os pontos do Clube Bela Pele?"),
        (SCHEDULING, "Se eu desmarcar a consulta faltando menos de 24 horas, pago alguma coisa?"),
        (SCHEDULING, "Quais dias a pediatra atende?"),
        (SCHEDULING, "Posso cancelar a consulta sem pagar?"),
        (SCHEDULING, "Quero marcar uma consulta"),  # with whom? the documents explain how
    ],
)
def test_a_plain_knowledge_question_calls_no_tool(tools: tuple[str, ...], question: str) -> None:
    assert decide(question, prompt(tools)) is None


def test_a_product_question_searches_the_catalogue_with_its_content_words() -> None:
    decision = action("Vocês têm protetor solar para pele oleosa? Quanto custa?", prompt(SALES))
    assert decision.tool == "product_search"
    assert decision.arguments == {"query": "protetor solar pele oleosa"}


def test_a_sku_is_looked_up_directly() -> None:
    decision = action("Quanto custa o bp-002?", prompt(SALES))
    assert (decision.tool, decision.arguments) == ("product_lookup", {"sku": "BP-002"})


@pytest.mark.parametrize(
    ("question", "who", "when"),
    [
        ("Quero marcar consulta com a dermatologista", "dermatologista", None),
        ("Oi, quero agendar com a Dra. Carla", "Dra. Carla", None),
        ("Tem horário com o cardiologista na quinta à tarde?", "cardiologista", "quinta tarde"),
        ("Tem vaga para nutricionista no sábado?", "nutricionista", "sabado"),
    ],
)
def test_scheduling_intent_asks_for_the_free_slots_of_whoever_is_named(
    question: str, who: str, when: str | None
) -> None:
    decision = action(question, prompt(SCHEDULING))
    assert decision.tool == "appointment_slots"
    assert decision.arguments.get("who") == who
    assert decision.arguments.get("when") == when


def test_scheduling_words_in_a_crew_without_the_slots_tool_call_nothing() -> None:
    assert decide("Quero marcar consulta com a dermatologista", prompt(HEALTH_SUPPORT)) is None


def test_the_slots_the_bot_offered_are_read_back_from_its_reply() -> None:
    offers = offers_in(OFFER)
    assert [(o.starts_at, o.weekday, o.professional) for o in offers] == [
        ("04/12/2026 08:00", "sexta", "Dra. Carla Mendes"),
        ("04/12/2026 08:30", "sexta", "Dra. Carla Mendes"),
        ("10/12/2026 14:00", "quinta", "Dra. Carla Mendes"),
    ]


def test_a_slot_named_in_a_sentence_is_not_an_offer() -> None:
    taken = (
        "O horário de sexta-feira, 04/12/2026 às 08:00 com Dra. Carla Mendes acabou de ser "
        "reservado por outra pessoa.\n\n"
        "1. sexta-feira, 04/12/2026 às 08:30 — Dra. Carla Mendes (Dermatologia)"
    )
    assert [offer.starts_at for offer in offers_in(taken)] == ["04/12/2026 08:30"]
    decision = action("pode ser o primeiro", prompt(SCHEDULING, ("bot", taken)))
    assert decision.arguments["starts_at"] == "04/12/2026 08:30"


@pytest.mark.parametrize(
    ("question", "starts_at"),
    [
        ("pode ser o primeiro", "04/12/2026 08:00"),
        ("Pode marcar o primeiro horário", "04/12/2026 08:00"),
        ("o segundo, por favor", "04/12/2026 08:30"),
        ("quero o último", "10/12/2026 14:00"),
        ("quinta às 14h", "10/12/2026 14:00"),
        ("04/12 às 8:30", "04/12/2026 08:30"),
        ("14h", "10/12/2026 14:00"),
        ("Quero agendar sexta às 8h30", "04/12/2026 08:30"),
    ],
)
def test_picking_an_offered_slot_books_it(question: str, starts_at: str) -> None:
    decision = action(question, after_offer())
    assert decision.tool == "book_appointment"
    assert decision.arguments == {"professional": "Dra. Carla Mendes", "starts_at": starts_at}


def test_a_pick_that_fits_several_offered_slots_is_asked_back() -> None:
    decision = decide("pode ser na sexta", after_offer())
    assert isinstance(decision, Ambiguous)
    assert decision.options.splitlines() == [
        "1. sexta-feira, 04/12/2026 às 08:00 — Dra. Carla Mendes (Dermatologia)",
        "2. sexta-feira, 04/12/2026 às 08:30 — Dra. Carla Mendes (Dermatologia)",
    ]


def test_a_time_that_was_not_offered_is_tried_with_the_same_professional() -> None:
    decision = action("Pode ser 11/12 às 9h?", after_offer())
    assert decision.arguments == {"professional": "Dra. Carla Mendes", "starts_at": "11/12 09:00"}


@pytest.mark.parametrize(
    "question", ["tem outros horários?", "obrigada", "qual o endereço da clínica?"]
)
def test_a_message_that_picks_nothing_books_nothing(question: str) -> None:
    decision = decide(question, after_offer())
    assert not (isinstance(decision, Action) and decision.tool == "book_appointment")


def test_nothing_is_booked_without_slots_offered_in_the_previous_turn() -> None:
    assert decide("pode ser o primeiro", prompt(SCHEDULING)) is None
    assert decide("pode ser o primeiro", after_offer("appointment_slots")) is None


@pytest.mark.parametrize(
    ("question", "arguments"),
    [
        ("Quero cancelar minha consulta", {}),
        ("Preciso desmarcar a consulta de sexta às 8h", {"starts_at": "sexta 8h"}),
        ("cancela a consulta com a Dra. Carla, por favor", {"professional": "Dra. Carla"}),
    ],
)
def test_asking_to_cancel_cancels(question: str, arguments: dict[str, str]) -> None:
    decision = action(question, after_offer())
    assert (decision.tool, decision.arguments) == ("cancel_appointment", arguments)


def test_who_is_the_message_without_its_scheduling_words() -> None:
    assert who_of("Quero agendar uma consulta para amanhã de manhã com a pediatra") == "pediatra"


def test_the_prompt_gives_the_tools_the_history_and_this_run_s_steps() -> None:
    system = (
        "You ONLY have access to the following tools:\n\nTool Name: order_status\n"
        "Tool Arguments: {}\nTool Description: Status.\n\nTool Name: handoff\n"
    )
    task = (
        "Current Task: Responda.\n\nConversa até aqui:\nCliente: oi\nAtendente: Olá!\n\n"
        "Como posso ajudar?\nCliente: meu pedido\n\nMensagem do cliente:\nÉ o CC-2026-00017\n"
    )
    call = action("É o CC-2026-00017", prompt(RETAIL_SUPPORT))
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": task},
        {
            "role": "assistant",
            "content": call.text() + "\nObservation: Pedido CC-2026-00017: pago.",
        },
        {"role": "user", "content": "Analyze the tool result."},
    ]
    read = read_prompt(messages)
    assert read.tools == ("order_status", "handoff")
    assert read.history == (
        ("customer", "oi"),
        ("bot", "Olá!\n\nComo posso ajudar?"),
        ("customer", "meu pedido"),
    )
    (step,) = read.steps
    assert (step.tool, step.observation) == ("order_status", "Pedido CC-2026-00017: pago.")
    assert json.loads(step.arguments) == {"order_number": "CC-2026-00017"}


def test_a_tool_call_is_written_in_the_format_crewai_parses() -> None:
    from crewai.agents.parser import AgentAction, parse

    call = action("Qual o status do pedido CC-2026-00020?", prompt(RETAIL_SUPPORT))
    parsed = parse(call.text())
    assert isinstance(parsed, AgentAction)
    assert parsed.tool == "order_status"
    assert json.loads(parsed.tool_input) == {"order_number": "CC-2026-00020"}
