"""Chatwoot as it really behaves, end to end: signed webhook → receiver → worker → fake Chatwoot.

The payloads are shaped as Chatwoot's own code builds them (`Message#webhook_data`
with the conversation of `Conversations::EventDataPresenter#push_data`), and the
fake Chatwoot enforces what its bot API does: a token only in its own account,
labels that replace the list, the typing endpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from hub.conversation.deadletter import KEY as DEADLETTER_KEY
from tests.e2e.conftest import ACCOUNTS, TOKENS, WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot, RecordedRequest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BOT_ASSIGNEE = {"id": 1, "name": "ChatwootAI", "avatar_url": "", "type": "agent_bot"}
"""`meta.assignee` of a conversation assigned to the agent bot (`assignee_agent_bot`)."""


def public_posts(fake: FakeChatwoot, conversation_id: int) -> list[RecordedRequest]:
    """The bot's public messages Chatwoot stored in the conversation."""
    return [
        r
        for r in fake.requests(f"/conversations/{conversation_id}/messages")
        if 200 <= r["status"] < 300 and not r["body"].get("private")
    ]


def notes(fake: FakeChatwoot, conversation_id: int) -> list[str]:
    return [m["content"] for m in fake.messages(conversation_id) if m.get("private")]


def log_events(worker: WorkerProcess, event: str) -> list[dict[str, Any]]:
    """The worker's JSON log lines whose event is `event`."""
    found = []
    for line in list(worker.output):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == event:
            found.append(entry)
    return found


