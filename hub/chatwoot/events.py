"""Webhook events as Chatwoot really sends them, parsed once at the edge.

Models ignore keys Chatwoot adds (it adds some in most releases) but insist on
the fields our decisions rest on: ids, `message_type`, `private`, statuses. A
body that lacks one is refused with 400 and a message naming the field, rather
than half-understood. `parse_event` is the only entry point.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hub.domains.source import format_key_path
from hub.exceptions import InvalidPayloadError

MessageType = Literal["incoming", "outgoing", "activity", "template"]
ConversationStatus = Literal["open", "pending", "resolved", "snoozed"]
SenderKind = Literal["contact", "user", "agent_bot", "captain_assistant", "unknown"]

MESSAGE_EVENTS = frozenset({"message_created", "message_updated"})
CONVERSATION_EVENTS = frozenset(
    {
        "conversation_created",
        "conversation_updated",
        "conversation_status_changed",
        "conversation_opened",
        "conversation_resolved",
    }
)
MESSAGE_TYPE_CODES: dict[int, MessageType] = {
    0: "incoming",
    1: "outgoing",
    2: "activity",
    3: "template",
}
"""Chatwoot's enum; the top-level message has the name, `conversation.messages[]` the code."""

ATTACHMENT_LABELS = {
    "image": "imagem",
    "audio": "áudio",
    "video": "vídeo",
    "file": "arquivo",
    "location": "localização",
    "contact": "contato",
    "story_mention": "menção em story",
    "ig_reel": "reel",
    "ig_post": "post",
    "ig_story": "story",
}
"""How a media-only message reads to the crew (customers write in Portuguese)."""

SENDER_KINDS: dict[str | None, SenderKind] = {
    None: "contact",
    "contact": "contact",
    "user": "user",
    "agent_bot": "agent_bot",
    "captain_assistant": "captain_assistant",
}
"""`sender.type` → kind. Webhook contacts have no `type`; push payloads say "contact"."""

MAX_REPORTED_ERRORS = 5

CHATWOOT_ID_LIMIT = 2**63
"""Chatwoot's ids are PostgreSQL `bigint`s (or smaller): 0 ≤ id < 2^63. Anything else is
refused at the edge rather than failing later in Redis keys or our own database."""

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _empty_if_none(default: Any) -> BeforeValidator:
    """Chatwoot sends `null` for empty hashes and lists in some versions: read it as empty."""
    return BeforeValidator(lambda value: type(default)() if value is None else value)


def _message_type_name(value: Any) -> Any:
    """Accept the numeric code too, as Chatwoot's push (not webhook) payloads carry it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return MESSAGE_TYPE_CODES.get(value, value)
    return value


ChatwootId = Annotated[int, Field(ge=0, lt=CHATWOOT_ID_LIMIT)]
JSONObject = Annotated[dict[str, Any], _empty_if_none({})]
StringList = Annotated[list[str], _empty_if_none([])]
MessageTypeName = Annotated[MessageType, BeforeValidator(_message_type_name)]


class _Payload(BaseModel):
    """Base of every payload model: unknown keys ignored, instances immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Payload):
    """`account {id, name}`."""

    id: ChatwootId
    name: str | None = None


class Inbox(_Payload):
    """`inbox {id, name}`."""

    id: ChatwootId
    name: str | None = None


class Sender(_Payload):
    """Who wrote a message: a contact (no `type`), a `user`, an `agent_bot`, Captain."""

    id: ChatwootId
    name: str | None = None
    type: str | None = None
    email: str | None = None
    phone_number: str | None = None
    identifier: str | None = None


class Attachment(_Payload):
    """One file of a message; audio may carry Chatwoot's transcription."""

    id: int | None = None
    message_id: int | None = None
    file_type: str = "file"
    data_url: str | None = None
    thumb_url: str | None = None
    extension: str | None = None
    file_size: int | None = None
    transcribed_text: str | None = None
    fallback_title: str | None = None
    coordinates_lat: float | None = None
    coordinates_long: float | None = None
    """A location pin's coordinates (`file_type: location`)."""

    @property
    def summary(self) -> str:
        """`[imagem]`, `[áudio: transcription]`, `[localização: address]`…"""
        label = ATTACHMENT_LABELS.get(self.file_type, "anexo")
        detail = (self.transcribed_text or self.fallback_title or "").strip()
        return f"[{label}: {detail}]" if detail else f"[{label}]"


class ConversationMeta(_Payload):
    """`meta {sender, assignee, team}`: the contact and who the conversation is with."""

    sender: Sender | None = None
    assignee: dict[str, Any] | None = None
    team: dict[str, Any] | None = None


