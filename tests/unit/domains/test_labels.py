"""Prompt labels: the shipped domains' tasks use those the offline model reads, and a task
written otherwise is named, with what would be read."""

from __future__ import annotations

import pytest

from hub.domains.labels import problems
from hub.domains.registry import DomainRegistry
from hub.domains.vocabulary import HISTORY_LABEL, HISTORY_LABELS, MESSAGE_LABEL, MESSAGE_LABELS
from tests.conftest import ROOT, SAMPLE_DOMAINS

WELL_PLACED = "Conversa até aqui:\n{history}\n\nMensagem do cliente:\n{message}\n\nResponda."


def test_every_shipped_domain_s_tasks_use_labels_the_offline_model_reads() -> None:
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    assert registry.problems == {}
    warnings = {key: [w.render() for w in d.warnings] for key, d in registry.domains.items()}
    assert warnings == {key: [] for key in registry.domains}


@pytest.mark.parametrize("label", MESSAGE_LABELS)
def test_every_documented_message_label_is_read_on_the_line_of_the_message_or_above_it(
    label: str,
) -> None:
    for spelling in (label, label.upper(), label.lower(), f"  {label}"):
        assert MESSAGE_LABEL.match(spelling)
        assert list(problems(f"{spelling} {{message}}")) == []
        assert list(problems(f"{spelling}\n\n{{message}}")) == []


@pytest.mark.parametrize("label", HISTORY_LABELS)
def test_every_documented_history_label_is_read_above_the_history(label: str) -> None:
    unaccented = label.replace("é", "e").replace("ó", "o")
    for spelling in (label, label.upper(), unaccented):
        assert HISTORY_LABEL.match(f"{spelling}\n")
        text = f"{spelling}\n{{history}}\n\nMensagem do cliente:\n{{message}}"
        assert list(problems(text)) == []


def test_the_domain_format_documents_every_label() -> None:
    documented = (ROOT / "docs" / "domains.md").read_text(encoding="utf-8")
    for label in (*MESSAGE_LABELS, *HISTORY_LABELS):
        assert f"`{label}`" in documented, label


@pytest.mark.parametrize(
    ("text", "line", "complaint"),
    [
        ("Pergunta: {message}", 0, "reads the customer's message after a label"),
        ("Mensagem:\n{message}", 1, "reads the customer's message after a label"),
        ("Mensagem do cliente: oi\n{message}", 1, "reads the customer's message after a label"),
        (
            "Conversa até aqui: {history}\n\nMensagem do cliente:\n{message}",
            0,
            "reads the history on the lines under a label",
        ),
        (
            "Conversa:\n{history}\n\nMensagem do cliente:\n{message}",
            1,
            "reads the history on the lines under a label",
        ),
        (
            "Mensagem do cliente:\n{message}\n\nConversa até aqui:\n{history}",
            4,
            "reads the history up to the message label",
        ),
    ],
)
def test_a_label_the_offline_model_would_not_find_is_named_with_its_line(
    text: str, line: int, complaint: str
) -> None:
    (found,) = problems(text)
    assert found[0] == line
    assert complaint in found[1]
    assert found[2]  # what would be read instead


def test_a_well_placed_message_and_history_raise_nothing() -> None:
    assert list(problems(WELL_PLACED)) == []
    assert list(problems("Sem placeholders aqui.")) == []
