"""The fair claim of a shared queue's tokens, on a real Redis: order, caps, urgency,
idle tenants and in-flight claims that a redelivered token resumes."""

from __future__ import annotations

import itertools

import pytest
import redis

from hub.conversation.fairness import FairShare

pytestmark = pytest.mark.integration

SHARD = "chatwootai.shard.0"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fair(redis_client: redis.Redis, clock: Clock) -> FairShare:
    return FairShare(redis_client, lease_seconds=60, default_cap=100, clock=clock)


_ids = itertools.count(1)


def send(
    fair: FairShare, tenant: str, count: int = 1, *, urgent: bool = False, cap: int | None = None
) -> list[int]:
    """Enqueue `count` messages of `tenant`; their numbers."""
    numbers = [next(_ids) for _ in range(count)]
    for n in numbers:
        fair.enqueue(SHARD, tenant, {"tenant": tenant, "n": n}, urgent=urgent, cap=cap)
    return numbers


def serve(fair: FairShare, turns: int) -> list[str]:
    """Claim and finish `turns` messages one after another: which tenant each was."""
    order = []
    for turn in range(turns):
        claim = fair.claim(SHARD, f"token-{turn}")
        if claim.tenant is None:
            break
        order.append(claim.tenant)
        assert fair.release(SHARD, f"token-{turn}").released
    return order


def test_a_flood_does_not_starve_a_tenant_with_a_few_messages(fair: FairShare) -> None:
    send(fair, "a", 200)
    send(fair, "b", 3)
    order = serve(fair, 203)
    assert order[:6] == ["a", "b", "a", "b", "a", "b"]  # in turn, not behind the flood
    assert order.count("a") == 200 and order.count("b") == 3


def test_each_tenant_s_messages_come_out_oldest_first(fair: FairShare) -> None:
    send(fair, "a", 3)
    got = [fair.claim(SHARD, f"t{n}").payload for n in range(3)]
    assert [p["n"] for p in got if p] == sorted(p["n"] for p in got if p)


def test_three_tenants_share_the_turns_evenly_whatever_their_backlog(fair: FairShare) -> None:
    send(fair, "a", 50)
    send(fair, "b", 20)
    send(fair, "c", 5)
    first = serve(fair, 15)
    assert sorted(first.count(t) for t in "abc") == [5, 5, 5]


def test_an_idle_tenant_rejoins_at_the_clock_and_saved_up_no_turns(fair: FairShare) -> None:
    send(fair, "a", 40)
    send(fair, "b", 1)
    serve(fair, 21)  # b's one message and 20 of a's
    send(fair, "b", 10)
    assert serve(fair, 6).count("b") == 3  # alternating, not b ten times in a row


def test_a_tenant_at_its_cap_waits_while_others_are_served(fair: FairShare) -> None:
    send(fair, "a", 10, cap=2)
    send(fair, "b", 2)
    claims = [fair.claim(SHARD, f"held-{n}") for n in range(4)]  # none released
    assert [c.tenant for c in claims] == ["a", "b", "a", "b"]
    assert fair.claim(SHARD, "held-4").kind == "capped"  # a has 8 waiting, 2 running
    assert fair.running(SHARD, "a") == 2
    assert fair.release(SHARD, "held-0").unparked  # the parked token is owed back
    assert fair.claim(SHARD, "held-5").tenant == "a"
    assert not fair.release(SHARD, "held-1").unparked  # only once per parked token


def test_a_cap_slot_of_a_claim_never_released_frees_itself_when_its_lease_runs_out(
    fair: FairShare, clock: Clock
) -> None:
    send(fair, "a", 2, cap=1)
    assert fair.claim(SHARD, "lost").tenant == "a"  # its worker and its token are gone
    assert fair.claim(SHARD, "next").kind == "capped"
    clock.now += 61  # its worker's token never comes back to release it
    assert fair.claim(SHARD, "next").tenant == "a"


def test_an_urgent_message_is_claimed_before_every_tenant_s_backlog(fair: FairShare) -> None:
    send(fair, "a", 30)
    send(fair, "b", 30)
    urgent = send(fair, "c", 1, urgent=True) + send(fair, "b", 1, urgent=True)
    first = [fair.claim(SHARD, f"t{n}").payload for n in range(2)]
    assert sorted(p["n"] for p in first if p) == urgent  # b's urgent one, not b's oldest


def test_a_redelivered_token_resumes_the_message_its_claim_took(fair: FairShare) -> None:
    send(fair, "a", 3)
    taken = fair.claim(SHARD, "token-x")
    again = fair.claim(SHARD, "token-x")  # the worker died; the broker redelivers the token
    assert (taken.kind, again.kind) == ("claimed", "resumed")
    assert again.payload == taken.payload
    assert fair.running(SHARD, "a") == 1  # one slot, not two
    assert len(fair.waiting(SHARD, "a")) == 2  # nothing else was taken
    assert fair.release(SHARD, "token-x").released
    assert not fair.release(SHARD, "token-x").released
    assert fair.claim(SHARD, "token-x").payload != taken.payload  # done: a new claim


def test_a_token_with_nothing_left_to_claim_finds_the_shard_empty(fair: FairShare) -> None:
    assert fair.claim(SHARD, "t").kind == "empty"
    send(fair, "a", 1)
    assert fair.claim(SHARD, "t1").kind == "claimed"
    assert fair.claim(SHARD, "t2").kind == "empty"  # another token took this one's message


def test_shards_keep_their_tenants_apart(fair: FairShare) -> None:
    send(fair, "a", 1)
    assert fair.claim("chatwootai.shard.1", "t").kind == "empty"
    assert fair.claim(SHARD, "t").tenant == "a"


def test_a_withdrawn_message_is_not_claimed(fair: FairShare) -> None:
    fair.enqueue(SHARD, "a", {"n": 1}, urgent=False)
    assert fair.withdraw(SHARD, "a", {"n": 1}) == 1
    assert fair.claim(SHARD, "t").kind == "empty"


def test_a_message_put_in_its_line_inside_a_multi_adds_no_round_trip_to_it(
    redis_client: redis.Redis, fair: FairShare
) -> None:
    pipe = redis_client.pipeline(transaction=True)
    fair.enqueue(SHARD, "a", {"n": 1}, urgent=True, pipe=pipe)
    assert not pipe.scripts  # redis-py would check them with SCRIPT EXISTS first
    pipe.execute()
    assert fair.claim(SHARD, "t").payload == {"n": 1}


def test_a_token_restored_long_after_its_slot_s_lease_still_resumes_its_message(
    fair: FairShare, clock: Clock
) -> None:
    send(fair, "a", 2)
    taken = fair.claim(SHARD, "token-late")
    clock.now += 3600  # no worker ran for an hour: the slot is free, the claim is kept
    again = fair.claim(SHARD, "token-late")
    assert (again.kind, again.payload) == ("resumed", taken.payload)
