"""The offline model answers the sample businesses' facts from their own documents.

It is retrieval, not a table of answers: the questions here are worded like a
customer would, the replies are lines of the domain's knowledge documents, and a
question the documents do not answer gets the domain's `unknown` message.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import hub  # noqa: F401  (CrewAI's no-network environment, before crewai is imported)
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.knowledge.chunking import sentences, split_sentences
from hub.knowledge.lexical import LexicalIndex
from hub.offline.answers import answer
from hub.offline.model import OfflineLLM
from hub.offline.prompt import question_from_messages
from hub.turn import OrderData, ToolResult, TurnContext

SAMPLE_DOMAINS = Path(__file__).parents[3] / "domains"
BUSINESSES = ("cosmetics", "health", "retail")

MARKERS = {
    "cosmetics": ("Bela Pele", "BP-0", "Curitiba", "XV de Novembro", "BEMVINDA10"),
    "health": ("Vida Plena", "Afonso Pena", "Hapvida", "3333-4000", "SAMU", "Dra."),
    "retail": ("Casa & Cia", "CC-1", "Pinheiros", "Ibirapuera", "Black Friday"),
}
"""Words only one business's documents contain."""


@pytest.fixture(scope="module")
def domains() -> dict[str, Domain]:
    registry = DomainRegistry(SAMPLE_DOMAINS)
    return {domain_id: registry.get(domain_id) for domain_id in BUSINESSES}


@pytest.fixture(scope="module")
def indexes(domains: dict[str, Domain]) -> dict[str, LexicalIndex]:
    return {key: LexicalIndex.build(domain.knowledge_chunks()) for key, domain in domains.items()}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def reply(domains: dict[str, Domain], indexes: dict[str, LexicalIndex], key: str, q: str) -> str:
    return OfflineLLM(
        indexes[key], question=q, unknown_reply=domains[key].spec.messages.unknown
    ).reply(q)


@pytest.mark.parametrize(
    ("domain_id", "question", "facts"),
    [
        ("cosmetics", "Qual o valor mínimo para frete grátis?", ["199"]),
        ("cosmetics", "Vocês têm protetor solar para pele oleosa? Quanto custa?", ["69,90"]),
        ("cosmetics", "aceitam pix?", ["5%"]),
        ("cosmetics", "Qual o horário da loja?", ["9:00", "19:00", "14:00"]),
        ("cosmetics", "Onde fica a loja física?", ["Rua XV de Novembro, 1200"]),
        ("cosmetics", "Quanto custa o sérum de vitamina C?", ["89,90"]),
        ("cosmetics", "Tem cupom de desconto para a primeira compra?", ["BEMVINDA10", "10%"]),
        ("cosmetics", "Em quantas vezes posso parcelar no cartão?", ["6 vezes"]),
        ("cosmetics", "Vocês entregam no Rio de Janeiro?", ["3 a 5 dias úteis"]),
        ("cosmetics", "Posso devolver um perfume aberto?", ["lacrados"]),
        ("cosmetics", "A máscara de cílios está em estoque?", ["15 dias"]),
        ("health", "Vocês aceitam Hapvida?", ["Não atendemos pelo convênio Hapvida"]),
        ("health", "Quanto tempo de jejum para exame de colesterol?", ["12 horas"]),
        ("health", "Quanto tempo de jejum para o perfil lipídico?", ["12 horas"]),
        ("health", "Qual o jejum para glicose?", ["8 horas"]),
        ("health", "qual o endereço da clínica?", ["Afonso Pena, 3500"]),
        ("health", "Qual o horário de funcionamento?", ["7:00", "20:00", "12:00"]),
        ("health", "Quanto custa a consulta com cardiologista?", ["350,00"]),
        ("health", "Posso cancelar a consulta sem pagar?", ["24 horas"]),
        ("health", "Vocês têm pronto-socorro?", ["não tem pronto-socorro"]),
        ("health", "Quando atende a dermatologista?", ["sextas-feiras"]),
        ("retail", "Qual o horário de funcionamento?", ["10:00", "22:00"]),
        ("retail", "Vocês entregam no Rio de Janeiro?", ["Não fazemos entregas fora do estado"]),
        ("retail", "Vocês entregam em Campinas?", ["2 a 4 dias úteis"]),
        ("retail", "Qual o preço da air fryer?", ["349,90"]),
        ("retail", "Quanto custa a montagem do rack?", ["80,00"]),
        ("retail", "Qual o endereço da loja de Moema?", ["Avenida Ibirapuera, 2100"]),
        ("retail", "O desconto do cartão da loja vale na Black Friday?", ["não"]),
        ("retail", "Qual o prazo para troca?", ["30 dias"]),
        # two questions in one sentence, everyday words, diminutives, a told setting
        ("cosmetics", "Qual o horário da loja e onde ela fica?", ["19:00", "XV de Novembro"]),
        ("health", "Qual o endereço da clínica e até que horas abre no sábado?", ["3500", "12:00"]),
        ("cosmetics", "Tenho a pele sequinha, o que vocês indicam?", ["74,90"]),
        ("health", "O resultado do meu exame de sangue já saiu?", ["3 dias úteis"]),
        ("health", "Fiz o exame ontem, quando sai o resultado?", ["3 dias úteis"]),
        ("cosmetics", "Vocês mandam para Manaus?", ["3 a 5 dias úteis"]),
        ("cosmetics", "Comprei um sérum e quero devolver, qual o prazo?", ["7 dias"]),
        ("retail", "Comprei uma panela e quero trocar, qual o prazo?", ["30 dias"]),
        (
            "health",
            "Marquei uma consulta e preciso cancelar, até quando posso sem pagar?",
            ["24 horas"],
        ),
    ],
)
def test_the_offline_model_answers_the_sample_facts(
    domains: dict[str, Domain],
    indexes: dict[str, LexicalIndex],
    domain_id: str,
    question: str,
    facts: list[str],
) -> None:
    text = reply(domains, indexes, domain_id, question)
    assert text != domains[domain_id].spec.messages.unknown
    for fact in facts:
        assert fact in text, text


