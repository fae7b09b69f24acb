"""A shared queue under one tenant's flood, with a real worker: the others are not
queued behind it, and an emergency still comes first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from tests.e2e.conftest import WorkerProcess, message_created, post_signed, receiver_for
from tests.e2e.test_conversations import replies
from tests.fakes.chatwoot import FakeChatwoot
from tests.queue_kit import queued_messages

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FLOOD = 200


def who(reply: dict[str, object]) -> tuple[int, int]:
    """(account, conversation) of a posted reply, from its path."""
    parts = str(reply["path"]).split("/")
    return int(parts[parts.index("accounts") + 1]), int(parts[parts.index("conversations") + 1])


def test_a_tenant_s_few_messages_are_not_answered_behind_another_tenant_s_flood(
    start_worker: Callable[..., WorkerProcess],
    service_env: dict[str, str],
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service_env["CHATWOOTAI_QUEUE_SHARDS"] = "1"  # retail, cosmetics and health share it
    receiver = receiver_for(service_env, redis_client, monkeypatch)
    for n in range(FLOOD):  # tenant A's flood, queued while no worker runs
        payload = message_created("retail", 7000 + n, 90000 + n, "Qual o horário?")
        assert post_signed(receiver, payload).json["outcome"] == "queued"
    for n in range(5):  # tenant B's few, queued behind the whole flood
        payload = message_created("cosmetics", 7500 + n, 95000 + n, "Qual o horário?")
        assert post_signed(receiver, payload).json["outcome"] == "queued"
    urgent = message_created("health", 7999, 99999, "Socorro, meu pai está com dor no peito!")
    assert post_signed(receiver, urgent).json["outcome"] == "queued"
    assert queued_messages(redis_client, "retail", shards=1) == FLOOD

    start_worker("--concurrency", "2")
    fake_chatwoot.wait_for(lambda: len(replies(fake_chatwoot)) >= 20, timeout=120)
    order = [who(reply) for reply in replies(fake_chatwoot)]
    cosmetics = [i for i, (account, _) in enumerate(order) if account == 1]
    assert len(cosmetics) == 5, order[:20]
    assert max(cosmetics) < 15, f"B answered at {cosmetics}, behind {FLOOD} of A's"
    assert sorted(c for a, c in order if a == 1) == list(range(7500, 7505))  # once each
    assert order.index((2, 7999)) < 5, "the emergency waited for the other tenants"
    assert queued_messages(redis_client, "retail", shards=1) > FLOOD / 2  # A's flood still waiting
