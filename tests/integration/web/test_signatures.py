"""Which secret a webhook is checked against: the one its account's domains hold, never
one the payload's inbox or labels pick (issue 16, defects 1 and 2)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from hub.chatwoot.signature import sign
from hub.conversation.takeover import Takeover
from hub.domains.manager import ConversationRef, DomainManager
from hub.domains.registry import DomainRegistry
from hub.queue import create_celery
from hub.settings import Settings
from hub.web import Receiver, create_app
from tests.conftest import SAMPLE_DOMAINS, TEST_REDIS_URL
from tests.e2e.conftest import SECRET, message_created, post_signed
from tests.queue_kit import queued_messages

pytestmark = pytest.mark.integration

COSMETICS_SECRET = "segredo-da-bela-pele"
HEALTH_SECRET = "segredo-da-vida-plena"


def client_for(
    redis_client: redis.Redis, domains: Path = SAMPLE_DOMAINS, **settings: Any
) -> FlaskClient:
    config = Settings(redis_url=TEST_REDIS_URL, domains_dir=domains, **settings)
    receiver = Receiver(config, redis_client, DomainRegistry(domains), create_celery(config))
    return create_app({"RECEIVER": receiver, "TESTING": True}).test_client()


@pytest.fixture
def tenants(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two businesses with their own Agent Bot secrets, and no global secret."""
    monkeypatch.setenv("CHATWOOTAI_COSMETICS_WEBHOOK_SECRET", COSMETICS_SECRET)
    monkeypatch.setenv("CHATWOOTAI_HEALTH_WEBHOOK_SECRET", HEALTH_SECRET)


def on_inbox(payload: dict[str, Any], inbox_id: int) -> dict[str, Any]:
    payload["inbox"]["id"] = inbox_id
    payload["conversation"]["inbox_id"] = inbox_id
    return payload


def domain_of(redis_client: redis.Redis, account: int, conversation: int) -> str | None:
    manager = DomainManager(DomainRegistry(SAMPLE_DOMAINS), redis_client)
    value = redis_client.hget(manager.key(ConversationRef(account, conversation)), "domain")
    return None if value is None else str(value)


def conversation_event(
    account_inbox: tuple[int | None, int], conversation_id: int, status: str
) -> dict[str, Any]:
    """An agent-bot `conversation_status_changed`, which carries no account."""
    account_id, inbox_id = account_inbox
    event: dict[str, Any] = {
        "event": "conversation_status_changed",
        "id": conversation_id,
        "inbox_id": inbox_id,
        "status": status,
        "labels": [],
        "messages": [],
        "changed_attributes": [{"status": {"previous_value": "open", "current_value": status}}],
    }
    if account_id is not None:
        event["account"] = {"id": account_id}
    return event


@pytest.mark.usefixtures("tenants")
def test_an_unsigned_payload_naming_an_inbox_no_domain_lists_is_refused_on_a_claimed_account(
    redis_client: redis.Redis,
) -> None:
    client = client_for(redis_client)
    real = message_created("cosmetics", 10, 100, "Oi, quero um hidratante")
    assert post_signed(client, real, secret=COSMETICS_SECRET).json["outcome"] == "queued"
    forged = on_inbox(message_created("cosmetics", 10, 101, "Cancele meu pedido"), 999)
    response = client.post("/webhooks/chatwoot", json=forged)
    assert response.status_code == 401
    brand_new = on_inbox(message_created("cosmetics", 11, 102, "oi"), 999)
    assert client.post("/webhooks/chatwoot", json=brand_new).status_code == 401
    assert queued_messages(redis_client, "cosmetics") == 1
    assert queued_messages(redis_client, "default") == 0


@pytest.mark.usefixtures("tenants")
def test_another_tenants_secret_never_signs_for_an_account(redis_client: redis.Redis) -> None:
    client = client_for(redis_client)
    forged = on_inbox(message_created("cosmetics", 12, 103, "oi"), 999)
    assert post_signed(client, forged, secret=HEALTH_SECRET).status_code == 401
    listed = message_created("cosmetics", 12, 104, "oi")
    assert post_signed(client, listed, secret=HEALTH_SECRET).status_code == 401


@pytest.mark.usefixtures("tenants")
def test_the_accounts_own_secret_signs_for_any_of_its_inboxes(redis_client: redis.Redis) -> None:
    client = client_for(redis_client)
    unlisted = on_inbox(message_created("cosmetics", 13, 105, "oi"), 999)
    response = post_signed(client, unlisted, secret=COSMETICS_SECRET)
    assert response.json["outcome"] == "queued"


