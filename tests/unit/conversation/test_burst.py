"""The burst rule: answer once the customer is quiet, never later than the cap."""

from __future__ import annotations

import pytest

from hub.conversation.inbound import InboundMessage, Media
from hub.conversation.mailbox import listening_for, quiet_in


def message(at: float, message_id: int = 1, *, urgent: bool = False) -> InboundMessage:
    return InboundMessage(
        domain="retail",
        account_id=3,
        conversation_id=7,
        message_id=message_id,
        text="oi",
        received_at=at,
        urgent=urgent,
    )


def wait(batch: list[InboundMessage], now: float, *, window: float = 3.0) -> float:
    return quiet_in(batch, now, window=window, cap_seconds=20.0, max_messages=5)


def test_a_fresh_message_waits_for_the_rest_of_the_window() -> None:
    assert wait([message(100.0)], now=101.0) == 2.0


def test_each_new_message_restarts_the_window() -> None:
    assert wait([message(100.0), message(102.5, 2)], now=103.0) == 2.5


def test_a_quiet_customer_is_answered_at_once() -> None:
    assert wait([message(100.0), message(101.0, 2)], now=104.0) == 0.0


def test_a_burst_that_keeps_going_is_answered_at_the_cap() -> None:
    batch = [message(100.0 + i, i) for i in range(3)] + [message(119.5, 9)]
    assert wait(batch, now=119.6) == pytest.approx(0.4)  # the cap: 20 s after the first


def test_a_burst_that_reaches_the_message_limit_is_answered_at_once() -> None:
    batch = [message(100.0 + i * 0.1, i) for i in range(5)]
    assert wait(batch, now=100.5) == 0.0


def test_an_urgent_message_never_waits() -> None:
    assert wait([message(100.0), message(100.1, 2, urgent=True)], now=100.2) == 0.0


def test_a_window_of_zero_turns_the_buffer_off() -> None:
    assert wait([message(100.0)], now=100.0, window=0) == 0.0


def voice(message_id: int, received_at: float, *, heard: bool = False) -> InboundMessage:
    audio = Media(kind="audio", url="http://x/a.ogg", transcript="oi" if heard else None)
    return InboundMessage(
        domain="retail",
        account_id=3,
        conversation_id=1,
        message_id=message_id,
        text="oi" if heard else "[áudio]",
        media=(audio,),
        media_only=not heard,
        received_at=received_at,
    )


def test_an_unheard_voice_note_waits_for_its_transcription_and_no_longer() -> None:
    assert listening_for([voice(1, 100.0)], 104.0, seconds=15) == 11.0
    assert listening_for([voice(1, 100.0)], 116.0, seconds=15) == 0.0
    assert listening_for([voice(1, 100.0)], 101.0, seconds=0) == 0.0


def test_a_transcribed_voice_note_or_plain_text_does_not_wait() -> None:
    assert listening_for([voice(1, 100.0, heard=True)], 101.0, seconds=15) == 0.0
    assert listening_for([], 101.0, seconds=15) == 0.0
