"""A shared queue under one tenant's flood, with a real worker: the others are not
queued behind it, an emergency still comes first, and the flood's cap holds while
its parked tokens come back."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests.conftest import SAMPLE_DOMAINS
from tests.e2e.conftest import WorkerProcess, message_created, post_signed, receiver_for
from tests.e2e.test_conversations import replies
from tests.fakes.chatwoot import FakeChatwoot
from tests.queue_kit import queued_messages

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.long]
"""Run by `make bench` (`--only outages` / `pytest -m long`), not by `make test`: CI's time."""

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
    tmp_path: Path,
) -> None:
    domains = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, domains)
    retail = domains / "retail" / "domain.yaml"  # A: one turn at a time, whatever the threads
    retail.write_text(
        retail.read_text(encoding="utf-8") + "\nlimits:\n  max_concurrent: 1\n", encoding="utf-8"
    )
    service_env["CHATWOOTAI_DOMAINS_DIR"] = str(domains)
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
    # Past the first few, A's turns come only from its parked tokens, one per release.
    fake_chatwoot.wait_for(lambda: len(replies(fake_chatwoot)) >= 20, timeout=120)
    order = [who(reply) for reply in replies(fake_chatwoot)]
    cosmetics = [i for i, (account, _) in enumerate(order) if account == 1]
    assert len(cosmetics) == 5, order[:20]
    assert max(cosmetics) < 15, f"B answered at {cosmetics}, behind {FLOOD} of A's"
    assert sorted(c for a, c in order if a == 1) == list(range(7500, 7505))  # once each
    assert order.index((2, 7999)) < 5, "the emergency waited for the other tenants"
    assert queued_messages(redis_client, "retail", shards=1) > FLOOD / 2  # A's flood still waiting
