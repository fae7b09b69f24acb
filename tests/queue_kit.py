"""What waits on the queues, as the tests read it: the shard a sample domain shares
(its tokens) and its tenant's line on it (its messages)."""

from __future__ import annotations

import json
from typing import Any

import redis

from hub import defaults
from hub.conversation.fairness import FairShare
from hub.queue import queue_for, queue_keys


def shard_of_domain(domain_id: str, shards: int = defaults.QUEUE_SHARDS) -> str:
    """The shard queue a shared domain's messages go on (the default shard count)."""
    return queue_for(domain_id, dedicated=False, shards=shards)


def tasks_on(client: redis.Redis, queue: str) -> dict[str, list[dict[str, Any]]]:
    """The task messages waiting on each priority list of a queue."""
    return {
        key: [json.loads(item) for item in client.lrange(key, 0, -1)] for key in queue_keys(queue)
    }


def tokens(client: redis.Redis, domain_id: str) -> list[dict[str, Any]]:
    """The task messages on a shared domain's shard, most urgent first."""
    return [
        task for tasks in tasks_on(client, shard_of_domain(domain_id)).values() for task in tasks
    ]


def waiting(
    client: redis.Redis, domain_id: str, shards: int = defaults.QUEUE_SHARDS
) -> list[dict[str, Any]]:
    """A shared domain's messages in its tenant's line, urgent first."""
    return FairShare(client).waiting(shard_of_domain(domain_id, shards), domain_id)


def queued_messages(
    client: redis.Redis, domain_id: str, shards: int = defaults.QUEUE_SHARDS
) -> int:
    """How many of a shared domain's messages wait in its tenant's line."""
    return len(waiting(client, domain_id, shards))
