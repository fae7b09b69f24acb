"""What the receiver puts on a domain's queue for one customer message.

Small and self-contained: the worker needs nothing from the webhook payload
beyond this, and no customer text ever appears in Celery's `argsrepr` (what
Flower shows), only ids.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub import defaults


class Media(BaseModel):
    """One attachment of a customer message, as the worker can use it: where to fetch
    it, what Chatwoot (or a plugin) heard in an audio, where a location pin points."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(description="Chatwoot's file_type: image, audio, video, file, location…")
    url: str | None = None
    extension: str | None = None
    transcript: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    title: str | None = Field(default=None, description="a location's name or address")

    @property
    def unheard(self) -> bool:
        """An audio nobody has transcribed yet."""
        return self.kind == "audio" and not (self.transcript or "").strip()


class InboundMessage(BaseModel):
    """A customer message accepted by the receiver, bound to its domain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str
    account_id: int
    conversation_id: int
    inbox_id: int | None = None
    message_id: int
    text: str
    cut_chars: int = Field(
        default=0, ge=0, description="characters cut off a text over MAX_MESSAGE_CHARS"
    )
    contact_id: int | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    channel: str | None = None
    delivery_id: str | None = None
    media: tuple[Media, ...] = ()
    media_only: bool = Field(
        default=False,
        description="the customer wrote nothing: `text` only names the attachments",
    )
    quoted_message_id: int | None = Field(
        default=None, description="the message this one replies to (content_attributes.in_reply_to)"
    )
    subject: str | None = Field(default=None, description="an e-mail's subject")
    labels: tuple[str, ...] | None = Field(
        default=None,
        description="the conversation's labels in the webhook; None when it carried none",
    )
    urgent: bool = Field(
        default=False, description="a domain rule or a plugin flagged it: handled first"
    )
    received_at: float = Field(description="Unix time the receiver accepted it")

    @property
    def unheard_audio(self) -> bool:
        """Only audio, not transcribed yet: nothing the crew could answer."""
        return self.media_only and any(m.unheard for m in self.media)

    @property
    def images(self) -> tuple[str, ...]:
        """The URLs of the pictures the customer sent."""
        return tuple(m.url for m in self.media if m.kind == "image" and m.url)

    @property
    def safe_repr(self) -> str:
        """Ids only: what dashboards and logs may show."""
        return (
            f"{self.domain}:account={self.account_id}:conversation={self.conversation_id}"
            f":message={self.message_id}"
        )

    @property
    def prompt_text(self) -> str:
        """The text as the model reads it: with a note when its end was cut off."""
        if not self.cut_chars:
            return self.text
        return f"{self.text}\n{defaults.CUT_TEXT_NOTE.format(omitted=self.cut_chars)}"


def cut_text(text: str, limit: int) -> tuple[str, int]:
    """`text` within `limit` characters, cut at the last whitespace near the limit when
    there is one, and how many characters were left out."""
    if len(text) <= limit:
        return text, 0
    head = text[:limit]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space >= limit - defaults.CUT_TEXT_BACKTRACK_CHARS:
        head = head[:space]
    head = head.rstrip()
    return head, len(text) - len(head)