@pytest.mark.parametrize(
    "question",
    [
        "qual a capital da França?",
        "vocês vendem carros?",
        "Quem ganhou a copa do mundo?",
        "Qual o status do pedido XX-9999?",
    ],
)
@pytest.mark.parametrize("domain_id", BUSINESSES)
def test_what_the_documents_do_not_say_gets_the_unknown_reply(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex], domain_id: str, question: str
) -> None:
    unknown = domains[domain_id].spec.messages.unknown
    assert reply(domains, indexes, domain_id, question) == unknown


@pytest.mark.parametrize(
    ("domain_id", "question"),
    [
        ("cosmetics", "Vocês aceitam Hapvida?"),
        ("cosmetics", "Qual o preço da air fryer?"),
        ("health", "Qual o preço do protetor solar?"),
        ("retail", "Qual o jejum para o exame de colesterol?"),
        ("retail", "Tem cupom BEMVINDA10?"),
    ],
)
def test_another_business_s_question_gets_the_unknown_reply(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex], domain_id: str, question: str
) -> None:
    assert reply(domains, indexes, domain_id, question) == domains[domain_id].spec.messages.unknown


@pytest.mark.parametrize(
    ("domain_id", "question"),
    [
        ("cosmetics", "Comprei um carro e quero trocar, qual o prazo?"),
        ("cosmetics", "Qual o preço do batonzinho?"),
        ("cosmetics", "Vocês têm um perfuminho masculino?"),
        ("cosmetics", "Vocês mandam para Portugal?"),
        ("health", "Meu raio-x já saiu?"),
        ("health", "Pode me mandar a receita por aqui?"),
        ("health", "Vocês fazem ressonância magnética?"),
        ("retail", "Comprei uma geladeira e quero trocar, qual o prazo?"),
        ("retail", "Vocês vendem liquidificador?"),
    ],
)
def test_what_a_business_does_not_sell_or_offer_stays_unknown_however_it_is_asked(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex], domain_id: str, question: str
) -> None:
    assert reply(domains, indexes, domain_id, question) == domains[domain_id].spec.messages.unknown


def test_a_sentence_of_two_questions_answers_the_known_one_and_admits_the_other(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex]
) -> None:
    unknown = domains["health"].spec.messages.unknown
    text = reply(
        domains,
        indexes,
        "health",
        "Qual o endereço da clínica e quanto custa a consulta de raio-x?",
    )
    assert "Afonso Pena, 3500" in text
    assert text.endswith(unknown)


QUESTIONS = [
    "Qual o horário de funcionamento?",
    "Qual o endereço?",
    "Quais as formas de pagamento?",
    "Qual o prazo de entrega?",
    "Quanto custa o frete?",
    "Como faço uma troca?",
    "Tem desconto no pix?",
    "Vocês entregam no Rio de Janeiro?",
    "Qual o preço da air fryer?",
    "Vocês aceitam Hapvida?",
    "Tem protetor solar?",
]


