"""The worker's handling of one message, in process: replies, failures, retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from werkzeug.serving import make_server

from hub.chatwoot.client import ChatwootClient
from hub.conversation.handoff import handoff_message
from hub.conversation.inbound import InboundMessage
from hub.conversation.lock import ConversationLocks
from hub.conversation.replies import ReplyLedger
from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAPIError, DomainNotFoundError
from hub.queue import create_celery
from hub.settings import Settings
from hub.store.database import connection_scope
from hub.store.traces import recent_turns
from hub.web import Receiver, create_app
from tests.conftest import SAMPLE_DOMAINS, TEST_REDIS_URL
from tests.fakes.bot_webhooks import BotWebhooks
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.openai_server import FakeOpenAI
from tests.perf.tenant_farm import build_farm, write_tenant
from workers import history
from workers.answer import Handled, domain_of
from workers.handler import handle
from workers.runtime import WorkerRuntime

pytestmark = pytest.mark.integration


def inbound(text: str, message_id: int = 1, conversation_id: int = 50) -> InboundMessage:
    return InboundMessage(
        domain="retail",
        account_id=3,
        conversation_id=conversation_id,
        inbox_id=31,
        message_id=message_id,
        text=text,
        contact_name="Maria",
        channel="Channel::Whatsapp",
        received_at=time.time(),
        labels=(),  # the webhook said: no labels yet
    )


@pytest.fixture
def make_runtime(
    tmp_path: Path,
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[object]:
    monkeypatch.setenv("CHATWOOTAI_RETAIL_TOKEN", "token-casa")
    fake_chatwoot.bot_token("token-casa", 3)
    built: list[WorkerRuntime] = []

    def make(**overrides: object) -> WorkerRuntime:
        settings = Settings(
            **{
                "redis_url": TEST_REDIS_URL,
                "chatwoot_url": fake_chatwoot.url,
                "domains_dir": SAMPLE_DOMAINS,
                "data_dir": tmp_path,
                **overrides,
            }
        )  # type: ignore[arg-type]
        runtime = WorkerRuntime.build(settings)
        runtime.chatwoot = type(runtime.chatwoot)(fake_chatwoot.url, sleep=lambda _: None)
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.chatwoot.close()


def test_the_offline_model_replies_once_even_if_the_message_comes_again(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    assert handle(runtime, inbound("Qual o horário de funcionamento?")).status == "replied"
    assert handle(runtime, inbound("Qual o horário de funcionamento?")).status == "duplicate"
    (reply,) = fake_chatwoot.messages(conversation_id=50)
    assert "10:00" in reply["content"] and "22:00" in reply["content"]


def test_the_worker_records_each_turn_with_its_trace(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    assert handle(runtime, inbound("Qual o horário de funcionamento?")).status == "replied"
    assert handle(runtime, inbound("Quero falar com um atendente", message_id=2)).status == (
        "handed_off"
    )
    with connection_scope(runtime.factory.engine, read_only=True) as connection:
        handoff, reply = recent_turns(connection, "retail")
    assert reply.trace is not None and reply.trace["route"] == reply.route
    assert reply.trace["routed_by"] == "classifier"
    assert reply.trace["model"] == "offline"
    assert reply.trace["passages"], reply.trace  # the documents the offline model quoted
    assert reply.trace["channel"] == "Channel::Whatsapp"
    assert (reply.handoff_kind, reply.failure, reply.rejected) == (None, None, False)
    assert handoff.handoff_kind == "customer_asked"
    assert handoff.trace is not None and handoff.trace["handoff"]["kind"] == "customer_asked"


def test_a_turn_that_cannot_be_recorded_is_still_confirmed_and_never_posted_twice(
    make_runtime: object,
    fake_chatwoot: FakeChatwoot,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> None:
        raise ValueError("a bug in the turn record")

    monkeypatch.setattr(history, "record_turn", broken)
    runtime = make_runtime()  # type: ignore[operator]
    assert handle(runtime, inbound("Qual o horário de funcionamento?", 7)).status == "replied"
    assert runtime.locks.holder(3, 50) is None
    assert not redis_client.exists(runtime.mailbox.key(3, 50))
    assert handle(runtime, inbound("Qual o horário de funcionamento?", 7)).status == "duplicate"
    assert len(fake_chatwoot.messages(conversation_id=50)) == 1


def test_a_real_model_answers_through_an_openai_compatible_server(
    make_runtime: object, fake_chatwoot: FakeChatwoot, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _messages: "Final Answer: Abrimos às 10:00, até as 22:00."
    runtime = make_runtime(
        llm="openai/local-model",
        llm_base_url=fake_openai.url,  # type: ignore[operator]
        llm_api_key="sk-local",
    )
    handled = handle(runtime, inbound("Qual o horário de funcionamento?"))
    assert handled.status == "replied"
    assert handled.route == "support"
    assert fake_chatwoot.messages(conversation_id=50)[0]["content"] == (
        "Abrimos às 10:00, até as 22:00."
    )
    tokens = runtime.redis.hgetall("chatwootai:metrics:model_tokens")
    assert tokens == {"retail|prompt": "50", "retail|completion": "10"}  # what the server reported
    request = fake_openai.requests[0]
    assert request["body"]["model"] == "local-model"
    assert request["body"]["max_tokens"] == 1024
    assert request["headers"]["Authorization"] == "Bearer sk-local"
    prompt = " ".join(str(m["content"]) for m in request["body"]["messages"])
    assert "Qual o horário de funcionamento?" in prompt


@pytest.mark.parametrize("failure", ["error", "timeout"])
def test_a_failing_model_gets_the_fallback_message_and_a_handoff(
    failure: str, make_runtime: object, fake_chatwoot: FakeChatwoot, fake_openai: FakeOpenAI
) -> None:
    if failure == "error":
        fake_openai.fail_status = 500
    else:
        fake_openai.delay_seconds = 3
    runtime = make_runtime(
        llm="openai/local-model",
        llm_base_url=fake_openai.url,  # type: ignore[operator]
        llm_api_key="sk-local",
        llm_timeout_seconds=0.5,
    )
    handled = handle(runtime, inbound("Qual o horário de funcionamento?"))
    assert handled.status == "handed_off"
    customer, note = fake_chatwoot.messages(conversation_id=50)
    assert customer["content"] == runtime.registry.get("retail").spec.messages.fallback
    assert note["private"] is True and "Motivo" in note["content"]
    statuses = fake_chatwoot.requests("/conversations/50/toggle_status")
    assert [r["body"] for r in statuses] == [{"status": "open"}]
    assert runtime.takeover.active(3, 50)
    assert handle(runtime, inbound("Alô?", message_id=2)).status == "silent"


def test_a_chatwoot_outage_keeps_the_draft_and_the_retry_posts_it_without_rerunning(
    make_runtime: object, fake_chatwoot: FakeChatwoot, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _messages: "Final Answer: Abrimos às 10:00."
    runtime = make_runtime(
        llm="openai/local-model",
        llm_base_url=fake_openai.url,  # type: ignore[operator]
        llm_api_key="sk-local",
    )
    fake_chatwoot.fail_next(10, status=503, path="/messages")
    with pytest.raises(ChatwootAPIError) as caught:
        handle(runtime, inbound("Qual o horário?"))
    assert caught.value.retryable
    calls = len(fake_openai.requests)
    fake_chatwoot.reset()
    assert handle(runtime, inbound("Qual o horário?")).status == "replied"
    assert len(fake_openai.requests) == calls, "the crew ran again"
    assert fake_chatwoot.messages(conversation_id=50)[0]["content"] == "Abrimos às 10:00."


def test_a_human_takeover_silences_the_bot(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    runtime.takeover.mark(3, 50, "agent replied")
    assert handle(runtime, inbound("Oi?")).status == "silent"
    assert fake_chatwoot.messages() == []


def test_a_handoff_interrupted_by_chatwoot_resumes_without_repeating_the_customer_message(
    make_runtime: object, fake_chatwoot: FakeChatwoot, fake_openai: FakeOpenAI
) -> None:
    fake_openai.fail_status = 500
    runtime = make_runtime(  # type: ignore[operator]
        llm="openai/local-model", llm_base_url=fake_openai.url, llm_api_key="sk-local"
    )
    original = runtime.chatwoot.toggle_status
    calls = {"n": 0}

    def flaky_toggle(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ChatwootAPIError("toggle_status: HTTP 503", status=503, retryable=True)
        return original(*args, **kwargs)

    runtime.chatwoot.toggle_status = flaky_toggle
    with pytest.raises(ChatwootAPIError):
        handle(runtime, inbound("Qual o horário?"))
    model_calls = len(fake_openai.requests)
    assert handle(runtime, inbound("Qual o horário?")).status == "handed_off"
    assert len(fake_openai.requests) == model_calls, "the crew ran again"
    customer, note = fake_chatwoot.messages(conversation_id=50)
    assert not customer["private"] and note["private"]
    assert len(fake_chatwoot.requests("/conversations/50/toggle_status")) == 1


def test_asking_for_a_person_hands_off_and_the_bot_stays_silent_afterwards(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    assert handle(runtime, inbound("quero falar com um atendente")).status == "handed_off"
    customer, note = fake_chatwoot.messages(conversation_id=50)
    # The handoff text, or the after-hours one when the test runs while the shops are closed.
    assert customer["content"] == handoff_message(runtime.registry.get("retail"))
    assert note["private"] and "pediu atendimento humano" in note["content"]
    assert [r["body"] for r in fake_chatwoot.requests("/conversations/50/toggle_status")] == [
        {"status": "open"}
    ]
    assert handle(runtime, inbound("Alô?", message_id=2)).status == "silent"
    assert len(fake_chatwoot.messages(conversation_id=50)) == 2


def test_an_emergency_at_the_clinic_is_handed_off_as_urgent_without_a_model(
    make_runtime: object,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATWOOTAI_HEALTH_TOKEN", "token-clinica")
    fake_chatwoot.bot_token("token-clinica", 2)
    runtime = make_runtime(  # type: ignore[operator]
        llm="openai/local-model", llm_base_url=fake_openai.url, llm_api_key="sk-local"
    )
    message = InboundMessage(
        domain="health",
        account_id=2,
        conversation_id=60,
        inbox_id=21,
        message_id=1,
        text="Socorro, meu pai está com dor no peito",
        received_at=time.time(),
        labels=(),  # the webhook said: no labels yet
    )
    assert handle(runtime, message).status == "handed_off"
    assert fake_openai.requests == []
    customer, _note = fake_chatwoot.messages(conversation_id=60)
    assert "192" in customer["content"]
    priorities = fake_chatwoot.requests("/conversations/60/toggle_priority")
    assert [r["body"] for r in priorities] == [{"priority": "urgent"}]
    assert priorities[0]["headers"]["api_access_token"] == "token-clinica"


def test_the_next_prompt_remembers_the_earlier_turns(
    make_runtime: object, fake_chatwoot: FakeChatwoot, fake_openai: FakeOpenAI
) -> None:
    answers = iter(["Abrimos às 10:00.", "No domingo, das 14:00 às 20:00."])
    fake_openai.responder = lambda _messages: next(answers)
    runtime = make_runtime(  # type: ignore[operator]
        llm="openai/local-model", llm_base_url=fake_openai.url, llm_api_key="sk-local"
    )
    assert handle(runtime, inbound("Qual o horário de funcionamento?")).status == "replied"
    assert handle(runtime, inbound("E no domingo, qual o horário?", message_id=2)).status == (
        "replied"
    )
    second_prompt = " ".join(
        str(m["content"]) for m in fake_openai.requests[-1]["body"]["messages"]
    )
    assert "Cliente: Qual o horário de funcionamento?" in second_prompt
    assert "Atendente: Abrimos às 10:00." in second_prompt


def arrive(runtime: WorkerRuntime, text: str, message_id: int) -> InboundMessage:
    """What the receiver does with an accepted message: into the conversation's mailbox."""
    message = inbound(text, message_id=message_id)
    runtime.mailbox.push(message)
    return message