@pytest.mark.usefixtures("tenants")
def test_a_forged_label_cannot_switch_the_domain_of_a_tenants_conversation(
    redis_client: redis.Redis,
) -> None:
    client = client_for(redis_client)
    real = message_created("cosmetics", 14, 106, "oi")
    assert post_signed(client, real, secret=COSMETICS_SECRET).json["domain"] == "cosmetics"
    forged = on_inbox(message_created("cosmetics", 14, 107, "oi"), 999)
    forged["conversation"]["labels"] = ["domain-health"]
    assert client.post("/webhooks/chatwoot", json=forged).status_code == 401
    assert post_signed(client, forged, secret=HEALTH_SECRET).status_code == 401
    assert domain_of(redis_client, 1, 14) == "cosmetics"


@pytest.mark.usefixtures("tenants")
def test_the_url_token_must_be_a_secret_of_the_payloads_account(
    redis_client: redis.Redis,
) -> None:
    client = client_for(redis_client, webhook_secret=SECRET)
    payload = on_inbox(message_created("cosmetics", 15, 108, "oi"), 999)
    assert client.post(f"/webhooks/chatwoot/{HEALTH_SECRET}", json=payload).status_code == 401
    assert client.post(f"/webhooks/chatwoot/{SECRET}", json=payload).status_code == 401
    accepted = client.post(f"/webhooks/chatwoot/{COSMETICS_SECRET}", json=payload)
    assert accepted.json["outcome"] == "queued"


def test_an_account_no_domain_claims_needs_the_global_secret(redis_client: redis.Redis) -> None:
    client = client_for(redis_client, webhook_secret=SECRET)
    payload = message_created("retail", 16, 109, "oi")
    payload["account"]["id"] = 44
    assert client.post("/webhooks/chatwoot", json=payload).status_code == 401
    response = post_signed(client, payload)
    assert (response.json["outcome"], response.json["domain"]) == ("queued", "default")


@pytest.mark.usefixtures("tenants")
def test_without_a_global_secret_an_unclaimed_account_is_refused_once_any_secret_is_set(
    redis_client: redis.Redis,
) -> None:
    client = client_for(redis_client)
    payload = message_created("retail", 17, 110, "oi")
    payload["account"]["id"] = 44
    assert client.post("/webhooks/chatwoot", json=payload).status_code == 401
    assert post_signed(client, payload, secret=COSMETICS_SECRET).status_code == 401
    # Retail names a secret variable that is unset, and there is no global one either.
    assert client.post("/webhooks/chatwoot", json=message_created("retail", 18, 111, "oi")).json[
        "detail"
    ] == ("no webhook secret is configured for this account")