class ConversationMessage(_Payload):
    """An entry of `conversation.messages[]`, where `message_type` is an integer."""

    id: ChatwootId
    content: str | None = None
    message_type: int
    private: bool = False
    account_id: ChatwootId | None = None
    created_at: float | None = None

    @property
    def message_type_name(self) -> MessageType | None:
        return MESSAGE_TYPE_CODES.get(self.message_type)


class Conversation(_Payload):
    """The `conversation` of a message event; `id` is the display id used in API paths."""

    id: ChatwootId
    inbox_id: ChatwootId
    status: ConversationStatus
    channel: str | None = None
    labels: StringList = Field(default_factory=list)
    custom_attributes: JSONObject = Field(default_factory=dict)
    additional_attributes: JSONObject = Field(default_factory=dict)
    priority: str | None = None
    meta: ConversationMeta = Field(default_factory=ConversationMeta)
    messages: list[ConversationMessage] = Field(default_factory=list)


class MessageEvent(_Payload):
    """`message_created` / `message_updated`: the message at top level, its conversation nested."""

    event: Literal["message_created", "message_updated"]
    id: ChatwootId
    content: str | None = None
    content_type: str = "text"
    content_attributes: JSONObject = Field(default_factory=dict)
    additional_attributes: JSONObject = Field(default_factory=dict)
    message_type: MessageTypeName
    private: bool
    source_id: str | None = None
    created_at: datetime | None = None
    sender: Sender | None = None
    inbox: Inbox
    account: Account
    conversation: Conversation
    attachments: list[Attachment] = Field(default_factory=list)

    @property
    def sender_kind(self) -> SenderKind:
        """Who wrote it. A null sender is a contact only on an incoming message.

        Only contacts produce incoming messages, so an incoming one without a
        sender (a deleted contact, some API channels) is still the customer's;
        an outgoing one without a sender was typed on the business phone outside
        Chatwoot, by a person we cannot name: not a contact, not us.
        """
        if self.sender is None:
            return "contact" if self.message_type == "incoming" else "unknown"
        return SENDER_KINDS.get(self.sender.type, "unknown")

    @property
    def account_id(self) -> int:
        return self.account.id

    @property
    def conversation_id(self) -> int:
        """The conversation's display id: what `/conversations/{id}` paths take."""
        return self.conversation.id

    @property
    def inbox_id(self) -> int:
        return self.inbox.id

    @property
    def conversation_status(self) -> ConversationStatus:
        return self.conversation.status

    @property
    def channel(self) -> str | None:
        """Chatwoot's channel class, e.g. `Channel::Whatsapp`."""
        return self.conversation.channel

    @property
    def text(self) -> str:
        """The content, stripped; "" when Chatwoot sent null (media-only messages)."""
        return (self.content or "").strip()

    @property
    def in_reply_to(self) -> int | None:
        """The id of the message this one quotes (a swipe-reply on WhatsApp), if any."""
        value = self.content_attributes.get("in_reply_to")
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        return int(value) if isinstance(value, str) and value.isdigit() else None

    @property
    def email(self) -> dict[str, Any]:
        """`content_attributes.email` of an `incoming_email` ({} for other messages)."""
        value = self.content_attributes.get("email")
        return value if isinstance(value, dict) else {}

    @property
    def attachment_summary(self) -> str:
        """The attachments as words, so a media-only message still has text to answer."""
        return " ".join(attachment.summary for attachment in self.attachments)


class AttributeChange(_Payload):
    """One entry of `changed_attributes`: `{previous_value, current_value}`."""

    previous_value: Any = None
    current_value: Any = None


