"""Webhook bodies shaped like Chatwoot's (Message#webhook_data, Conversation#webhook_data).

Each function returns a fresh dict, so a test may break one without touching
the others. Ids: account 1, inbox 11, conversation (display id) 42.
"""

from __future__ import annotations

import json
from typing import Any

ACCOUNT = {"id": 1, "name": "Bela Pele Cosméticos"}
INBOX = {"id": 11, "name": "WhatsApp Bela Pele"}


def contact() -> dict[str, Any]:
    """A contact as a message `sender`: note there is no `type` key."""
    return {
        "id": 501,
        "name": "Maria Silva",
        "email": None,
        "phone_number": "+5541999990000",
        "identifier": None,
        "custom_attributes": {},
        "additional_attributes": {},
        "avatar": "",
        "thumbnail": "",
        "blocked": False,
        "account": ACCOUNT,
    }


def agent() -> dict[str, Any]:
    return {"id": 3, "name": "Ana Souza", "email": "ana@belapele.com.br", "type": "user"}


def bot() -> dict[str, Any]:
    return {"id": 9, "name": "ChatwootAI", "type": "agent_bot"}


def captain() -> dict[str, Any]:
    return {"id": 2, "name": "Captain", "type": "captain_assistant"}


def conversation(status: str = "pending", **changes: Any) -> dict[str, Any]:
    """`Conversation#webhook_data` (EventDataPresenter#push_data): timestamps are numbers."""
    data: dict[str, Any] = {
        "additional_attributes": {},
        "can_reply": True,
        "channel": "Channel::Whatsapp",
        "contact_inbox": {
            "id": 77,
            "contact_id": 501,
            "inbox_id": 11,
            "source_id": "5541999990000",
            "hmac_verified": False,
            "pubsub_token": "pt-1",
        },
        "id": 42,
        "inbox_id": 11,
        "messages": [
            {
                "id": 9001,
                "content": "Oi, vocês têm protetor solar?",
                "account_id": 1,
                "inbox_id": 11,
                "conversation_id": 42,
                "message_type": 0,
                "created_at": 1764165600,
                "private": False,
                "status": "sent",
                "content_type": "text",
                "content_attributes": {},
                "sender_type": "Contact",
                "sender_id": 501,
            }
        ],
        "labels": [],
        "meta": {
            "sender": {**contact(), "type": "contact"},
            "assignee": None,
            "assignee_type": None,
            "team": None,
            "hmac_verified": False,
        },
        "status": status,
        "custom_attributes": {},
        "snoozed_until": None,
        "unread_count": 1,
        "first_reply_created_at": None,
        "priority": None,
        "waiting_since": 1764165600,
        "agent_last_seen_at": 0,
        "contact_last_seen_at": 0,
        "last_activity_at": 1764165600,
        "timestamp": 1764165600,
        "created_at": 1764165500,
        "updated_at": 1764165600.123,
    }
    data.update(changes)
    return data


def message_created(
    content: str | None = "  Oi, vocês têm protetor solar?  ",
    *,
    message_id: int = 9001,
    message_type: str = "incoming",
    private: bool = False,
    sender: dict[str, Any] | None = None,
    status: str = "pending",
    event: str = "message_created",
) -> dict[str, Any]:
    """`Message#webhook_data` + `event`: a contact's message in a pending conversation."""
    return {
        "event": event,
        "id": message_id,
        "content": content,
        "content_type": "text",
        "content_attributes": {},
        "additional_attributes": {},
        "message_type": message_type,
        "private": private,
        "source_id": "wamid.HBgMNTU0MTk5OTk5MDAwMBUCABIYIDNBMDg=",
        "created_at": "2026-11-26T14:00:00.000Z",
        "sender": contact() if sender is None else sender,
        "inbox": dict(INBOX),
        "account": dict(ACCOUNT),
        "conversation": conversation(status),
    }


def contact_message() -> dict[str, Any]:
    return message_created()


def agent_reply() -> dict[str, Any]:
    return message_created("Oi Maria, aqui é a Ana!", message_type="outgoing", sender=agent())


def bot_reply() -> dict[str, Any]:
    return message_created("Temos sim!", message_type="outgoing", sender=bot())


def private_note() -> dict[str, Any]:
    return message_created(
        "cliente VIP", message_type="outgoing", private=True, sender=agent(), status="open"
    )


def sender_null() -> dict[str, Any]:
    """A message typed on the business phone outside Chatwoot has no sender."""
    payload = message_created("Enviado do celular", message_type="outgoing")
    payload["sender"] = None
    return payload


def message_updated() -> dict[str, Any]:
    """Fired for read receipts and edits: same shape, another event name."""
    payload = message_created(event="message_updated")
    payload["content_attributes"] = {"external_created_at": 1764165601}
    return payload


def audio_message() -> dict[str, Any]:
    """A voice note: null content, one audio attachment with Chatwoot's transcription."""
    payload = message_created(None)
    payload["attachments"] = [
        {
            "id": 3301,
            "message_id": 9001,
            "file_type": "audio",
            "account_id": 1,
            "extension": None,
            "data_url": "https://chatwoot.example/rails/active_storage/blobs/audio.ogg",
            "thumb_url": "",
            "file_size": 18231,
            "width": None,
            "height": None,
            "transcribed_text": "Queria saber o preço do protetor solar",
        }
    ]
    return payload


def status_changed(previous: str = "pending", current: str = "open") -> dict[str, Any]:
    """`conversation_status_changed`: the conversation at top level plus `changed_attributes`."""
    return {
        "event": "conversation_status_changed",
        **conversation(current),
        "account": dict(ACCOUNT),
        "changed_attributes": [{"status": {"previous_value": previous, "current_value": current}}],
    }


def webwidget_triggered() -> dict[str, Any]:
    """`ContactInbox#webhook_data` + `event` + `event_info`."""
    return {
        "event": "webwidget_triggered",
        "id": 77,
        "contact": {"id": 501, "name": "Maria Silva"},
        "inbox": dict(INBOX),
        "account": dict(ACCOUNT),
        "current_conversation": None,
        "source_id": "f1b2c3",
        "event_info": {"initiated_at": {"timestamp": "2026-11-26T14:00:00Z"}, "browser": {}},
    }


def body(payload: Any) -> bytes:
    """The raw bytes Chatwoot would POST."""
    return json.dumps(payload, ensure_ascii=False).encode()
