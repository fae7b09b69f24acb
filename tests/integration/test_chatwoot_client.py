"""ChatwootClient against FakeChatwoot, a real HTTP server: paths, headers, bodies, retries."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import urllib3
from structlog.testing import capture_logs

from hub.chatwoot.client import ChatwootClient
from hub.chatwoot.signature import verify
from hub.exceptions import ChatwootAPIError
from tests.fakes.chatwoot import FakeChatwoot

pytestmark = pytest.mark.integration

TOKEN = "bot-token-Zq81x"
PATH = "/api/v1/accounts/1/conversations/42"


@pytest.fixture
def fake_chatwoot() -> Iterator[FakeChatwoot]:
    """A FakeChatwoot that knows TOKEN as account 1's bot token."""
    with FakeChatwoot(tokens={TOKEN: 1}) as server:
        yield server


@pytest.fixture
def waits() -> list[float]:
    """The delays the client asked to sleep, instead of sleeping."""
    return []


def make_client(url: str | None, waits: list[float], **options: Any) -> ChatwootClient:
    """A client that records its waits and always jitters to the upper bound."""
    return ChatwootClient(url, sleep=waits.append, jitter=lambda low, high: high, **options)


@pytest.fixture
def client(fake_chatwoot: FakeChatwoot, waits: list[float]) -> Iterator[ChatwootClient]:
    with make_client(fake_chatwoot.url, waits, timeout=2) as chatwoot:
        yield chatwoot


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# What Chatwoot receives ----------------------------------------------------


def test_a_reply_is_posted_with_the_token_header_and_the_contract_body(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    message = client.send_message(1, 42, "Temos sim, o FPS 50 custa R$ 89,90.", token=TOKEN)

    (request,) = fake_chatwoot.requests()
    assert request["method"] == "POST"
    assert request["path"] == f"{PATH}/messages"
    assert request["headers"]["api_access_token"] == TOKEN
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"] == {
        "content": "Temos sim, o FPS 50 custa R$ 89,90.",
        "message_type": "outgoing",
        "private": False,
    }
    assert message["id"] > 0
    assert message["content"] == "Temos sim, o FPS 50 custa R$ 89,90."
    assert message["message_type"] == 1


