"""A worker for every domain asks for the queue of a domain added while it runs."""

from __future__ import annotations

from pathlib import Path

from hub.domains.registry import DomainRegistry
from hub.queue import shard_queue
from tests.perf.tenant_farm import build_farm
from workers.subscriptions import Subscriptions, missing_queues

SHARDS = 4


def dedicate(root: Path, domain_id: str) -> None:
    """Give a generated tenant a queue of its own."""
    path = root / domain_id / "domain.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "queue: dedicated\n", encoding="utf-8")


def test_a_dedicated_tenant_added_to_the_folder_gets_its_queue_consumed(tmp_path: Path) -> None:
    root = tmp_path / "domains"
    build_farm(root, 2)
    registry = DomainRegistry(root, reload_interval=0)
    consumed = [shard_queue(n) for n in range(SHARDS)]
    subscriptions = Subscriptions(
        registry, lambda: consumed, consumed.append, interval=1, shards=SHARDS
    )
    assert subscriptions.check() == []
    build_farm(root, 3)  # a shared tenant: its shard is read already
    assert subscriptions.check() == []
    build_farm(root, 4)
    dedicate(root, "tenant-0003")
    assert subscriptions.check() == ["chatwootai.tenant-0003"]
    assert consumed[-1] == "chatwootai.tenant-0003"
    assert subscriptions.check() == []  # asked once: now consumed


def test_nothing_is_asked_while_the_worker_is_not_consuming(tmp_path: Path) -> None:
    root = tmp_path / "domains"
    build_farm(root, 1)
    dedicate(root, "tenant-0000")
    asked: list[str] = []
    subscriptions = Subscriptions(
        DomainRegistry(root, reload_interval=0), lambda: None, asked.append, 1, SHARDS
    )
    assert subscriptions.check() == [] and asked == []


def test_missing_queues_are_those_of_domains_not_consumed_yet(tmp_path: Path) -> None:
    root = tmp_path / "domains"
    build_farm(root, 3)
    dedicate(root, "tenant-0001")
    dedicate(root, "tenant-0002")
    domains = DomainRegistry(root, reload_interval=0).domains
    shared = missing_queues([domains["tenant-0000"]], [], SHARDS)
    assert len(shared) == 1 and shared[0].startswith("chatwootai.shard.")
    assert missing_queues(domains.values(), [*shared, "chatwootai.tenant-0001"], SHARDS) == [
        "chatwootai.tenant-0002"
    ]
