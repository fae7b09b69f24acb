"""Conversation state in real Redis: takeover marks, drafts, handoff steps, dead letters.

The dedupe claim is tested with the receiver's arrival script (`test_intake`), the reply
claim with the worker's gate (`test_gate`)."""

from __future__ import annotations

import pytest
import redis

from hub.conversation.deadletter import DeadLetters
from hub.conversation.replies import ReplyLedger
from hub.conversation.takeover import Takeover
from hub.turn import Draft

pytestmark = pytest.mark.integration


def test_a_takeover_mark_lasts_until_cleared(redis_client: redis.Redis) -> None:
    takeover = Takeover(redis_client, ttl_seconds=60)
    assert not takeover.active(1, 9)
    takeover.mark(1, 9, "agent replied")
    assert takeover.active(1, 9)
    assert not takeover.active(2, 9)
    assert takeover.clear(1, 9)
    assert not takeover.active(1, 9)


def test_a_draft_survives_for_the_retry(redis_client: redis.Redis) -> None:
    ledger = ReplyLedger(redis_client)
    assert ledger.state(1, 10) == (False, None)
    ledger.save_draft(1, 10, Draft("Olá! Abrimos às 10:00."))
    assert ledger.state(1, 10) == (False, Draft("Olá! Abrimos às 10:00."))
    ledger.save_draft(1, 11, Draft("Já chamo alguém.", handoff_reason="pediu atendente"))
    assert ledger.state(1, 11)[1] == Draft("Já chamo alguém.", handoff_reason="pediu atendente")


def test_steps_of_a_handoff_are_remembered(redis_client: redis.Redis) -> None:
    ledger = ReplyLedger(redis_client)
    assert not ledger.step_done(1, 12, "note")
    ledger.mark_step(1, 12, "note")
    assert ledger.step_done(1, 12, "note")
    assert not ledger.step_done(1, 12, "open")


def test_dead_letters_keep_the_reason_and_are_capped(redis_client: redis.Redis) -> None:
    letters = DeadLetters(redis_client, limit=2)
    for index in range(3):
        letters.add({"message_id": index}, reason="chatwoot_api", error="HTTP 503")
    kept = letters.all()
    assert [entry["message"]["message_id"] for entry in kept] == [1, 2]
    assert kept[0]["reason"] == "chatwoot_api"


def test_a_taken_over_conversation_seen_open_then_pending_is_given_back(
    redis_client: redis.Redis,
) -> None:
    takeover = Takeover(redis_client, ttl_seconds=60)
    takeover.mark(1, 9, "agent replied")
    assert takeover.observe(1, 9, "pending") is True  # still the human's: never left pending
    assert takeover.observe(1, 9, "open") is True
    assert takeover.observe(1, 9, "pending") is False
    assert not takeover.active(1, 9)


def test_observing_a_conversation_without_a_takeover_changes_nothing(
    redis_client: redis.Redis,
) -> None:
    takeover = Takeover(redis_client, ttl_seconds=60)
    assert takeover.observe(1, 10, "open") is False
    assert not takeover.active(1, 10)
