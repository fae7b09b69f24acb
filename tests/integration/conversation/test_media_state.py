"""A voice note's words arriving in its mailbox, and quoted messages read back, in real Redis."""

from __future__ import annotations

import pytest
import redis

from hub.conversation.inbound import InboundMessage, Media
from hub.conversation.mailbox import Mailbox
from hub.conversation.quotes import QUOTE_CHARS, Quotes

pytestmark = pytest.mark.integration


def message(message_id: int, text: str = "[áudio]", *, heard: bool = False) -> InboundMessage:
    audio = Media(kind="audio", url="http://x/a.ogg", transcript=text if heard else None)
    return InboundMessage(
        domain="retail",
        account_id=3,
        conversation_id=7,
        message_id=message_id,
        text=text,
        media=(audio,),
        media_only=not heard,
        received_at=1000.0 + message_id,
    )


def with_words(old: InboundMessage) -> InboundMessage:
    media = (old.media[0].model_copy(update={"transcript": "qual o horário?"}),)
    return old.model_copy(update={"text": "qual o horário?", "media": media, "media_only": False})


def test_a_waiting_voice_note_gets_its_words_in_its_place(redis_client: redis.Redis) -> None:
    mailbox = Mailbox(redis_client)
    for message_id in (1, 2, 3):
        mailbox.push(message(message_id))
    updated = mailbox.replace(3, 7, 2, with_words)
    assert updated is not None and updated.text == "qual o horário?"
    pending = mailbox.pending(3, 7)
    assert [m.message_id for m in pending] == [1, 2, 3]
    assert pending[1].text == "qual o horário?" and not pending[1].unheard_audio
    assert pending[1].received_at == 1002.0  # the burst rule still counts from its arrival
    assert pending[0].unheard_audio and pending[2].unheard_audio


def test_a_voice_note_no_longer_waiting_is_not_put_back(redis_client: redis.Redis) -> None:
    mailbox = Mailbox(redis_client)
    mailbox.push(message(1))
    mailbox.remove(3, 7, 1)  # answered already
    assert mailbox.replace(3, 7, 1, with_words) is None
    assert mailbox.pending(3, 7) == []
    assert mailbox.replace(3, 8, 1, with_words) is None  # a conversation never seen


def test_a_quoted_message_is_found_by_its_id_with_its_author(redis_client: redis.Redis) -> None:
    quotes = Quotes(redis_client)
    quotes.file(3, 7, 501, "bot", "Temos o Kit Verão por R$ 129,90 e o Kit Inverno.")
    quotes.file(3, 7, 502, "customer", "  quero esse  ")
    bot = quotes.find(3, 7, 501)
    assert bot is not None and bot.author == "bot" and "Kit Verão" in bot.text
    customer = quotes.find(3, 7, 502)
    assert customer is not None and (customer.author, customer.text) == ("customer", "quero esse")
    assert quotes.find(3, 7, 999) is None
    assert quotes.find(3, 8, 501) is None  # another conversation's message stays its own
    assert redis_client.ttl(Quotes.key(3, 7)) > 0


def test_a_long_quoted_message_is_kept_short_and_a_blank_one_not_at_all(
    redis_client: redis.Redis,
) -> None:
    quotes = Quotes(redis_client)
    quotes.file(3, 7, 1, "bot", "x:" * 1000)
    found = quotes.find(3, 7, 1)
    assert found is not None and len(found.text) == QUOTE_CHARS and found.text.startswith("x:x:")
    quotes.file(3, 7, 2, "customer", "   ")
    assert quotes.find(3, 7, 2) is None
