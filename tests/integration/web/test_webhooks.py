"""The receiver's HTTP contract: every status code, health, readiness and metrics."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from hub import defaults
from hub.chatwoot.signature import sign
from hub.conversation.echoes import Echoes
from hub.conversation.mailbox import Mailbox
from hub.domains.registry import DomainRegistry
from hub.patches.kombu import TASK_PUBLISHER
from hub.queue import create_celery
from hub.settings import Settings
from hub.telemetry import Telemetry
from hub.web import Receiver, create_app
from hub.web.metrics import EVENTS
from tests.conftest import SAMPLE_DOMAINS, TEST_REDIS_URL
from tests.e2e.conftest import SECRET, message_created, post_signed
from tests.patch_kit import installed, removed
from tests.queue_kit import queued_messages, shard_of_domain, tokens, waiting

pytestmark = pytest.mark.integration


def make_client(redis_client: redis.Redis, **settings: object) -> FlaskClient:
    config = Settings(**{"redis_url": TEST_REDIS_URL, "domains_dir": SAMPLE_DOMAINS, **settings})  # type: ignore[arg-type]
    broker_settings = config.model_copy(
        update={"redis_url": settings.get("broker", TEST_REDIS_URL)}
    )
    receiver = Receiver(
        config, redis_client, DomainRegistry(config.domains_dir), create_celery(broker_settings)
    )
    return create_app({"RECEIVER": receiver, "TESTING": True}).test_client()


@pytest.fixture
def client(redis_client: redis.Redis) -> Iterator[FlaskClient]:
    yield make_client(redis_client, webhook_secret=SECRET)


def test_a_queued_message_waits_in_its_tenants_line_with_a_token_on_its_shard(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    response = post_signed(client, message_created("health", 10, 100, "Quero marcar consulta"))
    assert response.status_code == 200
    assert response.json["outcome"] == "queued"
    (message,) = waiting(redis_client, "health")
    assert (message["domain"], message["message_id"]) == ("health", 100)
    shard = shard_of_domain("health")
    token = json.loads(redis_client.lindex(f"{shard}\x06\x166", 0))
    assert token["headers"]["task"] == "chatwootai.claim_turn"
    assert token["headers"]["id"] == response.json["task_id"]
    assert token["headers"]["argsrepr"].startswith(f"{shard} for health:account=")
    assert "Quero marcar" not in token["headers"]["argsrepr"]  # no customer text in dashboards


def test_a_dedicated_domain_gets_the_messages_own_task_on_its_own_queue(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    domains = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, domains)
    yaml = domains / "health" / "domain.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + "\nqueue: dedicated\n", encoding="utf-8")
    client = make_client(redis_client, webhook_secret=SECRET, domains_dir=domains)
    response = post_signed(client, message_created("health", 11, 110, "Quero marcar consulta"))
    assert response.json["outcome"] == "queued"
    assert waiting(redis_client, "health") == []
    task = json.loads(redis_client.lindex("chatwootai.health\x06\x166", 0))
    assert task["headers"]["task"] == "chatwootai.handle_message"
    assert task["headers"]["argsrepr"] == "health:account=2:conversation=11:message=110"


def test_chatwoots_copy_of_the_bots_own_reply_is_filed_and_never_queued(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    bot = {"id": 1, "name": "ChatwootAI", "type": "agent_bot"}
    payload = message_created(
        "retail", 10, 2001, "Abrimos às 10:00.", message_type="outgoing", sender=bot
    )
    response = post_signed(client, payload)
    assert (response.status_code, response.json["outcome"]) == (200, "ignored")
    assert queued_messages(redis_client, "retail") == 0
    assert Echoes(redis_client).followed(3, 10, "Abrimos às 10:00.", after=2000)


def test_a_human_agents_message_is_no_copy_of_the_bots(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    agent = {"id": 7, "name": "Ana", "type": "user"}
    payload = message_created(
        "retail", 10, 2001, "Abrimos às 10:00.", message_type="outgoing", sender=agent
    )
    assert post_signed(client, payload).status_code == 200
    assert not Echoes(redis_client).followed(3, 10, "Abrimos às 10:00.", after=2000)


def test_malformed_json_is_a_400_with_a_clear_message(client: FlaskClient) -> None:
    body = b'{"event": "message_created", '
    ts = str(int(time.time()))
    response = client.post(
        "/webhooks/chatwoot",
        data=body,
        content_type="application/json",
        headers={"X-Chatwoot-Signature": sign(SECRET, ts, body), "X-Chatwoot-Timestamp": ts},
    )
    assert response.status_code == 400
    assert "JSON" in response.json["detail"]


def test_a_wrong_shape_is_a_400_naming_the_field(client: FlaskClient) -> None:
    payload = message_created("retail", 1, 1, "oi")
    del payload["conversation"]["id"]
    response = post_signed(client, payload)
    assert response.status_code == 400
    assert "conversation.id" in response.json["detail"]


def test_a_body_over_the_size_limit_is_a_413(client: FlaskClient) -> None:
    payload = message_created("retail", 1, 1, "x" * defaults.MAX_WEBHOOK_BYTES)
    response = post_signed(client, payload)
    assert response.status_code == 413


def test_a_missing_signature_is_a_401_when_a_secret_is_configured(client: FlaskClient) -> None:
    response = client.post("/webhooks/chatwoot", json=message_created("retail", 1, 1, "oi"))
    assert response.status_code == 401


def test_without_any_secret_unsigned_webhooks_are_accepted(redis_client: redis.Redis) -> None:
    client = make_client(redis_client)
    response = client.post("/webhooks/chatwoot", json=message_created("retail", 1, 1, "oi"))
    assert response.json["outcome"] == "queued"


def test_a_domain_secret_overrides_the_global_one(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATWOOTAI_RETAIL_WEBHOOK_SECRET", "retail-only")
    client = make_client(redis_client, webhook_secret=SECRET)
    payload = message_created("retail", 1, 1, "oi")
    assert post_signed(client, payload).status_code == 401
    assert post_signed(client, payload, secret="retail-only").json["outcome"] == "queued"
    other = message_created("cosmetics", 2, 2, "oi")
    assert post_signed(client, other).json["outcome"] == "queued"


def test_older_chatwoot_may_put_the_secret_in_the_url(client: FlaskClient) -> None:
    payload = message_created("retail", 1, 1, "oi")
    assert client.post(f"/webhooks/chatwoot/{SECRET}", json=payload).json["outcome"] == "queued"
    again = message_created("retail", 1, 2, "oi")
    assert client.post("/webhooks/chatwoot/wrong", json=again).status_code == 401
    third = message_created("retail", 1, 3, "oi")
    assert client.post(f"/webhooks/chatwoot?token={SECRET}", json=third).status_code == 200


def test_a_broker_that_is_down_makes_a_500_so_chatwoot_retries_and_nothing_is_lost(
    redis_client: redis.Redis,
) -> None:
    client = make_client(redis_client, broker="redis://127.0.0.1:1/0")
    payload = message_created("retail", 1, 1, "oi")
    response = post_signed(client, payload)
    assert response.status_code == 500
    assert response.json["outcome"] == "error"
    # The dedupe claim was released: Chatwoot's retry is accepted once the broker is back.
    healthy = make_client(redis_client)
    assert post_signed(healthy, payload).json["outcome"] == "queued"


def test_redis_failing_after_the_claim_makes_a_500_and_the_retry_is_queued(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(redis_client, webhook_secret=SECRET)
    payload = message_created("retail", 1, 1, "oi")
    real_execute = redis.client.Pipeline.execute

    def lost_connection(self: redis.client.Pipeline, *args: object) -> object:
        if any(command[0] == "RPUSH" for command, _options in self.command_stack):
            raise redis.ConnectionError("connection reset by peer")  # the mailbox push
        return real_execute(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(redis.client.Pipeline, "execute", lost_connection)
    response = post_signed(client, payload)
    assert response.status_code == 500
    assert "Redis is unavailable" in response.json["detail"]
    monkeypatch.setattr(redis.client.Pipeline, "execute", real_execute)
    assert queued_messages(redis_client, "retail") == 0
    # The claim was released: Chatwoot's retry is not mistaken for a duplicate.
    assert post_signed(client, payload).json["outcome"] == "queued"
    assert queued_messages(redis_client, "retail") == 1


def test_the_task_is_queued_in_the_mailbox_transaction_when_the_broker_is_the_state_redis(
    redis_client: redis.Redis,
) -> None:
    with installed(TASK_PUBLISHER):
        client = make_client(redis_client, webhook_secret=SECRET)
    receiver = client.application.config["RECEIVER"]
    assert receiver.publisher is not None
    payload = message_created("retail", 70, 7, "Qual o horário?")
    response = post_signed(client, payload)
    assert response.json["outcome"] == "queued"
    assert queued_messages(redis_client, "retail") == 1
    assert redis_client.llen(Mailbox.key(payload["account"]["id"], 70)) == 1
    (task,) = tokens(redis_client, "retail")
    assert task["headers"]["id"] == response.json["task_id"]


def test_without_the_publisher_patch_the_task_is_sent_through_celery_after_the_mailbox(
    redis_client: redis.Redis,
) -> None:
    with removed(TASK_PUBLISHER):
        client = make_client(redis_client, webhook_secret=SECRET)
    assert client.application.config["RECEIVER"].publisher is None
    payload = message_created("retail", 71, 7, "Qual o horário?")
    response = post_signed(client, payload)
    assert response.json["outcome"] == "queued"
    assert redis_client.llen(Mailbox.key(payload["account"]["id"], 71)) == 1
    assert queued_messages(redis_client, "retail") == 1
    (task,) = tokens(redis_client, "retail")
    assert task["headers"]["id"] == response.json["task_id"]
    assert task["headers"]["task"] == "chatwootai.claim_turn"


def test_a_state_store_that_is_down_makes_a_500_with_the_reason() -> None:
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    client = make_client(broken, webhook_secret=SECRET)
    response = post_signed(client, message_created("retail", 1, 1, "oi"))
    assert response.status_code == 500
    assert "Redis is unavailable" in response.json["detail"]


def test_health_answers_while_the_process_lives(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}


def test_readiness_lists_the_domains_when_redis_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["domains"] == ["cosmetics", "default", "health", "retail"]


def test_readiness_is_503_naming_what_is_down() -> None:
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    client = make_client(broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "redis" in response.json["problems"]


def test_metrics_count_events_by_type_and_outcome(client: FlaskClient) -> None:
    post_signed(client, message_created("retail", 1, 77, "oi"))
    post_signed(client, {**message_created("retail", 1, 78, "oi"), "event": "message_updated"})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'chatwootai_webhook_events_total{event="message_created",outcome="queued"}' in text
    assert 'chatwootai_webhook_events_total{event="message_updated",outcome="ignored"}' in text
    assert "chatwootai_webhook_ack_seconds_bucket" in text


def test_metrics_include_what_the_workers_recorded(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    telemetry = Telemetry(redis_client)
    telemetry.observe("queue_wait_seconds", "retail", 0.3)
    telemetry.observe("queue_wait_seconds", "retail", 7.0)
    telemetry.count("messages_handled", "retail", "replied")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'chatwootai_queue_wait_seconds_bucket{domain="retail",le="0.5"} 1.0' in text
    assert 'chatwootai_queue_wait_seconds_bucket{domain="retail",le="+Inf"} 2.0' in text
    assert 'chatwootai_queue_wait_seconds_sum{domain="retail"} 7.3' in text
    assert 'chatwootai_messages_handled_total{domain="retail",outcome="replied"} 1.0' in text


def test_a_batch_of_metrics_reaches_redis_when_the_message_is_done(
    redis_client: redis.Redis,
) -> None:
    telemetry = Telemetry(redis_client)
    with telemetry.batch():
        telemetry.observe("crew_seconds", "health", 1.5)
        telemetry.count("messages_handled", "health", "replied")
        assert redis_client.hgetall("chatwootai:metrics:crew_seconds") == {}
    assert redis_client.hgetall("chatwootai:metrics:crew_seconds") == {
        "health|le=2.5": "1",
        "health|sum": "1.5",
    }
    assert redis_client.hget("chatwootai:metrics:messages_handled", "health|replied") == "1"


def test_an_error_flask_logs_names_the_route_never_the_url_token(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    testing = make_client(redis_client, webhook_secret=SECRET)
    production = create_app({"RECEIVER": testing.application.config["RECEIVER"]}).test_client()

    def broken_metric(**_labels: str) -> None:
        raise RuntimeError("metrics registry broken")

    monkeypatch.setattr(EVENTS, "labels", broken_metric)  # fails outside the endpoint's try
    with caplog.at_level(logging.ERROR):
        response = production.post(
            f"/webhooks/chatwoot/{SECRET}", json=message_created("retail", 1, 1, "oi")
        )
    assert response.status_code == 500
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Exception on /webhooks/chatwoot/<token> [POST]" in text
    assert SECRET not in caplog.text