def until_answered(runtime: WorkerRuntime, message: InboundMessage) -> Handled:
    """What Celery does with a deferred message: run its recheck after the delay."""
    handled = handle(runtime, message)
    while handled.status == "deferred":
        assert handled.recheck is not None and 0 < handled.delay <= 20
        time.sleep(handled.delay)
        handled = handle(runtime, handled.recheck)
    return handled


def test_a_burst_of_messages_gets_one_reply_that_covers_all_of_them(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime(burst_window_seconds=0.3)  # type: ignore[operator]
    burst = [
        arrive(runtime, "Oi, boa tarde", 1),
        arrive(runtime, "Qual o horário de funcionamento?", 2),
        arrive(runtime, "E qual o endereço da loja de Moema?", 3),
    ]
    first = handle(runtime, burst[0])
    assert (first.status, first.recheck) == ("deferred", burst[2])  # the newest comes back
    assert runtime.locks.holder(3, 50) is None  # no thread holds the conversation meanwhile
    handled = until_answered(runtime, burst[0])
    assert (handled.status, handled.messages) == ("replied", 3)
    (reply,) = fake_chatwoot.messages(conversation_id=50)
    assert "10:00" in reply["content"] and "Ibirapuera" in reply["content"]
    assert [handle(runtime, m).status for m in burst[1:]] == ["duplicate", "duplicate"]
    assert runtime.mailbox.pending(3, 50) == []
    assert runtime.locks.holder(3, 50) is None


def test_the_bot_waits_for_a_customer_who_is_still_typing(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime(burst_window_seconds=0.6)  # type: ignore[operator]
    first = arrive(runtime, "Oi", 1)

    def type_more() -> None:
        time.sleep(0.3)
        arrive(runtime, "Qual o horário de funcionamento?", 2)

    typist = threading.Thread(target=type_more)
    typist.start()
    handled = until_answered(runtime, first)
    typist.join()
    assert (handled.status, handled.messages) == ("replied", 2)
    (reply,) = fake_chatwoot.messages(conversation_id=50)
    assert "10:00" in reply["content"]


def test_a_message_sent_while_the_crew_runs_is_answered_in_a_new_turn_not_a_stale_reply(
    make_runtime: object, fake_chatwoot: FakeChatwoot, fake_openai: FakeOpenAI
) -> None:
    runtime = make_runtime(  # type: ignore[operator]
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="sk-local",
        burst_window_seconds=0,
    )

    def answer(messages: list[dict[str, object]]) -> str:
        prompt = " ".join(str(m["content"]) for m in messages)
        if len(fake_openai.requests) == 1:  # the customer writes again while this runs
            arrive(runtime, "Ah, e no domingo?", 2)
        return "Domingo das 14:00 às 20:00." if "domingo" in prompt else "Das 10:00 às 22:00."

    fake_openai.responder = answer
    first = arrive(runtime, "Qual o horário de funcionamento?", 1)
    handled = handle(runtime, first)
    assert (handled.status, handled.messages) == ("replied", 2)
    (reply,) = fake_chatwoot.messages(conversation_id=50)
    assert reply["content"] == "Domingo das 14:00 às 20:00."


def test_a_conversation_another_worker_holds_is_left_to_it_with_its_message_kept(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime(burst_window_seconds=0)  # type: ignore[operator]
    other_worker = ConversationLocks(runtime.redis).acquire(3, 50)
    assert other_worker is not None
    message = arrive(runtime, "Qual o horário de funcionamento?", 1)
    assert handle(runtime, message).status == "busy"
    assert fake_chatwoot.messages() == []
    assert runtime.mailbox.pending(3, 50) == [message]
    other_worker.release()
    assert handle(runtime, message).status == "replied"


def test_messages_that_came_while_the_holder_answered_are_answered_before_it_lets_go(
    make_runtime: object, fake_chatwoot: FakeChatwoot, fake_openai: FakeOpenAI
) -> None:
    runtime = make_runtime(  # type: ignore[operator]
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="sk-local",
        burst_window_seconds=0,
    )

    def answer(_messages: list[dict[str, object]]) -> str:
        return f"Resposta {len(fake_openai.requests)}"

    fake_openai.responder = answer
    original = runtime.chatwoot.send_message

    def post_then_more_arrive(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)
        if len(fake_chatwoot.messages(conversation_id=50)) == 1:
            arrive(runtime, "Qual o horário de funcionamento?", 2)
        return result

    runtime.chatwoot.send_message = post_then_more_arrive
    first = arrive(runtime, "Qual o endereço da loja de Moema?", 1)
    assert handle(runtime, first).status == "replied"
    first_reply, second_reply = fake_chatwoot.messages(conversation_id=50)
    assert first_reply["content"] != second_reply["content"]  # two turns, in order
    assert runtime.locks.holder(3, 50) is None


def test_a_customer_who_says_yes_to_the_offer_of_a_person_is_handed_off(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    unknown = runtime.registry.get("retail").spec.messages.unknown
    assert handle(runtime, inbound("Vocês consertam bicicletas elétricas?")).status == "replied"
    assert fake_chatwoot.messages(conversation_id=50)[0]["content"] == unknown
    handled = handle(runtime, inbound("Sim, por favor", message_id=2))
    assert handled.status == "handed_off"
    assert "aceitou a oferta" in handled.reason
    assert runtime.takeover.active(3, 50)


def test_two_unanswered_turns_in_a_row_hand_the_conversation_to_a_person(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    assert handle(runtime, inbound("Vocês consertam bicicletas elétricas?")).status == "replied"
    handled = handle(runtime, inbound("E vocês alugam caminhões de mudança?", message_id=2))
    assert handled.status == "handed_off"
    assert handled.reason == "o bot não soube responder 2 vezes seguidas"
    customer = fake_chatwoot.messages(conversation_id=50)[1]
    assert customer["content"] == handoff_message(runtime.registry.get("retail"))


def test_an_answered_turn_resets_the_count_of_misses(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    assert handle(runtime, inbound("Vocês consertam bicicletas elétricas?")).status == "replied"
    assert runtime.misses.count(3, 50) == 1
    assert handle(runtime, inbound("Qual o horário de funcionamento?", 2)).status == "replied"
    assert runtime.misses.count(3, 50) == 0
    assert handle(runtime, inbound("E vocês alugam caminhões?", 3)).status == "replied"


def test_a_long_whatsapp_reply_cut_in_parts_resumes_after_a_chatwoot_failure_without_repeats(
    make_runtime: object,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATWOOTAI_COSMETICS_TOKEN", "token-bela")
    fake_chatwoot.bot_token("token-bela", 1)
    # Facts-free, so the reply gate lets it through as the model wrote it.
    long_reply = " ".join(f"O item {i} está na vitrine {i} da loja." for i in range(120))
    fake_openai.responder = lambda _messages: f"Final Answer: {long_reply}"
    runtime = make_runtime(  # type: ignore[operator]
        llm="openai/local-model", llm_base_url=fake_openai.url, llm_api_key="sk-local"
    )
    message = InboundMessage(
        domain="cosmetics",
        account_id=1,
        conversation_id=70,
        inbox_id=11,
        message_id=1,
        text="Quais os preços?",
        contact_name="Maria",
        channel="Channel::Whatsapp",
        received_at=time.time(),
        labels=(),  # the webhook said: no labels yet
    )
    original = runtime.chatwoot.send_message
    sent = {"n": 0}

    def fails_on_the_second_part(*args: object, **kwargs: object) -> object:
        sent["n"] += 1
        if sent["n"] == 2:
            raise ChatwootAPIError("send_message: HTTP 503", status=503, retryable=True)
        return original(*args, **kwargs)

    runtime.chatwoot.send_message = fails_on_the_second_part
    with pytest.raises(ChatwootAPIError):
        handle(runtime, message)
    model_calls = len(fake_openai.requests)
    assert handle(runtime, message).status == "replied"
    assert len(fake_openai.requests) == model_calls, "the crew ran again"
    parts = [m["content"] for m in fake_chatwoot.messages(conversation_id=70)]
    assert len(parts) >= 3 and all(len(part) <= 1000 for part in parts)
    assert len(set(parts)) == len(parts), "a part was posted twice"
    for item in ("O item 0 está", "O item 60 está", "O item 119 está"):
        assert sum(item in part for part in parts) == 1


def test_a_tool_whose_database_is_down_ends_the_turn_with_the_fallback_and_a_handoff(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime(  # type: ignore[operator]
        database_url="postgresql+psycopg2://nobody@127.0.0.1:1/none"
    )
    handled = handle(runtime, inbound("Qual o status do pedido CC-2026-00020?"))
    assert handled.status == "handed_off"
    assert "ferramenta indisponível: order_status: OperationalError" in handled.reason
    customer, note = fake_chatwoot.messages(conversation_id=50)
    assert customer["content"] == runtime.registry.get("retail").spec.messages.fallback
    assert note["private"] and "order_status" in note["content"]
    assert runtime.redis.hget("chatwootai:metrics:failures", "retail|tool_error") == "1"


@pytest.fixture
def bot_webhooks(
    tmp_path: Path, redis_client: redis.Redis, fake_chatwoot: FakeChatwoot
) -> Iterator[BotWebhooks]:
    """The receiver over HTTP, and the fake Chatwoot sending it a copy of every message
    stored, as Chatwoot sends an agent bot its own messages."""
    settings = Settings(redis_url=TEST_REDIS_URL, domains_dir=SAMPLE_DOMAINS, data_dir=tmp_path)
    receiver = Receiver(
        settings, redis_client, DomainRegistry(SAMPLE_DOMAINS), create_celery(settings)
    )
    server = make_server("127.0.0.1", 0, create_app({"RECEIVER": receiver}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake_chatwoot.deliver_webhooks(f"http://127.0.0.1:{server.server_port}/webhooks/chatwoot")
    server.shutdown()
    thread.join(timeout=5)


def impatient(runtime: WorkerRuntime, fake_chatwoot: FakeChatwoot) -> None:
    """A Chatwoot client that gives up on an answer after 0.3 s."""
    runtime.chatwoot.close()
    runtime.chatwoot = ChatwootClient(fake_chatwoot.url, timeout=0.3, sleep=lambda _: None)


def test_a_reply_chatwoot_stored_but_answered_too_late_is_not_posted_twice(
    make_runtime: object, fake_chatwoot: FakeChatwoot, bot_webhooks: BotWebhooks
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    impatient(runtime, fake_chatwoot)
    fake_chatwoot.slow_next(
        1, 0.6, path="/messages"
    )  # stored, but the client has stopped listening
    assert handle(runtime, inbound("Qual o horário de funcionamento?")).status == "replied"
    (reply,) = fake_chatwoot.messages(conversation_id=50)
    assert "10:00" in reply["content"]
    assert len(fake_chatwoot.requests("/messages")) == 1, "the post was sent again"
    assert handle(runtime, inbound("Qual o horário de funcionamento?")).status == "duplicate"


def test_a_reply_chatwoot_never_got_is_posted_again_once_its_copy_does_not_come(
    make_runtime: object, fake_chatwoot: FakeChatwoot, bot_webhooks: BotWebhooks
) -> None:
    runtime = make_runtime()  # type: ignore[operator]
    runtime.replies.echoes.wait_seconds = 0.5
    fake_chatwoot.drop_next(
        1, path="/messages"
    )  # the connection breaks before Chatwoot stores anything
    assert handle(runtime, inbound("Qual o horário de funcionamento?")).status == "replied"
    assert len(fake_chatwoot.requests("/messages")) == 2
    assert len(fake_chatwoot.messages(conversation_id=50)) == 1


def test_a_turn_taken_up_again_after_its_post_went_through_does_not_post_it_twice(
    make_runtime: object,
    fake_chatwoot: FakeChatwoot,
    bot_webhooks: BotWebhooks,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = make_runtime(burst_window_seconds=0)  # type: ignore[operator]
    message = arrive(runtime, "Qual o horário de funcionamento?", 1)
    close = runtime.gate.close

    def unreachable(*_args: object, **_kwargs: object) -> bool:
        raise redis.ConnectionError("Redis went away between the post and the close")

    monkeypatch.setattr(runtime.gate, "close", unreachable)
    with pytest.raises(redis.ConnectionError):
        handle(runtime, message)  # posted, never confirmed: the task retries
    assert len(fake_chatwoot.messages(conversation_id=50)) == 1
    assert bot_webhooks.wait_idle()
    monkeypatch.setattr(runtime.gate, "close", close)
    # The claim the first run left has gone stale: the retry takes the turn over.
    redis_client.set(ReplyLedger.key(3, 1), f"posting:{time.time() - 120}")
    assert handle(runtime, message).status == "replied"
    assert len(fake_chatwoot.messages(conversation_id=50)) == 1, "posted twice"
    assert handle(runtime, message).status == "duplicate"


def test_a_reply_held_back_twenty_minutes_opens_with_an_apology(
    make_runtime: object, fake_chatwoot: FakeChatwoot
) -> None:
    runtime = make_runtime(burst_window_seconds=0)  # type: ignore[operator]
    message = inbound("Qual o horário de funcionamento?").model_copy(
        update={"received_at": time.time() - 20 * 60}
    )
    runtime.mailbox.push(message)
    assert handle(runtime, message).status == "replied"
    (reply,) = fake_chatwoot.messages(conversation_id=50)
    apology = runtime.registry.get("retail").spec.conversation.late_reply_apology
    assert reply["content"].startswith(apology + "\n\n")
    assert len(reply["content"]) > len(apology) + 10  # the answer follows


def test_a_reply_on_time_has_no_apology(make_runtime: object, fake_chatwoot: FakeChatwoot) -> None:
    runtime = make_runtime(burst_window_seconds=0)  # type: ignore[operator]
    message = arrive(runtime, "Qual o horário de funcionamento?", 1)
    assert handle(runtime, message).status == "replied"
    (reply,) = fake_chatwoot.messages(conversation_id=50)
    assert "Desculpe a demora" not in reply["content"]


def test_a_retry_s_draft_is_not_posted_when_the_customer_wrote_since(
    make_runtime: object,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = make_runtime(  # type: ignore[operator]
        llm="openai/local-model",
        llm_base_url=fake_openai.url,
        llm_api_key="sk-local",
        burst_window_seconds=0,
    )

    def answer(messages: list[dict[str, object]]) -> str:
        prompt = " ".join(str(m["content"]) for m in messages)
        return "Entregamos em Curitiba, sim." if "Curitiba" in prompt else "Das 10:00 às 22:00."

    fake_openai.responder = answer
    first = arrive(runtime, "Qual o horário de funcionamento?", 1)
    fake_chatwoot.fail_next(10, status=503, path="/messages")
    with pytest.raises(ChatwootAPIError):
        handle(runtime, first)  # the draft is kept for the retry
    fake_chatwoot.reset()

    from workers import answer as answer_module

    on_time = answer_module._on_time

    def customer_writes_first(*args: object) -> object:  # just before the retry posts
        if runtime.mailbox.size(3, 50) == 1:
            arrive(runtime, "E vocês entregam em Curitiba?", 2)
        return on_time(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(answer_module, "_on_time", customer_writes_first)
    assert handle(runtime, first).status == "replied"
    (reply,) = fake_chatwoot.messages(conversation_id=50)
    assert reply["content"] == "Entregamos em Curitiba, sim."


def test_a_tenant_added_before_the_workers_next_look_at_the_folder_is_found(
    make_runtime: object, tmp_path: Path
) -> None:
    domains = tmp_path / "domains"
    build_farm(domains, 1)
    runtime = make_runtime(domains_dir=domains, reload_interval_seconds=3600)  # type: ignore[operator]
    added = write_tenant(domains, 1)  # the receiver saw it and queued its message
    assert added not in runtime.registry.domains

    message = inbound("Qual o horário?").model_copy(update={"domain": added})
    assert domain_of(runtime, message).id == added


def test_a_message_for_a_removed_domain_without_a_default_names_the_missing_domain(
    make_runtime: object, tmp_path: Path
) -> None:
    domains = tmp_path / "domains"
    build_farm(domains, 1)
    runtime = make_runtime(domains_dir=domains, reload_interval_seconds=3600)  # type: ignore[operator]

    with pytest.raises(DomainNotFoundError, match="no domain 'retail'"):
        domain_of(runtime, inbound("Qual o horário de funcionamento?"))
