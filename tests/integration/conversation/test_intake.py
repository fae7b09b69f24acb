"""A message's arrival in real Redis: takeover, dedupe and the domain record at once."""

from __future__ import annotations

import pytest
import redis

from hub.conversation.dedupe import Deduplicator
from hub.conversation.intake import Intake
from hub.conversation.takeover import Takeover

pytestmark = pytest.mark.integration

RECORD = "chatwootai:conversation:1:9"
MESSAGE = Deduplicator.message_key(1, 100)
DELIVERY = Deduplicator.delivery_key("d-1")


def arrive(intake: Intake, *keys: str, status: str = "pending") -> object:
    return intake.arrive(1, 9, status=status, dedupe_keys=list(keys), domain_record=RECORD)


def test_a_new_message_claims_its_keys_and_reads_the_domain_record(
    redis_client: redis.Redis,
) -> None:
    redis_client.hset(RECORD, mapping={"domain": "retail", "source": "mapped"})
    arrival = arrive(Intake(redis_client), MESSAGE, DELIVERY)
    assert (arrival.kind, arrival.stored) == ("new", {"domain": "retail", "source": "mapped"})
    assert redis_client.get(MESSAGE) == "1" and redis_client.get(DELIVERY) == "1"
    assert 0 < redis_client.ttl(MESSAGE) <= 24 * 3600


def test_a_conversation_never_seen_has_an_empty_record(redis_client: redis.Redis) -> None:
    arrival = arrive(Intake(redis_client), MESSAGE)
    assert (arrival.kind, arrival.stored) == ("new", {})


def test_a_second_delivery_is_a_duplicate_and_claims_nothing_new(
    redis_client: redis.Redis,
) -> None:
    intake = Intake(redis_client)
    assert arrive(intake, MESSAGE).kind == "new"
    fresh_delivery = Deduplicator.delivery_key("d-2")
    # The delivery id is new, the message is not: all or nothing, so no key is left set.
    assert arrive(intake, fresh_delivery, MESSAGE).kind == "duplicate"
    assert redis_client.get(fresh_delivery) is None


def test_a_conversation_a_human_took_over_is_left_alone_and_nothing_is_claimed(
    redis_client: redis.Redis,
) -> None:
    Takeover(redis_client).mark(1, 9, "um agente respondeu")
    assert arrive(Intake(redis_client), MESSAGE).kind == "taken_over"
    assert redis_client.get(MESSAGE) is None


def test_a_conversation_given_back_to_the_bot_is_answered_again(
    redis_client: redis.Redis,
) -> None:
    takeover, intake = Takeover(redis_client), Intake(redis_client)
    takeover.mark(1, 9, "um agente respondeu")
    # Seen open while the human had it, then pending again: Chatwoot gave it back.
    assert arrive(intake, MESSAGE, status="open").kind == "taken_over"
    assert arrive(intake, MESSAGE, status="pending").kind == "new"
    assert not takeover.active(1, 9)


def test_a_message_is_claimed_once_and_its_keys_expire(redis_client: redis.Redis) -> None:
    intake = Intake(redis_client)
    assert arrive(intake, MESSAGE, DELIVERY).kind == "new"
    assert arrive(intake, MESSAGE, DELIVERY).kind == "duplicate"
    assert arrive(intake, MESSAGE).kind == "duplicate"
    assert redis_client.ttl(MESSAGE) > 0 and redis_client.ttl(DELIVERY) > 0


def test_the_same_message_id_in_another_account_is_a_different_message(
    redis_client: redis.Redis,
) -> None:
    intake = Intake(redis_client)
    assert arrive(intake, Deduplicator.message_key(1, 100)).kind == "new"
    assert arrive(intake, Deduplicator.message_key(2, 100)).kind == "new"


def test_a_redelivery_with_a_new_message_id_but_the_same_delivery_id_is_a_duplicate(
    redis_client: redis.Redis,
) -> None:
    intake = Intake(redis_client)
    assert arrive(intake, Deduplicator.message_key(1, 1), DELIVERY).kind == "new"
    fresh = Deduplicator.message_key(1, 2)
    assert arrive(intake, fresh, DELIVERY).kind == "duplicate"
    assert not redis_client.exists(fresh), "a failed claim leaves no partial trace"


def test_a_released_claim_can_be_claimed_again(redis_client: redis.Redis) -> None:
    intake = Intake(redis_client)
    assert arrive(intake, MESSAGE).kind == "new"
    Deduplicator(redis_client).release([MESSAGE])
    assert arrive(intake, MESSAGE).kind == "new"
