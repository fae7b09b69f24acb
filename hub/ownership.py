"""Whose order it is: an order's details go only to the contact who placed it.

Order numbers are sequential, so knowing one proves nothing. The contact's phone
or e-mail as Chatwoot knows them (a WhatsApp number is the channel's own), or one
the customer states to confirm, must be one of the order's; otherwise the tool
says the order exists and asks for confirmation, or a person takes over. Used by
the built-in `order_status` tool and the Odoo connector alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.turn import TurnContext

PHONE_MATCH_DIGITS = 10
"""The fewest digits two phones must share, at their end, to be one number when only
one carries the country code (+55 11 99999-0000 and (11) 99999-0000): area code
and number."""

ASK_CONFIRMATION = (
    "Encontrei o pedido {number}, mas só posso informar os detalhes a quem fez a compra. "
    "Por favor, confirme o telefone ou o e-mail usado no pedido."
)
MISMATCH = (
    "Encontrei o pedido {number}, mas o telefone ou e-mail informado não confere com o "
    "do pedido. Vou passar a conversa para uma pessoa da equipe confirmar os dados."
)
NOBODY_ON_RECORD = (
    "Encontrei o pedido {number}. Uma pessoa da equipe vai confirmar os dados da compra "
    "e continuar o atendimento."
)
MISMATCH_REASON = "order status asked by a contact whose phone or e-mail is not the order's"
NOBODY_REASON = "order status asked for an order with no phone or e-mail on record"


def phone_digits(phone: str | None) -> str:
    """Only the digits of a phone as people and Chatwoot write it ("+55 (11) 9…")."""
    return "".join(char for char in phone or "" if char.isdigit())


def same_phone(one: str | None, other: str | None) -> bool:
    """Whether two written phones are one number: the same digits, or the shorter (of at
    least `PHONE_MATCH_DIGITS`) ending the longer (a country code on one side only)."""
    a, b = sorted((phone_digits(one), phone_digits(other)), key=len)
    if not a:
        return False
    return a == b or (len(a) >= PHONE_MATCH_DIGITS and b.endswith(a))


def same_email(one: str | None, other: str | None) -> bool:
    """Whether two e-mail addresses are one (case and surrounding spaces aside)."""
    a, b = (one or "").strip().casefold(), (other or "").strip().casefold()
    return "@" in a and a == b


@dataclass(frozen=True)
class Disclosure:
    """Whether the details may be told; if not, the text to say and, when a person must
    confirm, the handoff reason."""

    allowed: bool
    refusal: str = ""
    handoff_reason: str | None = None


def disclosure(
    number: str,
    context: TurnContext,
    *,
    phones: Iterable[str | None] = (),
    emails: Iterable[str | None] = (),
    stated: str = "",
) -> Disclosure:
    """May the contact of this turn be told order `number`'s details? `phones` and
    `emails` are the order's; `stated` is a phone or e-mail the customer gave."""
    on_record = [p for p in phones if phone_digits(p)], [e for e in emails if e and "@" in e]
    stated = stated.strip()
    asking_phones = (context.contact_phone, "" if "@" in stated else stated)
    asking_emails = (context.contact_email, stated if "@" in stated else "")
    if any(same_phone(mine, theirs) for mine in on_record[0] for theirs in asking_phones) or any(
        same_email(mine, theirs) for mine in on_record[1] for theirs in asking_emails
    ):
        return Disclosure(True)
    if not (on_record[0] or on_record[1]):
        return Disclosure(False, NOBODY_ON_RECORD.format(number=number), NOBODY_REASON)
    if stated:
        return Disclosure(False, MISMATCH.format(number=number), MISMATCH_REASON)
    return Disclosure(False, ASK_CONFIRMATION.format(number=number))
