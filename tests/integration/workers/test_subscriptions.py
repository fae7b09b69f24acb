"""A worker for every domain asks for the queue of a domain added while it runs."""

from __future__ import annotations

from pathlib import Path

from hub.domains.registry import DomainRegistry
from tests.perf.tenant_farm import build_farm
from workers.subscriptions import Subscriptions, missing_queues


def test_a_tenant_added_to_the_folder_gets_its_queue_consumed(tmp_path: Path) -> None:
    root = tmp_path / "domains"
    build_farm(root, 2)
    registry = DomainRegistry(root, reload_interval=0)
    consumed = ["chatwootai.tenant-0000", "chatwootai.tenant-0001"]
    subscriptions = Subscriptions(registry, lambda: consumed, consumed.append, interval=1)
    assert subscriptions.check() == []
    build_farm(root, 3)
    assert subscriptions.check() == ["chatwootai.tenant-0002"]
    assert consumed[-1] == "chatwootai.tenant-0002"
    assert subscriptions.check() == []  # asked once: now consumed


def test_nothing_is_asked_while_the_worker_is_not_consuming(tmp_path: Path) -> None:
    root = tmp_path / "domains"
    build_farm(root, 1)
    asked: list[str] = []
    subscriptions = Subscriptions(
        DomainRegistry(root, reload_interval=0), lambda: None, asked.append, interval=1
    )
    assert subscriptions.check() == [] and asked == []


def test_missing_queues_are_those_of_domains_not_consumed_yet() -> None:
    assert missing_queues(["b", "a", "c"], ["chatwootai.a", "chatwootai.other"]) == [
        "chatwootai.b",
        "chatwootai.c",
    ]
