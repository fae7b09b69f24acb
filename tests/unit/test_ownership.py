"""Whose order it is: phones and e-mails as people write them, and what is told when."""

from __future__ import annotations

import pytest

from hub.ownership import MISMATCH_REASON, NOBODY_REASON, disclosure, same_email, same_phone
from hub.turn import TurnContext


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("+55 11 98765-4320", "(11) 98765-4320"),
        ("+5511987654320", "55 11 98765 4320"),
        ("11 3333-4444", "+55 (11) 3333-4444"),
    ],
)
def test_one_number_written_two_ways_is_the_same_phone(one: str, other: str) -> None:
    assert same_phone(one, other) and same_phone(other, one)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("+55 11 98765-4320", "+55 11 98765-4321"),
        ("+55 11 98765-4320", "4320"),  # a suffix too short to be a number
        ("+55 11 98765-4320", "987654320"),  # no area code: 9 digits
        ("", ""),
        (None, "+55 11 98765-4320"),
        ("abc", "abc"),
    ],
)
def test_different_or_partial_phones_are_not_the_same(one: str | None, other: str) -> None:
    assert not same_phone(one, other)


def test_e_mails_match_whatever_their_case_but_never_empty() -> None:
    assert same_email("Ana.Lima@Example.com ", "ana.lima@example.com")
    assert not same_email("", "")
    assert not same_email("ana", "ana")
    assert not same_email("ana@example.com", "ana@example.org")


def test_without_a_match_the_order_is_found_and_confirmation_is_asked() -> None:
    told = disclosure("CC-1", TurnContext("retail"), phones=("+5511987654320",))
    assert not told.allowed and told.handoff_reason is None
    assert "Encontrei o pedido CC-1" in told.refusal and "confirme" in told.refusal


def test_a_stated_contact_that_does_not_match_hands_off() -> None:
    told = disclosure(
        "CC-1", TurnContext("retail"), phones=("+5511987654320",), stated="11 91234-0000"
    )
    assert (told.allowed, told.handoff_reason) == (False, MISMATCH_REASON)


def test_an_order_with_nobody_on_record_is_never_told_and_goes_to_a_person() -> None:
    context = TurnContext("retail", contact_phone="+5511987654320")
    told = disclosure("CC-1", context, phones=(None, ""), emails=(None,))
    assert (told.allowed, told.handoff_reason) == (False, NOBODY_REASON)


def test_the_contact_s_phone_or_e_mail_or_a_stated_one_opens_the_order() -> None:
    on_record = {"phones": ("+55 11 98765-4320",), "emails": ("ana@example.com",)}
    assert disclosure("CC-1", TurnContext("r", contact_phone="11987654320"), **on_record).allowed
    assert disclosure(
        "CC-1", TurnContext("r", contact_email="ANA@example.com"), **on_record
    ).allowed
    assert disclosure("CC-1", TurnContext("r"), stated="ana@example.com", **on_record).allowed
    assert disclosure("CC-1", TurnContext("r"), stated="(11) 98765-4320", **on_record).allowed
