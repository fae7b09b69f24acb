"""Pydantic models of a domain's own content files: seed data and conversation tests.

These files belong to one business and are never inherited. They are validated
with the rest of the domain, so `chatwootai domains validate` catches a typo in a
price or a test before `chatwootai data seed` or `chatwootai test` runs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator

from hub.domains.schema import Identifier, StrictModel, Text, TimeRange, Weekday

OrderStatus = Literal["awaiting_payment", "paid", "out_for_delivery", "delivered", "cancelled"]


class ProductRow(StrictModel):
    """A catalogue item; price in reais as a decimal string, never a float."""

    sku: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")]
    name: Text
    price: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
    stock: int = Field(ge=0)
    category: Text | None = None
    description: str = ""
    restock_note: Text | None = None

    @field_validator("price", mode="before")
    @classmethod
    def _no_floats(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError('write prices as strings ("69.90"): floats lose cents')
        return value


class OrderRow(StrictModel):
    """A sample order, looked up by its number."""

    number: Text
    status: OrderStatus
    note: str = ""
    customer_phone: str | None = None
    customer_email: str | None = None
    """Who may be told the order's details: the contact with this phone or e-mail."""


class ProfessionalRow(StrictModel):
    """Someone customers book appointments with, and their weekly availability."""

    name: Text
    specialty: Text
    slot_minutes: int = Field(default=30, ge=5, le=240)
    weekly: dict[Weekday, list[TimeRange]] = Field(min_length=1)


class SeedData(StrictModel):
    """One `data/*.yaml` file: any of the three lists."""

    products: list[ProductRow] = Field(default_factory=list)
    orders: list[OrderRow] = Field(default_factory=list)
    professionals: list[ProfessionalRow] = Field(default_factory=list)


class Expectation(StrictModel):
    """What must be true after one customer turn."""

    route: Identifier | None = None
    tools: list[str] = Field(default_factory=list)
    reply_contains: list[Text] = Field(default_factory=list)
    reply_not_contains: list[Text] = Field(default_factory=list)
    handoff: bool | None = None


class Step(StrictModel):
    """One customer turn and what should follow."""

    customer: Text
    expect: Expectation = Field(default_factory=Expectation)


class StoryContact(StrictModel):
    """Who the story's customer is, as Chatwoot would tell it: the phone and e-mail an
    order's details are checked against."""

    phone: str = ""
    email: str = ""


class Story(StrictModel):
    """A conversation test: turns in order, like a Rasa test story."""

    name: Text
    contact: StoryContact = Field(default_factory=StoryContact)
    steps: list[Step] = Field(min_length=1)


class ConversationTests(StrictModel):
    """One `tests/*.yaml` file."""

    stories: list[Story] = Field(min_length=1)
