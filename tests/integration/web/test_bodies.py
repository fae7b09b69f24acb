"""Bodies at the edge: what Chatwoot really sends is taken (long texts cut, not refused),
what can never be parsed is a 400, and no failure after the dedupe claim loses a message
(issue 16 defect 5, issue 17 defect 6)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from hub import defaults
from hub.chatwoot.signature import sign
from hub.conversation.inbound import InboundMessage, cut_text
from hub.conversation.mailbox import Mailbox
from tests.e2e.conftest import SECRET, message_created, post_signed
from tests.integration.web.test_webhooks import make_client
from tests.queue_kit import queued_messages
from workers.answer import Burst

pytestmark = pytest.mark.integration


@pytest.fixture
def client(redis_client: redis.Redis) -> FlaskClient:
    return make_client(redis_client, webhook_secret=SECRET)


def post_raw(client: FlaskClient, body: bytes) -> Any:
    """POST bytes signed as Chatwoot signs them (the signature covers the raw body)."""
    ts = str(int(time.time()))
    return client.post(
        "/webhooks/chatwoot",
        data=body,
        content_type="application/json",
        headers={"X-Chatwoot-Signature": sign(SECRET, ts, body), "X-Chatwoot-Timestamp": ts},
    )


def rails_json(payload: dict[str, Any]) -> bytes:
    """`to_json` as Rails renders it: `<`, `>` and `&` escaped as `\\u003c`…"""
    text = json.dumps(payload, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.encode()


def html_email(conversation_id: int, message_id: int, html_bytes: int) -> dict[str, Any]:
    """An `incoming_email` message as `Message#webhook_data` sends it: the text part as
    content, and the whole e-mail under `content_attributes.email`."""
    paragraph = '<p style="margin:0">Bom dia, segue a lista do pedido &amp; as notas.</p>\n'
    html = paragraph * (html_bytes // len(paragraph))
    text = "Bom dia, segue a lista do pedido & as notas.\n" * (len(html) // 80)
    payload = message_created("retail", conversation_id, message_id, text)
    payload["content_type"] = "incoming_email"
    payload["content_attributes"] = {
        "email": {
            "subject": "Pedido da loja",
            "from": ["maria@example.com"],
            "html_content": {"full": html, "reply": html, "quoted": ""},
            "text_content": {"full": text, "reply": text, "quoted": ""},
        }
    }
    payload["conversation"]["channel"] = "Channel::Email"
    return payload


def test_a_1_mb_html_email_is_accepted_and_its_text_cut_for_the_model(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    body = rails_json(html_email(60, 600, 200_000))
    assert 1_000_000 < len(body) < 1_200_000  # a 420 KB e-mail as Chatwoot sends it
    response = post_raw(client, body)
    assert (response.status_code, response.json["outcome"]) == (200, "queued")
    (message,) = Mailbox(redis_client).pending(3, 60)
    assert 0 < len(message.text) <= defaults.MAX_MESSAGE_CHARS
    assert message.cut_chars > 100_000
    # `hub.conversation.media`: an e-mail is its subject and its reply part
    assert message.text.startswith(
        "Assunto: Pedido da loja\nBom dia, segue a lista do pedido & as notas."
    )


def test_a_body_over_the_limit_is_a_413_naming_the_limit(client: FlaskClient) -> None:
    payload = message_created("retail", 61, 601, "x" * defaults.MAX_WEBHOOK_BYTES)
    response = post_signed(client, payload)
    assert response.status_code == 413
    assert response.json["detail"] == "body over 8 MiB"


def test_the_model_reads_a_note_where_the_text_was_cut() -> None:
    message = InboundMessage(
        domain="retail",
        account_id=3,
        conversation_id=1,
        message_id=1,
        text="Olá",
        cut_chars=1234,
        received_at=0,
    )
    burst = Burst([message], from_mailbox=True, taken_over=False, draft=None)
    assert burst.text == "Olá\n" + defaults.CUT_TEXT_NOTE.format(omitted=1234)
    whole = message.model_copy(update={"cut_chars": 0})
    assert Burst([whole], from_mailbox=True, taken_over=False, draft=None).text == "Olá"


def test_a_text_is_cut_at_a_space_near_the_limit_and_says_how_much_was_left_out() -> None:
    text = "palavra " * 2000
    head, cut = cut_text(text, 1000)
    assert len(head) <= 1000 and head.endswith("palavra")
    assert len(head) + cut == len(text)
    assert cut_text("curta", 1000) == ("curta", 0)
    unbroken = "x" * 5000
    assert cut_text(unbroken, 1000) == ("x" * 1000, 4000)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"event": "message_created", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "deep"),
        (b'{"event": "message_created", "id": ' + b"9" * 5000 + b"}", "digits"),
        (b'{"event": "message_created", "id": 1e999999}', "finite"),
        (b'{"event": "message_created", "id": NaN}', "NaN"),
    ],
    ids=["nested-100000-deep", "integer-of-5000-digits", "infinite-float-id", "nan-literal"],
)
def test_a_body_that_cannot_be_parsed_is_a_400_not_a_500(
    client: FlaskClient, body: bytes, detail: str
) -> None:
    response = post_raw(client, body)
    assert response.status_code == 400
    assert detail in response.json["detail"]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("id",), -1),
        (("id",), 2**63),
        (("account", "id"), -5),
        (("conversation", "id"), 2**64 + 1),
        (("inbox", "id"), 2**70),
        (("sender", "id"), -1),
    ],
)
def test_an_id_outside_chatwoots_range_is_a_400_at_the_edge(
    client: FlaskClient, redis_client: redis.Redis, where: tuple[str, ...], value: int
) -> None:
    payload = message_created("retail", 62, 602, "oi")
    target = payload
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    response = post_signed(client, payload)
    assert response.status_code == 400
    assert ".".join(where) in response.json["detail"]
    assert queued_messages(redis_client, "retail") == 0


def test_the_largest_id_chatwoot_can_hold_is_accepted(client: FlaskClient) -> None:
    payload = message_created("retail", 63, 2**63 - 1, "oi")
    assert post_signed(client, payload).json["outcome"] == "queued"


def test_a_lone_surrogate_in_the_text_is_replaced_and_the_message_queued(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    body = json.dumps(message_created("retail", 64, 604, "Oi PLACEHOLDER tudo bem?")).encode()
    body = body.replace(b"PLACEHOLDER", b"\\ud83d")  # half of an emoji's surrogate pair
    response = post_raw(client, body)
    assert response.json["outcome"] == "queued"
    (message,) = Mailbox(redis_client).pending(3, 64)
    assert message.text == "Oi \ufffd tudo bem?"


def test_a_valid_surrogate_pair_stays_the_character_it_encodes(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    body = json.dumps(message_created("retail", 65, 605, "Obrigada 😀")).encode()
    assert b"\\ud83d\\ude00" in body
    assert post_raw(client, body).json["outcome"] == "queued"
    assert Mailbox(redis_client).pending(3, 65)[0].text == "Obrigada 😀"


def test_any_failure_after_the_dedupe_claim_releases_it_so_the_retry_is_queued(
    client: FlaskClient, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = message_created("retail", 66, 606, "oi")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(Mailbox, "push", broken)
    response = post_signed(client, payload)
    assert (response.status_code, response.json["outcome"]) == (500, "error")
    monkeypatch.undo()
    retried = post_signed(client, payload)
    assert retried.json["outcome"] == "queued"
    assert queued_messages(redis_client, "retail") == 1
