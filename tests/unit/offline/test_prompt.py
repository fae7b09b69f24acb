"""Reading CrewAI's prompt: the message and the history the hub writes, found by their labels.

The labels are part of the domain format (`hub.domains.vocabulary`, docs/domains.md);
these tests fill every shipped task the way a turn does (`HubCrew.inputs`) and read it
back the way the offline model does.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from hub.crews.hub_crew import HubCrew
from hub.crews.kit import DomainKit
from hub.crews.router import Router
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.domains.vocabulary import placeholders_in
from hub.knowledge.base import DomainKnowledge
from hub.knowledge.lexical import LexicalIndex
from hub.offline.prompt import history_in, question_from_messages, read_prompt
from hub.settings import Settings
from hub.turn import Turn
from tests.conftest import SAMPLE_DOMAINS

HISTORY = (
    ("customer", "Quero marcar consulta com a dermatologista"),
    (
        "bot",
        "Estes são os próximos horários livres:\n"
        "1. sexta-feira, 04/12/2026 às 08:00 — Dra. Carla Mendes (Dermatologia)\n\n"
        "Qual desses horários fica melhor para você?",
    ),
)
TURN = Turn(message="Pode ser o primeiro", history=HISTORY, customer_name="Maria Silva")


def shipped_tasks() -> list[tuple[str, str, str]]:
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    return [
        (domain_id, crew_name, task_name)
        for domain_id, domain in sorted(registry.domains.items())
        for crew_name, crew in domain.spec.crews.items()
        for task_name, task in crew.tasks.items()
        if "message" in set(placeholders_in(task.description))
    ]


def filled(domain: Domain, crew: str, task: str, turn: Turn) -> str:
    """The task's text as CrewAI sends it, with the placeholders a turn fills."""
    kit = DomainKit(
        domain=domain,
        router=Router(domain.spec.routing),
        knowledge=LexicalIndex.build([]),
        library=DomainKnowledge.unavailable(domain.id, []),
    )
    hub = HubCrew(cast(Any, None), kit, cast(Any, None), Settings())  # inputs needs neither
    text = domain.spec.crews[crew].tasks[task].description
    for name, value in hub.inputs(turn).items():
        text = text.replace(f"{{{name}}}", value)
    return text


@pytest.mark.parametrize(("domain_id", "crew", "task"), shipped_tasks())
def test_every_shipped_task_gives_the_offline_model_the_message_and_the_history(
    domain_id: str, crew: str, task: str
) -> None:
    domain = DomainRegistry(SAMPLE_DOMAINS).get(domain_id)
    text = filled(domain, crew, task, TURN)
    messages = [
        {"role": "system", "content": "Você é atendente."},
        {"role": "user", "content": text},
    ]
    assert question_from_messages(messages) == TURN.message
    assert read_prompt(messages).history == HISTORY
    assert read_prompt(messages).last_bot_message == HISTORY[-1][1]
    first = filled(domain, crew, task, Turn(message="Oi"))
    assert read_prompt([{"role": "user", "content": first}]).history == ()


def test_the_history_ends_at_the_message_label_and_entries_may_span_lines() -> None:
    text = (
        "Conversa até aqui:\nCliente: oi\nAtendente: Olá!\n\nComo posso ajudar?\n"
        "Customer: and in English\nAgent: fine\n\nMensagem do cliente:\nAtendente: não é histórico"
    )
    assert history_in(text) == (
        ("customer", "oi"),
        ("bot", "Olá!\n\nComo posso ajudar?"),
        ("customer", "and in English"),
        ("bot", "fine"),
    )


def test_a_history_not_under_its_label_is_not_read() -> None:
    assert history_in("Conversa até aqui: Cliente: oi\nMensagem do cliente:\nx") == ()
    assert history_in("Cliente: oi\nAtendente: olá") == ()
