"""The late-reply rule: a reply held back past the domain's age apologizes or hands off."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.conversation.lateness import is_late, late_draft
from hub.domains.schema import ConversationSettings
from hub.turn import Draft

ANSWER = Draft(text="Abrimos às 10:00.")


def test_a_reply_on_time_is_posted_as_composed() -> None:
    assert late_draft(ANSWER, 599, ConversationSettings()) is ANSWER


def test_a_reply_twenty_minutes_late_opens_with_the_apology_then_the_answer() -> None:
    late = late_draft(ANSWER, 20 * 60, ConversationSettings())
    assert late.text == "Desculpe a demora para responder.\n\nAbrimos às 10:00."
    assert not late.hands_off


def test_a_domain_may_hand_late_replies_to_a_person() -> None:
    settings = ConversationSettings(late_reply="handoff", late_reply_seconds=300)
    late = late_draft(ANSWER, 20 * 60, settings)
    assert late.text.startswith("Desculpe a demora") and late.text.endswith("Abrimos às 10:00.")
    assert late.hands_off and late.kind == "late"
    assert late.handoff_reason is not None and "20 min" in late.handoff_reason


def test_a_late_handoff_keeps_its_own_reason() -> None:
    handoff = Draft(text="Vou chamar uma pessoa.", handoff_reason="pediu", kind="customer_asked")
    late = late_draft(handoff, 3600, ConversationSettings(late_reply="handoff"))
    assert late.handoff_reason == "pediu" and late.kind == "customer_asked"
    assert late.text.startswith("Desculpe a demora")


def test_the_apology_is_added_once_whatever_the_retries() -> None:
    settings = ConversationSettings(late_reply_apology="Perdão pela espera!")
    once = late_draft(ANSWER, 3600, settings)
    assert late_draft(once, 7200, settings) is once
    assert once.text.count("Perdão pela espera!") == 1


def test_zero_means_a_reply_is_never_late() -> None:
    settings = ConversationSettings(late_reply_seconds=0)
    assert not is_late(10**6, settings)
    assert late_draft(ANSWER, 10**6, settings) is ANSWER


@pytest.mark.parametrize(
    "bad",
    [{"late_reply": "ignore"}, {"late_reply_seconds": -1}, {"late_reply_apology": ""}],
)
def test_bad_late_reply_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ConversationSettings(**bad)  # type: ignore[arg-type]