@pytest.mark.parametrize("domain_id", BUSINESSES)
def test_an_answer_never_contains_another_business_s_facts(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex], domain_id: str
) -> None:
    others = [marker for key, words in MARKERS.items() if key != domain_id for marker in words]
    for question in QUESTIONS:
        text = reply(domains, indexes, domain_id, question)
        assert not [marker for marker in others if marker in text], (question, text)


@pytest.mark.parametrize("domain_id", BUSINESSES)
def test_every_line_of_an_answer_is_a_line_of_the_domain_s_documents(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex], domain_id: str
) -> None:
    index = indexes[domain_id]
    known = {s.text for chunk in index.chunks for s in sentences(chunk.text)}
    titles = {chunk.title for chunk in index.chunks}
    for question in QUESTIONS:
        text = reply(domains, indexes, domain_id, question)
        if text == domains[domain_id].spec.messages.unknown:
            continue
        lead, *body, closing = text.split("\n\n")
        assert lead.endswith(":") and closing.endswith("?"), text
        for line in "\n".join(body).splitlines():
            line = line.removeprefix("- ")
            title = next((t for t in titles if t and line.startswith(t + ":")), None)
            line = line.removeprefix(f"{title}:").strip() if title else line
            if not line:
                continue
            pieces = [line] if line in known else split_sentences(line)
            assert all(piece in known for piece in pieces), (question, line)


def test_replies_stay_short(domains: dict[str, Domain], indexes: dict[str, LexicalIndex]) -> None:
    for domain_id in BUSINESSES:
        for question in QUESTIONS:
            assert len(reply(domains, indexes, domain_id, question)) <= 750


def test_a_message_of_two_questions_answers_what_it_can_and_admits_the_rest(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex]
) -> None:
    unknown = domains["retail"].spec.messages.unknown
    text = reply(domains, indexes, "retail", "Qual o preço da air fryer? Vocês vendem carros?")
    assert "349,90" in text
    assert text.endswith(unknown)
    both = reply(
        domains, indexes, "retail", "Qual o preço da air fryer? Vocês entregam no Rio de Janeiro?"
    )
    assert "349,90" in both
    assert "fora do estado" in both


def test_a_greeting_gets_a_greeting_and_thanks_get_an_answer(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex]
) -> None:
    assert reply(domains, indexes, "retail", "Bom dia!").startswith("Olá")
    assert reply(domains, indexes, "retail", "Oi, tudo bem?").startswith("Olá")
    assert reply(domains, indexes, "retail", "obrigada!").startswith("Por nada")
    assert "10:00" in reply(domains, indexes, "retail", "Boa tarde! Qual o horário de vocês?")


def test_a_domain_without_knowledge_always_says_it_does_not_know() -> None:
    empty = LexicalIndex.build([])
    assert answer(empty, "Qual o horário?", unknown_reply="Não sei.") == "Não sei."


def test_the_lead_in_follows_the_domain_language(indexes: dict[str, LexicalIndex]) -> None:
    portuguese = answer(indexes["retail"], "Qual o horário?", unknown_reply="?")
    english = answer(indexes["retail"], "Qual o horário?", unknown_reply="?", language="en")
    assert portuguese.startswith("Sobre o horário")
    assert english.startswith("About our hours")
    assert "10:00" in english


def test_concurrent_questions_get_the_same_answers_as_one_at_a_time(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex]
) -> None:
    jobs = [(key, question) for key in BUSINESSES for question in QUESTIONS] * 5
    expected = [reply(domains, indexes, key, question) for key, question in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda job: reply(domains, indexes, *job), jobs))
    assert got == expected


# --- the CrewAI side -------------------------------------------------------------------------


def model(indexes: dict[str, LexicalIndex], question: str = "") -> OfflineLLM:
    return OfflineLLM(indexes["retail"], question=question, unknown_reply="Não sei.")


def test_it_is_a_text_model_with_no_function_calling(indexes: dict[str, LexicalIndex]) -> None:
    llm = model(indexes, "Qual o horário?")
    assert llm.model == "offline"
    assert llm.supports_function_calling() is False
    assert llm.supports_stop_words() is False
    assert llm.get_context_window_size() >= 100_000
    assert llm.get_input_tokens_count("x" * 400) == 100


