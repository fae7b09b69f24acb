"""The turn gate in real Redis: opening a conversation and the checks before a post."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from hub.conversation import replies
from hub.conversation.gate import TurnGate
from hub.conversation.inbound import InboundMessage
from hub.conversation.lock import ConversationLocks
from hub.conversation.mailbox import Mailbox
from hub.conversation.misses import Misses
from hub.conversation.replies import ReplyLedger
from hub.conversation.takeover import Takeover
from hub.turn import Draft

pytestmark = pytest.mark.integration


def message(message_id: int, text: str = "Qual o horário?") -> InboundMessage:
    return InboundMessage(
        domain="retail",
        account_id=1,
        conversation_id=7,
        message_id=message_id,
        text=text,
        received_at=time.time(),
    )


@pytest.fixture
def locks(redis_client: redis.Redis) -> Iterator[ConversationLocks]:
    locks = ConversationLocks(redis_client)
    yield locks
    locks.stop()


@pytest.fixture
def gate(redis_client: redis.Redis, locks: ConversationLocks) -> TurnGate:
    return TurnGate(redis_client, locks)


def test_opening_takes_the_lock_and_reads_the_mailbox_the_mark_and_the_draft(
    gate: TurnGate, locks: ConversationLocks, redis_client: redis.Redis
) -> None:
    mailbox = Mailbox(redis_client)
    first, second = message(1, "oi"), message(2, "o preço do kit")
    mailbox.push(first)
    mailbox.push(second)
    ReplyLedger(redis_client).save_draft(1, 2, Draft("Já chamo alguém.", handoff_reason="x"))
    Takeover(redis_client).mark(1, 7, "um agente respondeu")

    opening = gate.open(second)

    assert opening.lock is not None and opening.lock.held
    assert locks.holder(1, 7) == opening.lock.token
    assert opening.pending == (first, second)
    assert opening.taken_over
    assert opening.draft == Draft("Já chamo alguém.", handoff_reason="x")
    assert not opening.posted
    opening.lock.release()


def test_opening_an_answered_message_takes_no_lock(
    gate: TurnGate, locks: ConversationLocks, redis_client: redis.Redis
) -> None:
    redis_client.set(ReplyLedger.key(1, 3), "posted")  # an earlier delivery's turn
    opening = gate.open(message(3))
    assert opening.posted and opening.lock is None
    assert locks.holder(1, 7) is None


def test_opening_a_conversation_another_worker_holds_leaves_it_alone(
    gate: TurnGate, locks: ConversationLocks
) -> None:
    other = locks.acquire(1, 7)
    assert other is not None
    opening = gate.open(message(4))
    assert opening.lock is None and not opening.posted and opening.pending == ()
    assert locks.holder(1, 7) == other.token
    other.release()


def test_an_empty_conversation_opens_with_nothing_pending_and_no_mark(gate: TurnGate) -> None:
    opening = gate.open(message(5))
    assert opening.lock is not None
    assert (opening.pending, opening.taken_over, opening.draft) == ((), False, None)
    opening.lock.release()


def test_the_gate_claims_the_reply_when_nothing_changed(
    gate: TurnGate, redis_client: redis.Redis
) -> None:
    opening = gate.open(message(6))
    assert opening.lock is not None
    assert gate.before_post(opening.lock, message(6), fold_above=1) == "claimed"
    assert str(redis_client.get(ReplyLedger.key(1, 6))).startswith("posting:")
    assert gate.before_post(opening.lock, message(6), fold_above=None) == "in_progress"
    redis_client.set(ReplyLedger.key(1, 6), "posted")  # that post went through
    assert gate.before_post(opening.lock, message(6), fold_above=None) == "posted"
    opening.lock.release()


def test_a_newer_message_sends_the_turn_back_and_claims_nothing(
    gate: TurnGate, redis_client: redis.Redis
) -> None:
    mailbox = Mailbox(redis_client)
    first = message(10)
    mailbox.push(first)
    opening = gate.open(first)
    assert opening.lock is not None
    mailbox.push(message(11, "Ah, e no domingo?"))
    assert gate.before_post(opening.lock, first, fold_above=1) == "newer"
    assert redis_client.get(ReplyLedger.key(1, 10)) is None
    # A turn that may not fold again (or a full burst) goes ahead all the same.
    assert gate.before_post(opening.lock, first, fold_above=None) == "claimed"
    opening.lock.release()


def test_a_human_who_took_over_while_the_crew_ran_stops_the_post_without_a_claim(
    gate: TurnGate, redis_client: redis.Redis
) -> None:
    opening = gate.open(message(12))
    assert opening.lock is not None and not opening.taken_over
    Takeover(redis_client).mark(1, 7, "um agente respondeu")
    assert gate.before_post(opening.lock, message(12), fold_above=None) == "taken_over"
    assert redis_client.get(ReplyLedger.key(1, 12)) is None
    opening.lock.release()


def test_a_lost_lock_stops_the_post_and_is_remembered(
    gate: TurnGate, locks: ConversationLocks, redis_client: redis.Redis
) -> None:
    opening = gate.open(message(13))
    assert opening.lock is not None
    redis_client.set(ConversationLocks.key(1, 7), "another-worker")
    assert gate.before_post(opening.lock, message(13), fold_above=None) == "lost"
    assert opening.lock.lost and not opening.lock.held
    assert redis_client.get(ReplyLedger.key(1, 13)) is None
    assert gate.before_post(opening.lock, message(13), fold_above=None) == "lost"


def test_a_stale_claim_of_a_dead_worker_is_taken_over_once(
    gate: TurnGate, redis_client: redis.Redis
) -> None:
    old = time.time() - replies.STALE_POSTING_SECONDS - 5
    redis_client.set(ReplyLedger.key(1, 14), f"posting:{old}")
    opening = gate.open(message(14))
    assert opening.lock is not None
    assert gate.before_post(opening.lock, message(14), fold_above=None) == "claimed"
    assert gate.before_post(opening.lock, message(14), fold_above=None) == "in_progress"
    opening.lock.release()


def test_a_record_that_is_neither_posted_nor_posting_is_claimed(
    gate: TurnGate, redis_client: redis.Redis
) -> None:
    redis_client.set(ReplyLedger.key(1, 15), "garbage")
    opening = gate.open(message(15))
    assert opening.lock is not None
    assert gate.before_post(opening.lock, message(15), fold_above=None) == "claimed"
    assert redis_client.ttl(ReplyLedger.key(1, 15)) > 0
    opening.lock.release()


def test_a_failed_post_releases_the_claim_for_the_retry(
    gate: TurnGate, redis_client: redis.Redis
) -> None:
    opening = gate.open(message(16))
    assert opening.lock is not None
    assert gate.before_post(opening.lock, message(16), fold_above=None) == "claimed"
    ReplyLedger(redis_client).release(1, 16)
    assert gate.before_post(opening.lock, message(16), fold_above=None) == "claimed"
    opening.lock.release()


def test_closing_a_burst_confirms_it_drops_it_and_releases_an_emptied_conversation(
    gate: TurnGate, locks: ConversationLocks, redis_client: redis.Redis
) -> None:
    mailbox = Mailbox(redis_client)
    burst = [message(20, "oi"), message(21, "o preço do kit")]
    for item in burst:
        mailbox.push(item)
    redis_client.set(Misses.key(1, 7), 2)
    opening = gate.open(burst[-1])
    assert opening.lock is not None

    released = gate.close(opening.lock, burst, trim=2, forget=[Misses.key(1, 7)])

    assert released and opening.lock.released and not opening.lock.lost
    assert locks.holder(1, 7) is None
    assert mailbox.pending(1, 7) == []
    ledger = ReplyLedger(redis_client)
    assert ledger.state(1, 20)[0] and ledger.state(1, 21)[0]
    assert redis_client.ttl(ReplyLedger.key(1, 20)) > 0
    assert not redis_client.exists(Misses.key(1, 7))


def test_closing_keeps_the_lock_while_newer_messages_wait(
    gate: TurnGate, locks: ConversationLocks, redis_client: redis.Redis
) -> None:
    mailbox = Mailbox(redis_client)
    first, newer = message(22, "oi"), message(23, "ainda aí?")
    mailbox.push(first)
    mailbox.push(newer)
    opening = gate.open(first)
    assert opening.lock is not None

    assert not gate.close(opening.lock, [first], trim=1)

    assert opening.lock.held and locks.holder(1, 7) == opening.lock.token
    assert mailbox.pending(1, 7) == [newer]
    assert ReplyLedger(redis_client).state(1, 22)[0]
    assert not ReplyLedger(redis_client).state(1, 23)[0]
    opening.lock.release()


def test_closing_after_the_lock_was_lost_still_confirms_what_was_posted(
    gate: TurnGate, locks: ConversationLocks, redis_client: redis.Redis
) -> None:
    posted = message(24)
    opening = gate.open(posted)
    assert opening.lock is not None
    redis_client.set(ConversationLocks.key(1, 7), "another-worker")

    assert gate.close(opening.lock, [posted], trim=0)

    assert opening.lock.lost
    assert locks.holder(1, 7) == "another-worker"  # the new holder's, untouched
    assert ReplyLedger(redis_client).state(1, 24)[0]
