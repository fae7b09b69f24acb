"""The conversation lock and mailbox in real Redis: one holder, atomic hand-back, expiry."""

from __future__ import annotations

import time

import pytest
import redis

from hub.conversation.inbound import InboundMessage
from hub.conversation.lock import ConversationLocks
from hub.conversation.mailbox import Mailbox

pytestmark = pytest.mark.integration


def message(message_id: int, conversation_id: int = 7) -> InboundMessage:
    return InboundMessage(
        domain="retail",
        account_id=3,
        conversation_id=conversation_id,
        message_id=message_id,
        text=f"mensagem {message_id}",
        received_at=time.time(),
    )


def test_only_one_worker_holds_a_conversation_and_others_are_independent(
    redis_client: redis.Redis,
) -> None:
    locks = ConversationLocks(redis_client)
    first = locks.acquire(3, 7)
    assert first is not None
    assert locks.acquire(3, 7) is None
    assert locks.acquire(3, 8) is not None  # another conversation runs in parallel
    assert locks.acquire(4, 7) is not None  # the same id in another account too
    first.release()
    assert locks.acquire(3, 7) is not None


def test_the_holder_keeps_the_lock_while_messages_wait_in_the_mailbox(
    redis_client: redis.Redis,
) -> None:
    locks, mailbox = ConversationLocks(redis_client), Mailbox(redis_client)
    lock = locks.acquire(3, 7)
    assert lock is not None
    mailbox.push(message(1))
    assert lock.release_if_drained(mailbox.key(3, 7)) is False
    assert locks.holder(3, 7) == lock.token
    mailbox.remove(3, 7, 1)
    assert lock.release_if_drained(mailbox.key(3, 7)) is True
    assert locks.holder(3, 7) is None


def test_a_dead_holder_s_lock_expires_and_a_live_one_is_renewed(
    redis_client: redis.Redis,
) -> None:
    dead = ConversationLocks(redis_client, ttl_seconds=0.3)
    assert dead.acquire(3, 7) is not None
    dead.stop()  # a frozen or killed process renews nothing
    live = ConversationLocks(redis_client, ttl_seconds=0.3)
    kept = live.acquire(3, 8)
    assert kept is not None
    time.sleep(0.8)
    assert dead.holder(3, 7) is None  # expired: another worker may take the conversation
    assert kept.held  # renewed by its process's keeper thread past twice its TTL
    live.stop()


def test_a_holder_whose_lock_was_taken_over_knows_it_before_posting(
    redis_client: redis.Redis,
) -> None:
    locks = ConversationLocks(redis_client, ttl_seconds=0.2)
    locks.stop()
    lock = locks.acquire(3, 7)
    assert lock is not None
    time.sleep(0.3)
    successor = ConversationLocks(redis_client).acquire(3, 7)
    assert successor is not None
    assert lock.held is False
    lock.release()  # releasing a lost lock leaves the successor's alone
    assert successor.held


def test_the_mailbox_keeps_arrival_order_and_removes_only_the_answered_head(
    redis_client: redis.Redis,
) -> None:
    mailbox = Mailbox(redis_client)
    for message_id in (1, 2, 3):
        mailbox.push(message(message_id))
    assert [m.message_id for m in mailbox.pending(3, 7)] == [1, 2, 3]
    mailbox.remove(3, 7, 2)
    mailbox.push(message(4))
    assert [m.message_id for m in mailbox.pending(3, 7)] == [3, 4]
    mailbox.withdraw(mailbox.pending(3, 7)[1])
    assert [m.message_id for m in mailbox.pending(3, 7)] == [3]
    assert redis_client.ttl(mailbox.key(3, 7)) > 0