def test_a_react_prompt_gets_a_final_answer_crewai_can_parse(
    indexes: dict[str, LexicalIndex],
) -> None:
    from crewai.agents.parser import AgentFinish, parse

    llm = model(indexes, "Qual o horário de funcionamento?")
    messages = [
        {"role": "system", "content": "Use the format:\nThought: ...\nFinal Answer: ..."},
        {"role": "user", "content": "Current Task: answer the customer"},
    ]
    raw = llm.call(messages)
    assert raw.startswith("Thought: ")
    parsed = parse(raw)
    assert isinstance(parsed, AgentFinish)
    assert parsed.output == llm.reply("Qual o horário de funcionamento?")
    assert "10:00" in str(parsed.output)


def test_a_plain_prompt_gets_the_plain_reply(indexes: dict[str, LexicalIndex]) -> None:
    llm = model(indexes, "Qual o horário de funcionamento?")
    assert llm.call("Responda ao cliente.") == llm.reply("Qual o horário de funcionamento?")


def test_without_a_question_it_reads_the_customer_message_from_the_prompt(
    indexes: dict[str, LexicalIndex],
) -> None:
    prompt = (
        "Atenda a mensagem.\n\nCliente: Maria\nLoja: Casa & Cia\n\n"
        "Mensagem da cliente:\nQual o preço da air fryer?\n\nComo responder:\n1. Seja breve."
    )
    assert question_from_messages(prompt) == "Qual o preço da air fryer?"
    short = [{"role": "user", "content": "Cliente: Onde ficam as lojas?"}]
    assert question_from_messages(short) == "Onde ficam as lojas?"
    assert question_from_messages([{"role": "user", "content": "Só o texto"}]) == "Só o texto"
    messages = [
        {"role": "system", "content": "Você é atendente."},
        {"role": "user", "content": [{"type": "text", "text": prompt}]},
    ]
    assert "349,90" in model(indexes).call(messages)


def test_each_call_records_its_token_usage(indexes: dict[str, LexicalIndex]) -> None:
    llm = model(indexes, "Qual o horário?")
    llm.call("x" * 400)
    usage = llm.get_token_usage_summary()
    assert usage.successful_requests == 1
    assert usage.prompt_tokens == 100
    assert usage.completion_tokens > 0


def test_the_async_call_gives_the_same_answer(indexes: dict[str, LexicalIndex]) -> None:
    llm = model(indexes, "Qual o horário?")
    assert asyncio.run(llm.acall("Responda.")) == llm.call("Responda.")


@pytest.fixture
def crewai_storage() -> Iterator[None]:
    from hub.crews.runtime import prepare_crewai
    from hub.settings import get_settings

    prepare_crewai(get_settings())
    yield


# CrewAI 1.15 reads its own deprecated fields while building an Agent.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.usefixtures("no_network", "crewai_storage")
@pytest.mark.parametrize("with_tools", [False, True], ids=["no-tools", "tools"])
def test_a_crewai_crew_kicks_off_with_the_offline_model_and_returns_the_grounded_answer(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex], with_tools: bool
) -> None:
    from crewai import Agent, Crew, Task
    from crewai.tools import tool

    @tool("lookup")
    def lookup(query: str) -> str:
        """Looks something up (the offline model never calls tools)."""
        raise AssertionError("the offline model called a tool")

    question = "Qual o preço da air fryer?"
    llm = OfflineLLM(
        indexes["retail"], question=question, unknown_reply=domains["retail"].spec.messages.unknown
    )
    agent = Agent(
        role="Atendente da Casa & Cia",
        goal="Responder clientes com os fatos da loja",
        backstory="Você conhece a loja.",
        llm=llm,
        tools=[lookup] if with_tools else [],
        max_iter=2,
    )
    task = Task(
        description=f"Responda a mensagem do cliente.\n\nMensagem do cliente:\n{question}",
        expected_output="Uma resposta curta em português.",
        agent=agent,
    )
    output = Crew(agents=[agent], tasks=[task]).kickoff()
    assert output.raw == llm.reply(question)
    assert "349,90" in output.raw
    assert "Final Answer" not in output.raw
    assert output.token_usage.successful_requests >= 1


