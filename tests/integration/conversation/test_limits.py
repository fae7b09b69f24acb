"""Tenant limits counted in Redis: fixed windows per minute and per UTC day."""

from __future__ import annotations

import pytest
import redis

from hub.conversation.limits import TenantLimits
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.domains.schema import Limits
from tests.conftest import SAMPLE_DOMAINS

pytestmark = pytest.mark.integration

NOON = 1_780_000_040.0  # the 20th second of a minute


def limited(**limits: int) -> Domain:
    retail = DomainRegistry(SAMPLE_DOMAINS).get("retail")
    spec = retail.spec.model_copy(update={"limits": Limits(**limits)})
    return Domain(
        retail.id, retail.directory, spec, retail.chain, retail.fingerprint, retail.document
    )


def test_messages_over_the_minute_s_cap_are_limited_until_the_next_minute(
    redis_client: redis.Redis,
) -> None:
    limits, domain = TenantLimits(redis_client), limited(messages_per_minute=3)
    assert [limits.over(domain, 1, NOON + s) for s in range(3)] == [None, None, None]
    assert limits.over(domain, 1, NOON + 30) == "messages_per_minute"
    assert limits.over(domain, 1, NOON + 40) is None  # a new minute
    assert 0 < redis_client.ttl(TenantLimits.messages_key("retail", NOON)) <= 120


def test_a_burst_counts_each_of_its_messages(redis_client: redis.Redis) -> None:
    limits, domain = TenantLimits(redis_client), limited(messages_per_minute=3)
    assert limits.over(domain, 2, NOON) is None
    assert limits.over(domain, 2, NOON) == "messages_per_minute"


def test_tokens_of_the_day_are_summed_and_start_again_the_next_day(
    redis_client: redis.Redis,
) -> None:
    limits, domain = TenantLimits(redis_client), limited(tokens_per_day=100)
    assert limits.spend(domain, 60, NOON) == 60
    assert limits.over(domain, 1, NOON) is None
    limits.spend(domain, 60, NOON)
    assert limits.over(domain, 1, NOON) == "tokens_per_day"
    assert limits.over(domain, 1, NOON + 86_400) is None
    assert limits.tokens_today("retail", NOON) == 120


def test_a_domain_without_limits_costs_no_round_trip(redis_client: redis.Redis) -> None:
    limits, domain = TenantLimits(redis_client), limited()
    assert limits.over(domain, 5, NOON) is None and limits.spend(domain, 500, NOON) == 0
    assert redis_client.keys("chatwootai:limit:*") == []


@pytest.mark.parametrize("bad", [{"messages_per_minute": 0}, {"tokens_per_day": -5}])
def test_limits_below_one_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Limits(**bad)
