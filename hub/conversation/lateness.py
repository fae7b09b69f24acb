"""The late-reply rule: what a reply held back (by a Chatwoot outage) becomes.

A pure function of the draft, its age and the domain's conversation settings.
The age is measured from the customer's last message in the burst, so a reply
that still answers what the customer asked last, but comes many minutes after,
opens with an apology; with `late_reply: handoff` the conversation also goes to
a person, who checks that the answer still fits. Applied once: a draft that
opens with the apology already is left as it is (a retry of a late reply).
"""

from __future__ import annotations

from dataclasses import replace

from hub.domains.schema import ConversationSettings
from hub.turn import Draft

LATE_HANDOFF_REASON = "resposta atrasada: {minutes} min depois da última mensagem do cliente"
"""The handoff reason (private note) of a late reply handed to a person."""


def is_late(age_seconds: float, settings: ConversationSettings) -> bool:
    """Whether a reply this old is late for the domain (never, with 0)."""
    return settings.late_reply_seconds > 0 and age_seconds >= settings.late_reply_seconds


def late_draft(draft: Draft, age_seconds: float, settings: ConversationSettings) -> Draft:
    """The draft to post `age_seconds` after the customer's last message: the same one
    while on time, else the apology and the answer (handed off, when the domain says so)."""
    apology = settings.late_reply_apology.strip()
    if not is_late(age_seconds, settings) or draft.text.startswith(apology):
        return draft
    text = f"{apology}\n\n{draft.text}" if draft.text.strip() else apology
    if settings.late_reply == "handoff" and not draft.hands_off:
        reason = LATE_HANDOFF_REASON.format(minutes=int(age_seconds // 60))
        return replace(draft, text=text, handoff_reason=reason, kind="late")
    return replace(draft, text=text)
