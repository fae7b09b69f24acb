"""What the receiver puts on a domain's queue for one customer message.

Small and self-contained: the worker needs nothing from the webhook payload
beyond this, and no customer text ever appears in Celery's `argsrepr` (what
Flower shows), only ids.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class InboundMessage(BaseModel):
    """A customer message accepted by the receiver, bound to its domain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str
    account_id: int
    conversation_id: int
    inbox_id: int | None = None
    message_id: int
    text: str
    contact_id: int | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    channel: str | None = None
    delivery_id: str | None = None
    urgent: bool = Field(
        default=False, description="a domain rule or a plugin flagged it: handled first"
    )
    received_at: float = Field(description="Unix time the receiver accepted it")

    @property
    def safe_repr(self) -> str:
        """Ids only: what dashboards and logs may show."""
        return (
            f"{self.domain}:account={self.account_id}:conversation={self.conversation_id}"
            f":message={self.message_id}"
        )