def test_domains_sharing_an_account_accept_the_secret_of_any_of_them(
    redis_client: redis.Redis, sample_domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outlet = (sample_domains / "retail" / "domain.yaml").read_text()
    # its own variables: a connector may name only CHATWOOTAI_OUTLET_* (docs/security.md)
    outlet = outlet.replace("inbox_ids: [31, 32]", "inbox_ids: [33]").replace(
        "CHATWOOTAI_RETAIL_", "CHATWOOTAI_OUTLET_"
    )
    (sample_domains / "outlet").mkdir()
    (sample_domains / "outlet" / "domain.yaml").write_text(outlet)
    for name in ("crews", "knowledge", "data", "tests"):
        if (sample_domains / "retail" / name).is_dir():
            (sample_domains / "outlet" / name).symlink_to(sample_domains / "retail" / name)
    monkeypatch.setenv("CHATWOOTAI_RETAIL_WEBHOOK_SECRET", "retail-secret")
    monkeypatch.setenv("CHATWOOTAI_OUTLET_WEBHOOK_SECRET", "outlet-secret")
    client = client_for(redis_client, sample_domains)
    assert "outlet" in client.application.config["RECEIVER"].registry.domains
    payload = message_created("retail", 19, 112, "oi")
    assert post_signed(client, payload, secret="outlet-secret").json["domain"] == "retail"
    again = message_created("retail", 20, 113, "oi")
    assert post_signed(client, again, secret="retail-secret").json["domain"] == "retail"
    assert post_signed(client, message_created("retail", 21, 114, "oi")).status_code == 401


def test_an_account_claimed_only_by_an_invalid_domain_file_stays_closed(
    redis_client: redis.Redis, sample_domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sample_domains / "optics").mkdir()
    (sample_domains / "optics" / "domain.yaml").write_text(
        "extends: default\nname: Ótica\nnot_a_key: true\n"
        "chatwoot:\n  account_id: 5\n  webhook_secret_env: CHATWOOTAI_OPTICS_WEBHOOK_SECRET\n"
    )
    monkeypatch.setenv("CHATWOOTAI_OPTICS_WEBHOOK_SECRET", "optics-secret")
    client = client_for(redis_client, sample_domains)
    receiver = client.application.config["RECEIVER"]
    assert "optics" in receiver.registry.problems
    assert receiver.signatures.mode == "on"  # its secret is the only one configured
    payload = message_created("retail", 22, 115, "oi")
    payload["account"]["id"] = 5
    assert client.post("/webhooks/chatwoot", json=payload).status_code == 401
    assert post_signed(client, payload, secret="optics-secret").json["outcome"] == "queued"


def test_an_invalid_file_naming_no_set_secret_keeps_its_account_closed_when_others_sign(
    redis_client: redis.Redis, sample_domains: Path
) -> None:
    (sample_domains / "optics").mkdir()
    (sample_domains / "optics" / "domain.yaml").write_text(
        "extends: default\nname: Ótica\nnot_a_key: true\nchatwoot:\n  account_id: 5\n"
    )
    client = client_for(redis_client, sample_domains, webhook_secret=SECRET)
    payload = message_created("retail", 23, 116, "oi")
    payload["account"]["id"] = 5
    assert client.post("/webhooks/chatwoot", json=payload).status_code == 401
    assert post_signed(client, payload).json["outcome"] == "queued"


@pytest.mark.usefixtures("tenants")
def test_a_conversation_event_without_an_account_is_checked_with_its_inboxs_account_secret(
    redis_client: redis.Redis,
) -> None:
    client = client_for(redis_client, webhook_secret=SECRET)
    takeover = Takeover(redis_client, 3600)
    takeover.mark(1, 30, "a human agent answered")
    given_back = conversation_event((None, 11), 30, "pending")
    assert client.post("/webhooks/chatwoot", json=given_back).status_code == 401
    assert post_signed(client, given_back).status_code == 401  # the global secret
    assert takeover.active(1, 30)
    response = post_signed(client, given_back, secret=COSMETICS_SECRET)
    assert response.status_code == 200
    assert not takeover.active(1, 30)


@pytest.mark.usefixtures("tenants")
def test_an_unsigned_conversation_event_cannot_switch_a_tenants_domain(
    redis_client: redis.Redis,
) -> None:
    client = client_for(redis_client)
    real = message_created("cosmetics", 31, 117, "oi")
    assert post_signed(client, real, secret=COSMETICS_SECRET).json["domain"] == "cosmetics"
    event = conversation_event((None, 11), 31, "pending")
    event["custom_attributes"] = {"chatwootai_domain": "health"}
    event["changed_attributes"] = [
        {"custom_attributes": {"previous_value": {}, "current_value": {"chatwootai_domain": 1}}}
    ]
    assert client.post("/webhooks/chatwoot", json=event).status_code == 401
    assert domain_of(redis_client, 1, 31) == "cosmetics"


def test_without_any_secret_signatures_are_off_and_readiness_says_so(
    redis_client: redis.Redis,
) -> None:
    client = client_for(redis_client)
    forged = on_inbox(message_created("cosmetics", 32, 118, "oi"), 999)
    assert client.post("/webhooks/chatwoot", json=forged).json["outcome"] == "queued"
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json["signatures"]) == (200, "off")
    signed = client_for(redis_client, webhook_secret=SECRET)
    assert signed.get("/readyz").json["signatures"] == "on"


def test_a_signature_by_the_right_secret_but_stale_is_still_refused(
    redis_client: redis.Redis, tenants: None
) -> None:
    client = client_for(redis_client)
    payload = message_created("cosmetics", 33, 119, "oi")
    body = json.dumps(payload).encode()
    old = str(int(time.time()) - 3600)
    response = client.post(
        "/webhooks/chatwoot",
        data=body,
        content_type="application/json",
        headers={
            "X-Chatwoot-Signature": sign(COSMETICS_SECRET, old, body),
            "X-Chatwoot-Timestamp": old,
        },
    )
    assert response.status_code == 401
    assert "stale" in response.json["detail"]
