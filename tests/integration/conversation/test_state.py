"""Conversation state in real Redis: dedupe claims, takeover marks, reply records."""

from __future__ import annotations

import time

import pytest
import redis

from hub.conversation import replies
from hub.conversation.deadletter import DeadLetters
from hub.conversation.dedupe import Deduplicator
from hub.conversation.replies import Draft, ReplyLedger
from hub.conversation.takeover import Takeover

pytestmark = pytest.mark.integration


def test_a_message_is_claimed_once(redis_client: redis.Redis) -> None:
    dedupe = Deduplicator(redis_client)
    keys = [Deduplicator.message_key(1, 100), Deduplicator.delivery_key("d-1")]
    assert dedupe.claim(keys) is True
    assert dedupe.claim(keys) is False
    assert dedupe.claim([Deduplicator.message_key(1, 100)]) is False
    assert redis_client.ttl(keys[0]) > 0


def test_the_same_message_id_in_another_account_is_a_different_message(
    redis_client: redis.Redis,
) -> None:
    dedupe = Deduplicator(redis_client)
    assert dedupe.claim([Deduplicator.message_key(1, 100)])
    assert dedupe.claim([Deduplicator.message_key(2, 100)])


def test_a_redelivery_with_a_new_message_id_but_same_delivery_id_is_a_duplicate(
    redis_client: redis.Redis,
) -> None:
    dedupe = Deduplicator(redis_client)
    assert dedupe.claim([Deduplicator.message_key(1, 1), Deduplicator.delivery_key("x")])
    fresh = Deduplicator.message_key(1, 2)
    assert not dedupe.claim([fresh, Deduplicator.delivery_key("x")])
    assert not redis_client.exists(fresh), "a failed claim leaves no partial trace"


def test_a_released_claim_can_be_claimed_again(redis_client: redis.Redis) -> None:
    dedupe = Deduplicator(redis_client)
    keys = [Deduplicator.message_key(1, 5)]
    assert dedupe.claim(keys)
    dedupe.release(keys)
    assert dedupe.claim(keys)


def test_a_takeover_mark_lasts_until_cleared(redis_client: redis.Redis) -> None:
    takeover = Takeover(redis_client, ttl_seconds=60)
    assert not takeover.active(1, 9)
    takeover.mark(1, 9, "agent replied")
    assert takeover.active(1, 9)
    assert not takeover.active(2, 9)
    assert takeover.clear(1, 9)
    assert not takeover.active(1, 9)


def test_a_reply_is_claimed_posted_and_never_claimed_again(redis_client: redis.Redis) -> None:
    ledger = ReplyLedger(redis_client)
    assert ledger.claim(1, 7) == "claimed"
    assert ledger.claim(1, 7) == "in_progress"
    ledger.confirm(1, 7)
    assert ledger.state(1, 7) == (True, None)
    assert ledger.claim(1, 7) == "posted"


def test_a_failed_post_releases_the_claim_for_the_retry(redis_client: redis.Redis) -> None:
    ledger = ReplyLedger(redis_client)
    assert ledger.claim(1, 8) == "claimed"
    ledger.release(1, 8)
    assert ledger.claim(1, 8) == "claimed"


def test_a_stale_posting_claim_of_a_dead_worker_is_taken_over(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ReplyLedger(redis_client)
    old = time.time() - replies.STALE_POSTING_SECONDS - 5
    redis_client.set(ReplyLedger.key(1, 9), f"posting:{old}")
    assert ledger.claim(1, 9) == "claimed"


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
