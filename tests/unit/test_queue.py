"""Which queue a domain's messages go on: shards by a stable hash, dedicated queues."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from pydantic import ValidationError

from hub.domains.registry import DomainRegistry
from hub.domains.schema import DomainSpec
from hub.queue import (
    consumed_queues,
    is_shard,
    queue_for,
    queue_keys,
    queue_name,
    queue_of,
    shard_of,
    shard_queue,
)
from tests.conftest import SAMPLE_DOMAINS


def test_a_domain_s_shard_is_the_same_in_every_process_whatever_python_s_hash_seed() -> None:
    code = "from hub.queue import shard_of; print([shard_of(d, 8) for d in ('retail', 'x-1')])"
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert seen == {f"{[shard_of('retail', 8), shard_of('x-1', 8)]}\n"}


def test_the_shard_is_crc32_of_the_domain_id_so_other_tools_can_compute_it() -> None:
    assert [shard_of(d, 8) for d in ("default", "cosmetics", "health", "retail")] == [7, 1, 3, 5]


def test_a_thousand_tenants_spread_over_every_shard_without_a_crowded_one() -> None:
    counts = Counter(shard_of(f"tenant-{n:04d}", 8) for n in range(1000))
    assert set(counts) == set(range(8))
    assert max(counts.values()) < 1.3 * 1000 / 8


def test_one_shard_takes_every_tenant() -> None:
    assert {shard_of(f"t{n}", 1) for n in range(50)} == {0}


@pytest.mark.parametrize("shards", [0, -3])
def test_a_shard_count_below_one_is_refused(shards: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        shard_of("retail", shards)


def test_shared_domains_go_on_their_shard_and_dedicated_ones_on_their_own_queue() -> None:
    assert queue_for("retail", dedicated=False, shards=8) == "chatwootai.shard.5"
    assert queue_for("retail", dedicated=True, shards=8) == "chatwootai.retail"
    assert is_shard(shard_queue(3)) and not is_shard(queue_name("retail"))


def test_a_queue_is_four_priority_lists_most_urgent_first() -> None:
    assert queue_keys("chatwootai.shard.2") == [
        "chatwootai.shard.2",
        "chatwootai.shard.2\x06\x163",
        "chatwootai.shard.2\x06\x166",
        "chatwootai.shard.2\x06\x169",
    ]


def test_a_worker_for_every_domain_consumes_every_shard_whatever_the_tenant_count() -> None:
    domains = list(DomainRegistry(SAMPLE_DOMAINS).domains.values())
    queues = consumed_queues(domains, 8, every_shard=True)
    assert queues == [shard_queue(n) for n in range(8)]
    assert all(queue_of(domain, 8) in queues for domain in domains)


def test_a_worker_pinned_to_domains_consumes_their_dedicated_queues_and_their_shards() -> None:
    registry = DomainRegistry(SAMPLE_DOMAINS)
    health, retail = registry.get("health"), registry.get("retail")
    own = type(health)(
        **{**vars(health), "spec": health.spec.model_copy(update={"queue": "dedicated"})}
    )
    assert consumed_queues([own, retail], 8, every_shard=False) == [
        "chatwootai.shard.5",
        "chatwootai.health",
    ]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"queue": "private"}, "queue"),
        ({"limits": {"max_concurrent": 0}}, "limits.max_concurrent"),
        ({"limits": {"max_parallel": 2}}, "limits.max_parallel"),
    ],
)
def test_a_domain_s_queue_and_cap_are_validated(change: dict[str, object], where: str) -> None:
    spec = DomainRegistry(SAMPLE_DOMAINS).get("health").spec.model_dump()
    with pytest.raises(ValidationError) as raised:
        DomainSpec.model_validate({**spec, **change})
    assert where in {
        ".".join(str(part) for part in error["loc"]) for error in raised.value.errors()
    }


def test_a_domain_shares_a_queue_unless_it_asks_for_its_own() -> None:
    spec = DomainRegistry(SAMPLE_DOMAINS).get("health").spec
    assert (spec.queue, spec.limits.max_concurrent) == ("shared", None)