def test_after_a_tool_ran_it_answers_from_the_result_the_tool_left_on_the_turn_s_context(
    indexes: dict[str, LexicalIndex],
) -> None:
    from crewai.agents.parser import AgentFinish, parse

    question = "Qual o status do pedido CC-2026-00020?"
    text = "Pedido CC-2026-00020: cancelado. Cancelado a pedido do cliente."
    context = TurnContext(domain_id="retail")
    order = OrderData("CC-2026-00020", found=True, status="cancelado", note="Cancelado a pedido.")
    context.returned(ToolResult("order_status", order, text))
    messages = [
        {"role": "system", "content": "Tool Name: order_status\nThought: ...\nFinal Answer: ..."},
        {"role": "user", "content": f"Mensagem do cliente:\n{question}"},
        {
            "role": "assistant",
            "content": "Thought: I look the order up.\nAction: order_status\n"
            f'Action Input: {{"order_number": "CC-2026-00020"}}\nObservation: {text}',
        },
    ]
    told = OfflineLLM(indexes["retail"], question=question, unknown_reply="?", context=context)
    answered = parse(told.call(messages))
    assert isinstance(answered, AgentFinish)
    assert str(answered.output).startswith(text)
    assert str(answered.output).endswith("Posso ajudar em mais alguma coisa?")
    blind = OfflineLLM(indexes["retail"], question=question, unknown_reply="?")
    unread = parse(blind.call(messages))  # the same observation, but no result to answer from
    assert isinstance(unread, AgentFinish) and unread.output == blind.reply(question) == "?"


def translated(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex], key: str
) -> OfflineLLM:
    """The model as `build_llm` makes it: the unknown message's translations and aliases too."""
    spec = domains[key].spec
    return OfflineLLM(
        indexes[key],
        unknown_reply=spec.messages.unknown,
        unknown_replies=spec.messages.unknown.translations,
        language=spec.language,
        aliases=spec.knowledge.aliases,
    )


@pytest.mark.parametrize(
    ("domain_id", "question", "facts", "framing"),
    [
        ("cosmetics", "Is shipping free?", ["199,00"], "Can I help with anything else?"),
        ("cosmetics", "Where is your store located?", ["XV de Novembro"], "About the address:"),
        ("health", "I need a pediatrician for my son", ["Daniela Rocha"], "Can I help"),
        ("retail", "How long is the warranty on electrical products?", ["12 meses"], "Can I"),
        ("retail", "¿El envío es gratis?", ["299,00"], "¿Puedo ayudarte con algo más?"),
    ],
)
def test_a_question_in_english_or_spanish_is_answered_in_it_from_portuguese_documents(
    domains: dict[str, Domain],
    indexes: dict[str, LexicalIndex],
    domain_id: str,
    question: str,
    facts: list[str],
    framing: str,
) -> None:
    answer = translated(domains, indexes, domain_id).reply(question)
    assert all(fact in answer for fact in facts), answer
    assert framing in answer, answer


def test_what_the_documents_do_not_say_is_admitted_in_the_customer_s_language(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex]
) -> None:
    model = translated(domains, indexes, "health")
    unknown = domains["health"].spec.messages.unknown
    assert model.reply("Is there parking for bicycles?") == unknown.in_language("en")
    assert model.reply("¿Tienen estacionamiento para bicicletas?") == unknown.in_language("es")
    assert model.reply("Tem estacionamento para bicicletas?") == unknown


@pytest.mark.parametrize(
    ("domain_id", "question", "facts"),
    [
        ("cosmetics", "Com quanto de compra o frete sai de graça?", ["199,00"]),
        ("cosmetics", "posso parcelar em 10x?", ["6 vezes"]),
        ("cosmetics", "vcs tem rímel?", ["Máscara de Cílios"]),
        ("retail", "dá pra parcelar em 10x no cartão?", ["10 vezes"]),
        ("health", "a consulta com clínico geral sai quanto?", ["250,00"]),
    ],
)
def test_colloquial_portuguese_finds_what_the_documents_say_formally(
    domains: dict[str, Domain],
    indexes: dict[str, LexicalIndex],
    domain_id: str,
    question: str,
    facts: list[str],
) -> None:
    answer = translated(domains, indexes, domain_id).reply(question)
    assert all(fact in answer for fact in facts), answer


def test_a_message_with_no_language_is_answered_in_the_conversation_s_language(
    domains: dict[str, Domain], indexes: dict[str, LexicalIndex]
) -> None:
    model = translated(domains, indexes, "cosmetics")
    assert model.reply_language("ok", (("customer", "Is shipping free?"), ("bot", "…"))) == "en"
    assert model.reply_language("ok", ()) == "pt"
    assert model.reply_language("hola", (("customer", "Is shipping free?"),)) == "es"