def _change_list(value: Any) -> Any:
    """`changed_attributes` is a list of one-key hashes; tolerate null or a bare hash."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else value


class ConversationEvent(_Payload):
    """`conversation_*` events: the conversation itself at top level.

    Upstream Chatwoot puts no account in these payloads; some versions add
    `account_id` or `account {id}`. Failing both, the account is read from the
    last message (`messages[].account_id`), and is None when there is none.
    """

    event: Literal[
        "conversation_created",
        "conversation_updated",
        "conversation_status_changed",
        "conversation_opened",
        "conversation_resolved",
    ]
    id: ChatwootId
    inbox_id: ChatwootId
    status: ConversationStatus
    account_id: ChatwootId | None = None
    account: Account | None = None
    channel: str | None = None
    labels: StringList = Field(default_factory=list)
    custom_attributes: JSONObject = Field(default_factory=dict)
    additional_attributes: JSONObject = Field(default_factory=dict)
    priority: str | None = None
    meta: ConversationMeta = Field(default_factory=ConversationMeta)
    messages: list[ConversationMessage] = Field(default_factory=list)
    changed_attributes: Annotated[
        list[dict[str, AttributeChange]], BeforeValidator(_change_list)
    ] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _find_account_id(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("account_id") is not None:
            return data
        account = data.get("account")
        if isinstance(account, dict) and account.get("id") is not None:
            return {**data, "account_id": account["id"]}
        messages = data.get("messages")
        if isinstance(messages, list):
            for message in messages:
                if isinstance(message, dict) and message.get("account_id") is not None:
                    return {**data, "account_id": message["account_id"]}
        return data

    @property
    def conversation_id(self) -> int:
        """The display id, as in message events and API paths."""
        return self.id

    def change(self, attribute: str) -> AttributeChange | None:
        """What happened to `attribute` according to `changed_attributes`, if reported."""
        for entry in self.changed_attributes:
            if attribute in entry:
                return entry[attribute]
        return None

    @property
    def status_changed_from(self) -> str | None:
        change = self.change("status")
        return None if change is None else _as_str(change.previous_value)

    @property
    def status_changed_to(self) -> str | None:
        """The new status when this event reports a status change, else None."""
        change = self.change("status")
        if change is not None:
            return _as_str(change.current_value)
        if self.event in ("conversation_status_changed", "conversation_opened"):
            return self.status
        if self.event == "conversation_resolved":
            return "resolved"
        return None


class GenericEvent(_Payload):
    """Any other event (`webwidget_triggered`, `contact_*`…): its name and the raw body."""

    event: str
    raw: dict[str, Any]

    @property
    def account_id(self) -> int | None:
        return _nested_id(self.raw, "account")

    @property
    def inbox_id(self) -> int | None:
        return _nested_id(self.raw, "inbox")


WebhookEvent: TypeAlias = MessageEvent | ConversationEvent | GenericEvent


def parse_event(raw: bytes) -> WebhookEvent:
    """The typed event of a webhook body; InvalidPayloadError names what is wrong."""
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except UnicodeDecodeError as error:
        raise InvalidPayloadError(f"body is not UTF-8 JSON: {error.reason}") from None
    except json.JSONDecodeError as error:
        raise InvalidPayloadError(
            f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise InvalidPayloadError("body is not valid JSON: nested too deeply") from None
    except ValueError as error:  # an integer of thousands of digits
        raise InvalidPayloadError(f"body is not valid JSON: {str(error)[:80]}") from None
    if _SURROGATE_ESCAPE.search(raw):
        data = _without_lone_surrogates(data)
    if not isinstance(data, dict):
        raise InvalidPayloadError(f"body must be a JSON object, got {_json_type(data)}")
    if "event" not in data:
        raise InvalidPayloadError("body has no 'event' key")
    name = data["event"]
    if not isinstance(name, str) or not name:
        raise InvalidPayloadError(f"'event' must be a non-empty string, got {_json_type(name)}")
    try:
        if name in MESSAGE_EVENTS:
            return MessageEvent.model_validate(data)
        if name in CONVERSATION_EVENTS:
            return ConversationEvent.model_validate(data)
        return GenericEvent(event=name, raw=data)
    except ValidationError as error:
        raise InvalidPayloadError(_describe(name, error)) from None


def _not_json(name: str) -> Any:
    """`NaN`, `Infinity`, `-Infinity`: Python's json reads them, JSON has no such thing."""
    raise ValueError(f"{name} is not JSON")


def _without_lone_surrogates(value: Any) -> Any:
    """Every lone UTF-16 surrogate (`"\\ud800"` unpaired, valid JSON but no character)
    replaced by U+FFFD: such a string cannot be encoded for Redis or the database, and
    the message is worth more than one broken character."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _without_lone_surrogates(key): _without_lone_surrogates(item)
            for key, item in value.items()
        }
    return value


def _describe(event: str, error: ValidationError) -> str:
    """`message_created: conversation.id: field required; …`, without the values (PII)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        message = item["msg"]
        problems.append(f"{event}: {_location(item['loc'])}: {message[:1].lower()}{message[1:]}")
    text = "; ".join(problems[:MAX_REPORTED_ERRORS])
    if len(problems) > MAX_REPORTED_ERRORS:
        text += f" (and {len(problems) - MAX_REPORTED_ERRORS} more)"
    return text


def _location(loc: tuple[int | str, ...]) -> str:
    """`("conversation", "messages", 0, "id")` → `conversation.messages[0].id`."""
    return format_key_path(loc) or "body"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _nested_id(raw: dict[str, Any], name: str) -> int | None:
    """`raw[name]["id"]`, else `raw[name + "_id"]`, when it is an integer."""
    nested = raw.get(name)
    value = nested.get("id") if isinstance(nested, dict) else None
    if value is None:
        value = raw.get(f"{name}_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = [
    "Account",
    "Attachment",
    "AttributeChange",
    "Conversation",
    "ConversationEvent",
    "ConversationMessage",
    "ConversationMeta",
    "ConversationStatus",
    "GenericEvent",
    "Inbox",
    "MessageEvent",
    "MessageType",
    "Sender",
    "SenderKind",
    "WebhookEvent",
    "parse_event",
]
