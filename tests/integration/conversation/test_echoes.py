"""Chatwoot's copies of the bot's own messages, as the worker reads them (real Redis)."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from hub.conversation.echoes import Echoes

pytestmark = pytest.mark.integration


def test_a_copy_stored_after_the_customer_message_says_the_reply_is_there(
    redis_client: redis.Redis,
) -> None:
    echoes = Echoes(redis_client)
    echoes.heard(3, 50, 1002, "Abrimos às 10:00.")
    assert echoes.followed(3, 50, "Abrimos às 10:00.", after=1001)
    assert echoes.followed(3, 50, "  Abrimos às 10:00.\n", after=1001)  # as Chatwoot strips it


def test_the_same_words_sent_before_the_customer_wrote_are_not_this_reply(
    redis_client: redis.Redis,
) -> None:
    echoes = Echoes(redis_client)
    echoes.heard(3, 50, 1002, "Não sei responder isso.")
    assert not echoes.followed(3, 50, "Não sei responder isso.", after=1003)
    assert not echoes.followed(3, 50, "Não sei responder isso.", after=1002)


def test_other_words_and_other_conversations_are_not_this_reply(
    redis_client: redis.Redis,
) -> None:
    echoes = Echoes(redis_client)
    echoes.heard(3, 50, 1002, "Abrimos às 10:00.")
    assert not echoes.followed(3, 50, "Fechamos às 22:00.", after=1001)
    assert not echoes.followed(3, 51, "Abrimos às 10:00.", after=1001)
    assert not echoes.followed(4, 50, "Abrimos às 10:00.", after=1001)


def test_waiting_ends_as_soon_as_the_copy_comes(redis_client: redis.Redis) -> None:
    echoes = Echoes(redis_client, wait_seconds=5)
    later = threading.Timer(0.3, echoes.heard, args=(3, 50, 1002, "Abrimos às 10:00."))
    later.start()
    started = time.monotonic()
    assert echoes.wait(3, 50, "Abrimos às 10:00.", after=1001)
    assert time.monotonic() - started < 2
    later.join()


def test_waiting_gives_up_when_no_copy_comes(redis_client: redis.Redis) -> None:
    echoes = Echoes(redis_client, wait_seconds=0.3)
    started = time.monotonic()
    assert not echoes.wait(3, 50, "Abrimos às 10:00.", after=1001)
    assert 0.3 <= time.monotonic() - started < 2


def test_a_copy_is_forgotten_after_a_day(redis_client: redis.Redis) -> None:
    echoes = Echoes(redis_client)
    echoes.heard(3, 50, 1002, "Abrimos às 10:00.")
    ttl = redis_client.ttl(Echoes.key(3, 50, "Abrimos às 10:00."))
    assert 23 * 3600 < ttl <= 24 * 3600