def test_a_conversation_switched_to_a_domain_of_another_account_is_answered_with_its_accounts_token(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """An agent adds `domain-health` to an account-1 conversation (`Message#webhook_data`,
    `conversation.labels` from `Conversations::EventDataPresenter#push_data`): the
    clinic answers, and Chatwoot takes the reply only with account 1's bot token
    (`ensure_current_account_helper.rb`)."""
    start_worker()
    payload = message_created("cosmetics", 7101, 71001, "Vocês aceitam o convênio Hapvida?")
    payload["conversation"]["labels"] = ["domain-health"]
    response = post_signed(receiver_client, payload)
    assert response.json["domain"] == "health"

    fake_chatwoot.wait_for(lambda: public_posts(fake_chatwoot, 7101), timeout=30)
    (reply,) = public_posts(fake_chatwoot, 7101)
    assert reply["path"] == "/api/v1/accounts/1/conversations/7101/messages"
    assert reply["headers"]["api_access_token"] == TOKENS["cosmetics"]
    assert "Hapvida" in reply["body"]["content"]
    assert [r for r in fake_chatwoot.requests() if r["status"] == 401] == []


def test_a_token_chatwoot_refuses_ends_in_an_error_line_an_operator_sees(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    redis_client: redis.Redis,
) -> None:
    """The retail token variable holds the clinic's bot token (account 2): Chatwoot
    answers 401 "Bot is not authorized to access this account", final. The message is
    dead-lettered and the worker says so at ERROR, with the ids and without the token."""
    worker = start_worker(env={"CHATWOOTAI_RETAIL_TOKEN": TOKENS["health"]})
    post_signed(receiver_client, message_created("retail", 7201, 72001, "Qual o horário?"))

    fake_chatwoot.wait_for(lambda: redis_client.llen(DEADLETTER_KEY) == 1, timeout=30)
    refused = fake_chatwoot.requests("/conversations/7201/messages")
    assert refused and {r["status"] for r in refused} == {401}
    deadline = time.monotonic() + 10
    while not log_events(worker, "chatwoot refused the bot's call"):
        assert time.monotonic() < deadline, "".join(worker.output[-20:])
        time.sleep(0.1)
    (line,) = log_events(worker, "chatwoot refused the bot's call")
    assert line["level"] == "error"
    assert (line["account_id"], line["conversation_id"], line["status"]) == (3, 7201, 401)
    assert line["call"] == "send_message"
    assert "not a bot token of this Chatwoot account" in line["hint"]
    assert "Bot is not authorized to access this account" in line["error"]
    assert TOKENS["health"] not in "".join(worker.output)


def test_a_handoff_adds_its_label_to_the_labels_the_conversation_has(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """Chatwoot's labels create replaces the whole list (`label_concern.rb`,
    `Labelable#update_labels`): the handoff sends the labels the webhook carried
    (`Conversations::EventDataPresenter#push_data` `labels`) plus its own."""
    start_worker()
    payload = message_created("cosmetics", 7301, 73001, "Quero falar com um atendente")
    payload["conversation"]["labels"] = ["vip", "black-friday"]
    post_signed(receiver_client, payload)

    fake_chatwoot.wait_for(lambda: fake_chatwoot.requests("/conversations/7301/labels"))
    (labels,) = fake_chatwoot.requests("/conversations/7301/labels")
    assert labels["body"] == {"labels": ["vip", "black-friday", "atendimento-humano"]}
    assert labels["headers"]["api_access_token"] == TOKENS["cosmetics"]
    state = fake_chatwoot.conversation(1, 7301)
    assert state["labels"] == ["vip", "black-friday", "atendimento-humano"]
    assert state["status"] == "open"


def test_a_handoff_whose_webhook_carried_no_labels_wipes_none_and_tells_the_team(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """A payload without `conversation.labels`: a bot token cannot read the conversation
    (`BOT_ACCESSIBLE_ENDPOINTS` has no show), so writing the list could wipe labels;
    nothing is written and a private note names the label to add."""
    start_worker()
    payload = message_created("cosmetics", 7401, 74001, "Quero falar com um atendente")
    del payload["conversation"]["labels"]
    post_signed(receiver_client, payload)

    fake_chatwoot.wait_for(lambda: len(notes(fake_chatwoot, 7401)) == 2, timeout=30)
    assert fake_chatwoot.requests("/conversations/7401/labels") == []
    assert "atendimento-humano" in notes(fake_chatwoot, 7401)[1]
    assert fake_chatwoot.conversation(1, 7401)["status"] == "open"


def test_a_reply_typed_on_the_whatsapp_business_app_silences_the_bot(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """`Message#webhook_data` of a reply typed on the phone's own app: outgoing, no
    sender, `content_attributes.external_echo`; `Message#human_response?` counts it as
    a human's, so the bot stays silent afterwards."""
    start_worker()
    post_signed(receiver_client, message_created("retail", 7501, 75001, "Qual o horário?"))
    fake_chatwoot.wait_for(lambda: public_posts(fake_chatwoot, 7501), timeout=30)

    echo = message_created(
        "retail", 7501, 75002, "Oi! Aqui é a Joana da loja.", message_type="outgoing"
    )
    echo["sender"] = None
    echo["content_attributes"] = {"external_echo": True}
    echo["conversation"]["messages"][0]["message_type"] = 1
    response = post_signed(receiver_client, echo)
    assert response.json == {
        "outcome": "ignored",
        "detail": "a human replied from the business phone's app",
    }

    response = post_signed(receiver_client, message_created("retail", 7501, 75003, "E no domingo?"))
    assert response.json["outcome"] == "ignored"
    assert "taken over" in response.json["detail"]
    time.sleep(1.5)  # a worker that still answered would have posted by now
    assert len(public_posts(fake_chatwoot, 7501)) == 1


def test_an_open_conversation_assigned_to_the_bot_is_answered(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """`Conversations::EventDataPresenter#push_data` of a conversation Chatwoot gave the
    bot: `status: open`, `meta.assignee` the agent bot (`assignee_agent_bot`)."""
    start_worker()
    payload = message_created("retail", 7601, 76001, "Qual o horário?", status="open")
    payload["conversation"]["meta"]["assignee"] = BOT_ASSIGNEE
    response = post_signed(receiver_client, payload)
    assert response.json["outcome"] == "queued", response.json

    fake_chatwoot.wait_for(lambda: public_posts(fake_chatwoot, 7601), timeout=30)
    (reply,) = public_posts(fake_chatwoot, 7601)
    assert "10:00" in reply["body"]["content"]


def test_typing_shows_while_the_crew_composes_and_goes_once_the_reply_is_posted(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """`toggle_typing_status` (a bot may call it): on before the crew's reply, off after."""
    start_worker()
    post_signed(receiver_client, message_created("retail", 7701, 77001, "Qual o horário?"))

    fake_chatwoot.wait_for(
        lambda: fake_chatwoot.conversation(3, 7701)["typing_changes"] == ["on", "off"], timeout=30
    )
    on, off = fake_chatwoot.requests("/conversations/7701/toggle_typing_status")
    (reply,) = public_posts(fake_chatwoot, 7701)
    assert on["time"] <= reply["time"] <= off["time"]
    assert on["headers"]["api_access_token"] == TOKENS["retail"]


def test_a_failing_typing_endpoint_never_keeps_the_reply_from_the_customer(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """A Chatwoot older than the typing endpoint answers 404: the reply goes out, once,
    and that account's typing is not asked again by the worker."""
    fake_chatwoot.fail_next(10, status=404, path="/toggle_typing_status")
    start_worker()
    post_signed(receiver_client, message_created("retail", 7801, 78001, "Qual o horário?"))
    fake_chatwoot.wait_for(lambda: public_posts(fake_chatwoot, 7801), timeout=30)
    post_signed(receiver_client, message_created("retail", 7802, 78002, "Qual o horário?"))
    fake_chatwoot.wait_for(lambda: public_posts(fake_chatwoot, 7802), timeout=30)
    typing = fake_chatwoot.requests("/toggle_typing_status")
    assert [r["status"] for r in typing] == [404]  # the first turn's "on"; nothing after
    assert len(public_posts(fake_chatwoot, 7801)) == len(public_posts(fake_chatwoot, 7802)) == 1


def test_an_emergency_rule_replies_at_once_without_typing(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    """A domain rule's reply needs no crew: no "typing…" before it."""
    start_worker()
    account, _ = ACCOUNTS["health"]
    post_signed(
        receiver_client, message_created("health", 7901, 79001, "Meu pai está com dor no peito")
    )
    fake_chatwoot.wait_for(lambda: fake_chatwoot.conversation(account, 7901)["status"] == "open")
    assert fake_chatwoot.requests("/conversations/7901/toggle_typing_status") == []