def test_a_private_note_is_a_private_outgoing_message(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    client.send_message(1, 42, "Motivo: cliente pediu um humano", token=TOKEN, private=True)
    (body,) = fake_chatwoot.messages(42)
    assert body == {
        "content": "Motivo: cliente pediu um humano",
        "message_type": "outgoing",
        "private": True,
    }


def test_options_are_sent_as_an_input_select_message(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    items = [{"title": "Sim", "value": "sim"}, {"title": "Não", "value": "nao"}]
    client.send_message(
        1,
        42,
        "Posso ajudar?",
        token=TOKEN,
        content_type="input_select",
        content_attributes={"items": items},
    )
    (body,) = fake_chatwoot.messages()
    assert body["content_type"] == "input_select"
    assert body["content_attributes"] == {"items": items}


def test_handing_off_opens_the_conversation(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    answer = client.toggle_status(1, 42, "open", token=TOKEN)
    (request,) = fake_chatwoot.requests()
    assert request["path"] == f"{PATH}/toggle_status"
    assert request["body"] == {"status": "open"}
    assert answer["payload"]["current_status"] == "open"
    assert fake_chatwoot.conversation(1, 42)["status"] == "open"


def test_each_call_posts_to_its_own_path(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    client.assign(1, 42, token=TOKEN, team_id=4)
    client.add_labels(1, 42, ["handoff", "vip"], token=TOKEN)
    client.toggle_priority(1, 42, "high", token=TOKEN)
    client.toggle_typing(1, 42, True, token=TOKEN)
    client.toggle_status(1, 42, "snoozed", token=TOKEN, snoozed_until=1764200000)
    seen = [(r["path"].rsplit("/", 1)[1], r["body"]) for r in fake_chatwoot.requests()]
    assert seen == [
        ("assignments", {"team_id": 4}),
        ("labels", {"labels": ["handoff", "vip"]}),
        ("toggle_priority", {"priority": "high"}),
        ("toggle_typing_status", {"typing_status": "on"}),
        ("toggle_status", {"status": "snoozed", "snoozed_until": 1764200000}),
    ]
    state = fake_chatwoot.conversation(1, 42)
    assert (state["team_id"], state["labels"], state["priority"], state["typing"]) == (
        4,
        ["handoff", "vip"],
        "high",
        "on",
    )


def test_an_agent_and_a_team_are_both_set_with_two_calls_team_first(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    """`AssignmentsController#create` sets only the agent when a body names both."""
    client.assign(1, 42, token=TOKEN, assignee_id=3, team_id=4)
    bodies = [r["body"] for r in fake_chatwoot.requests("/assignments")]
    assert bodies == [{"team_id": 4}, {"assignee_id": 3}]
    state = fake_chatwoot.conversation(1, 42)
    assert (state["team_id"], state["assignee_id"]) == (4, 3)


def test_the_fake_like_chatwoot_sets_only_the_agent_when_one_body_names_both(
    fake_chatwoot: FakeChatwoot,
) -> None:
    with httpx.Client(base_url=fake_chatwoot.url) as http:
        body = {"assignee_id": 3, "team_id": 4}
        headers = {"api_access_token": TOKEN}
        assert http.post(f"{PATH}/assignments", json=body, headers=headers).status_code == 200
    state = fake_chatwoot.conversation(1, 42)
    assert (state["team_id"], state["assignee_id"]) == (None, 3)


def test_a_priority_is_cleared_with_null_and_the_string_none_is_refused_before_sending(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    """Chatwoot's priority enum is urgent|high|medium|low; nil clears it, "none" is a 422."""
    client.toggle_priority(1, 42, "urgent", token=TOKEN)
    client.toggle_priority(1, 42, None, token=TOKEN)
    assert [r["body"] for r in fake_chatwoot.requests()] == [
        {"priority": "urgent"},
        {"priority": None},
    ]
    assert fake_chatwoot.conversation(1, 42)["priority"] is None
    with pytest.raises(ValueError, match="priority"):
        client.toggle_priority(1, 42, "none", token=TOKEN)  # type: ignore[arg-type]
    assert len(fake_chatwoot.requests()) == 2


def test_the_fake_refuses_a_priority_outside_chatwoots_enum_with_422(
    fake_chatwoot: FakeChatwoot,
) -> None:
    with httpx.Client(base_url=fake_chatwoot.url) as http:
        for priority in ("none", "critical", 3):
            answer = http.post(
                f"{PATH}/toggle_priority",
                json={"priority": priority},
                headers={"api_access_token": TOKEN},
            )
            assert answer.status_code == 422
    assert fake_chatwoot.conversation(1, 42)["priority"] is None


def test_a_bot_token_is_refused_in_any_other_account(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    """`ensure_current_account_helper.rb`: 401, final, and the error says why."""
    with pytest.raises(ChatwootAPIError) as caught:
        client.send_message(2, 42, "Olá!", token=TOKEN)
    assert caught.value.status == 401 and not caught.value.retryable
    assert caught.value.refused and caught.value.call == "send_message"
    assert "Bot is not authorized to access this account" in str(caught.value)
    assert len(fake_chatwoot.requests()) == 1  # not retried
    with pytest.raises(ChatwootAPIError, match="Invalid Access Token"):
        client.send_message(1, 42, "Olá!", token="a-token-nobody-issued")
    assert fake_chatwoot.messages() == []


def test_a_typing_call_is_one_short_attempt(
    fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    """Cosmetic: no retry, no backoff, and a slow Chatwoot is given up on quickly."""
    with make_client(fake_chatwoot.url, waits) as chatwoot:
        fake_chatwoot.fail_next(1, status=503)
        with pytest.raises(ChatwootAPIError):
            chatwoot.toggle_typing(1, 42, True, token=TOKEN)
        assert waits == [] and len(fake_chatwoot.requests()) == 1
        fake_chatwoot.slow_next(1, 3.0, path="/toggle_typing_status")
        started = time.monotonic()
        with pytest.raises(ChatwootAPIError, match="ReadTimeout"):
            chatwoot.toggle_typing(1, 42, False, token=TOKEN)
        assert time.monotonic() - started < 2.9
    fake_chatwoot.wait_for(lambda: fake_chatwoot.serving() == 0)


def test_the_fake_refuses_a_typing_status_chatwoot_does_not_know(
    fake_chatwoot: FakeChatwoot,
) -> None:
    with httpx.Client(base_url=fake_chatwoot.url) as http:
        answer = http.post(
            f"{PATH}/toggle_typing_status",
            json={"typing_status": "maybe"},
            headers={"api_access_token": TOKEN},
        )
    assert answer.status_code == 422


def test_an_empty_success_body_reads_as_an_empty_dict(client: ChatwootClient) -> None:
    assert client.toggle_priority(1, 42, "low", token=TOKEN) == {}


def test_a_chatwoot_served_under_a_path_keeps_that_path_on_every_call(
    fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    # The fake serves the API at its root, so it answers 404: what matters is the path asked.
    with (
        make_client(f"{fake_chatwoot.url}/chatwoot/", waits) as chatwoot,
        pytest.raises(ChatwootAPIError),
    ):
        chatwoot.toggle_status(1, 42, "open", token=TOKEN)
    (request,) = fake_chatwoot.requests()
    assert request["path"] == "/chatwoot/api/v1/accounts/1/conversations/42/toggle_status"


def test_text_beyond_ascii_arrives_as_utf8_json(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    text = "Olá! Não abrimos no domingo 🙂"
    client.send_message(1, 42, text, token=TOKEN)
    (request,) = fake_chatwoot.requests()
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"]["content"] == text


# Retries -------------------------------------------------------------------


def test_server_errors_are_retried_until_chatwoot_accepts(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    fake_chatwoot.fail_next(2, status=500)
    client.send_message(1, 42, "Olá!", token=TOKEN)
    assert [r["status"] for r in fake_chatwoot.requests()] == [500, 500, 200]
    assert len(fake_chatwoot.messages()) == 1
    assert waits == [0.5, 1.0]  # full jitter's upper bounds: base * 2**(attempt - 1)


def test_backoff_is_capped_and_jittered(fake_chatwoot: FakeChatwoot) -> None:
    waits: list[float] = []
    bounds: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        bounds.append((low, high))
        return high / 2

    with ChatwootClient(
        fake_chatwoot.url,
        max_attempts=5,
        backoff_base=1,
        backoff_cap=3,
        sleep=waits.append,
        jitter=jitter,
    ) as chatwoot:
        fake_chatwoot.fail_next(4, status=503)
        chatwoot.send_message(1, 42, "Olá!", token=TOKEN)
    assert bounds == [(0.0, 1), (0.0, 2), (0.0, 3), (0.0, 3)]
    assert waits == [0.5, 1.0, 1.5, 1.5]


def test_a_429_waits_what_retry_after_says(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    fake_chatwoot.fail_next(1, status=429, retry_after=7)
    client.send_message(1, 42, "Olá!", token=TOKEN)
    assert waits == [7.0]
    assert len(fake_chatwoot.messages()) == 1


def test_a_long_retry_after_is_capped(fake_chatwoot: FakeChatwoot, waits: list[float]) -> None:
    fake_chatwoot.fail_next(1, status=429, retry_after=3600)
    with make_client(fake_chatwoot.url, waits, retry_after_cap=30) as chatwoot:
        chatwoot.send_message(1, 42, "Olá!", token=TOKEN)
    assert waits == [30.0]


def test_a_429_without_retry_after_backs_off(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    fake_chatwoot.fail_next(1, status=429)
    client.send_message(1, 42, "Olá!", token=TOKEN)
    assert waits == [0.5]


def test_a_404_is_not_retried(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    fake_chatwoot.fail_next(1, status=404)
    with pytest.raises(ChatwootAPIError) as caught:
        client.send_message(1, 42, "Olá!", token=TOKEN)
    assert caught.value.status == 404
    assert caught.value.retryable is False
    assert "send_message POST /api/v1/accounts/1/conversations/42/messages" in str(caught.value)
    assert len(fake_chatwoot.requests()) == 1
    assert waits == []


def test_a_missing_token_fails_before_any_request(
    fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    with (
        make_client(fake_chatwoot.url, waits) as chatwoot,
        pytest.raises(ChatwootAPIError, match="no api_access_token") as caught,
    ):
        chatwoot.send_message(1, 42, "Olá!", token=None)
    assert caught.value.retryable is False
    assert fake_chatwoot.requests() == []


def test_persistent_server_errors_raise_a_retryable_error(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    fake_chatwoot.fail_next(10, status=502)
    with pytest.raises(ChatwootAPIError) as caught:
        client.toggle_status(1, 42, "open", token=TOKEN)
    assert (caught.value.status, caught.value.retryable) == (502, True)
    assert "after 4 attempts" in str(caught.value)
    assert len(fake_chatwoot.requests()) == 4
    assert len(waits) == 3


def test_a_closed_port_is_retried_then_raises_retryable(waits: list[float]) -> None:
    with (
        make_client(f"http://127.0.0.1:{closed_port()}", waits) as chatwoot,
        pytest.raises(ChatwootAPIError) as caught,
    ):
        chatwoot.send_message(1, 42, "Olá!", token=TOKEN)
    assert caught.value.status is None
    assert caught.value.retryable is True
    assert "ConnectError" in str(caught.value)
    assert len(waits) == 3


def test_a_dropped_connection_is_retried(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    fake_chatwoot.drop_next(1)
    client.send_message(1, 42, "Olá!", token=TOKEN)
    assert len(fake_chatwoot.messages()) == 1
    assert len(waits) == 1


def test_a_slow_chatwoot_times_out_and_is_retried(
    fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    fake_chatwoot.delay_responses(0.5)
    with (
        make_client(fake_chatwoot.url, waits, timeout=0.1, max_attempts=2) as chatwoot,
        pytest.raises(ChatwootAPIError, match="ReadTimeout") as caught,
    ):
        chatwoot.toggle_status(1, 42, "open", token=TOKEN)
    assert caught.value.retryable is True
    assert len(waits) == 1


# A post Chatwoot may have received unheard ------------------------------------


def asked(answer: bool) -> tuple[list[bool], Any]:
    """An `already_sent` that says `answer` and notes each time it is asked."""
    calls: list[bool] = []

    def already_sent() -> bool:
        calls.append(answer)
        return answer

    return calls, already_sent


def test_a_post_chatwoot_stored_but_answered_too_late_is_not_sent_again(
    fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    calls, already_sent = asked(True)
    fake_chatwoot.slow_next(1, 0.5)
    with make_client(fake_chatwoot.url, waits, timeout=0.1) as chatwoot:
        sent = chatwoot.send_message(1, 42, "Olá!", token=TOKEN, already_sent=already_sent)
    assert sent == {}
    assert calls == [True]
    assert len(fake_chatwoot.requests("/messages")) == 1
    assert waits == []


def test_a_post_chatwoot_does_not_have_after_a_dropped_connection_is_sent_again(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    calls, already_sent = asked(False)
    fake_chatwoot.drop_next(1)
    sent = client.send_message(1, 42, "Olá!", token=TOKEN, already_sent=already_sent)
    assert sent["content"] == "Olá!"
    assert calls == [False]
    assert len(fake_chatwoot.messages()) == 1
    assert len(waits) == 1


def test_a_gateway_that_gave_up_on_chatwoot_makes_the_client_ask_before_sending_again(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    calls, already_sent = asked(True)
    fake_chatwoot.fail_next(1, status=504)
    assert client.send_message(1, 42, "Olá!", token=TOKEN, already_sent=already_sent) == {}
    assert calls == [True]
    assert len(fake_chatwoot.requests()) == 1


def test_an_error_chatwoot_answered_or_a_connection_never_made_needs_no_asking(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    calls, already_sent = asked(True)
    fake_chatwoot.fail_next(1, status=503)
    client.send_message(1, 42, "Olá!", token=TOKEN, already_sent=already_sent)
    with (
        make_client(f"http://127.0.0.1:{closed_port()}", waits) as nowhere,
        pytest.raises(ChatwootAPIError, match="ConnectError"),
    ):
        nowhere.send_message(1, 42, "Olá!", token=TOKEN, already_sent=already_sent)
    assert calls == []
    assert len(fake_chatwoot.messages()) == 1


def test_the_token_never_appears_in_errors_or_logs(
    fake_chatwoot: FakeChatwoot, waits: list[float]
) -> None:
    errors: list[ChatwootAPIError] = []
    with capture_logs() as logs:
        for url, failure in [
            (fake_chatwoot.url, 404),
            (fake_chatwoot.url, 500),
            (f"http://127.0.0.1:{closed_port()}", None),
        ]:
            if failure:
                fake_chatwoot.fail_next(4, status=failure)
            with make_client(url, waits) as chatwoot, pytest.raises(ChatwootAPIError) as caught:
                chatwoot.send_message(1, 42, "Olá!", token=TOKEN)
            errors.append(caught.value)
    assert logs, "retries are logged"
    for error in errors:
        assert TOKEN not in str(error)
        assert TOKEN not in repr(error)
        assert error.__cause__ is None or TOKEN not in str(error.__cause__)
    assert TOKEN not in repr(logs)


# Without Chatwoot ----------------------------------------------------------


def test_without_a_base_url_nothing_is_sent_and_the_request_is_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*_: object, **__: object) -> None:
        raise AssertionError("no request may leave without a Chatwoot URL")

    monkeypatch.setattr(urllib3.HTTPConnectionPool, "urlopen", no_network)
    with capture_logs() as logs, ChatwootClient(None) as chatwoot:
        assert chatwoot.send_message(1, 42, "Olá!", token=None) == {}
        assert chatwoot.toggle_status(1, 42, "open", token="t") == {}
    first, second = [line for line in logs if line["log_level"] == "info"]
    assert first["path"] == f"{PATH}/messages"
    assert "body" not in first  # the reply's text: never at INFO
    assert second["path"] == f"{PATH}/toggle_status"
    (shown, _) = [line for line in logs if line["log_level"] == "debug"]
    assert shown["body"] == {"content": "Olá!", "message_type": "outgoing", "private": False}


# Concurrency ---------------------------------------------------------------


def test_one_client_serves_many_threads(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def post(conversation_id: int) -> None:
        for n in range(5):
            message = client.send_message(1, conversation_id, f"resposta {n}", token=TOKEN)
            with lock:
                ids.append(message["id"])

    threads = [threading.Thread(target=post, args=(100 + t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(set(ids)) == 40
    assert all(len(fake_chatwoot.messages(100 + t)) == 5 for t in range(8))


# The fake itself -----------------------------------------------------------


def test_the_fake_refuses_a_request_without_token_and_unknown_paths(
    fake_chatwoot: FakeChatwoot,
) -> None:
    with httpx.Client(base_url=fake_chatwoot.url) as http:
        assert http.post(f"{PATH}/messages", json={"content": "x"}).status_code == 401
        assert (
            http.post(f"{PATH}/unknown", json={}, headers={"api_access_token": "t"}).status_code
            == 404
        )
    assert fake_chatwoot.messages() == []


def test_the_fake_sends_the_bot_a_copy_of_each_message_it_stores_like_chatwoot(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    class Bot(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.rfile.read(int(self.headers["Content-Length"])), self.headers))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    bot = ThreadingHTTPServer(("127.0.0.1", 0), Bot)
    threading.Thread(target=bot.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{bot.server_address[1]}/webhooks/chatwoot"
        webhooks = fake_chatwoot.deliver_webhooks(url, secret="s3", inboxes={1: 11})
        client.toggle_status(1, 42, "open", token=TOKEN)  # no message, no copy
        note = client.send_message(1, 42, "nota", token=TOKEN, private=True)
        assert webhooks.wait_idle()
    finally:
        fake_chatwoot.close()  # its webhooks' connection too
        bot.shutdown()
        bot.server_close()
    ((body, headers),) = received
    verify(
        "s3",
        body=body,
        signature=headers["X-Chatwoot-Signature"],
        timestamp=headers["X-Chatwoot-Timestamp"],
    )
    payload = json.loads(body)
    assert (payload["event"], payload["id"]) == ("message_created", note["id"])
    assert (payload["message_type"], payload["private"], payload["content"]) == (
        "outgoing",
        True,
        "nota",
    )
    assert payload["sender"]["type"] == "agent_bot"
    assert (payload["account"]["id"], payload["inbox"]["id"]) == (1, 11)
    assert (payload["conversation"]["id"], payload["conversation"]["status"]) == (42, "open")
    assert webhooks.deliveries() == [{"message_id": note["id"], "status": 200}]


def test_the_fake_waits_for_requests_and_resets(
    client: ChatwootClient, fake_chatwoot: FakeChatwoot
) -> None:
    later = threading.Timer(0.05, client.send_message, (1, 42, "depois"), {"token": TOKEN})
    later.start()
    assert fake_chatwoot.wait_for(lambda: fake_chatwoot.messages(42), timeout=2)
    later.join(timeout=2)
    assert fake_chatwoot.wait_for(lambda: False, timeout=0.05, raise_on_timeout=False) is False
    with pytest.raises(AssertionError, match="condition not met"):
        fake_chatwoot.wait_for(lambda: False, timeout=0.05)
    fake_chatwoot.reset()
    assert fake_chatwoot.requests() == []
