"""The Lua script files in real Redis: each compiles, and runs under the SHA registered."""

from __future__ import annotations

import pytest
import redis

from hub.conversation import scripts

pytestmark = pytest.mark.integration

SCRIPTS = [name for name in scripts.names() if scripts.load(name).header.rule is None]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_compiles_in_redis_under_the_sha_its_owner_runs(
    redis_client: redis.Redis, name: str
) -> None:
    registered = scripts.register(redis_client, name)
    assert redis_client.script_load(scripts.load(name).source) == registered.sha


def test_a_shared_rule_answers_alike_in_each_script_that_includes_it(
    redis_client: redis.Redis,
) -> None:
    alone = scripts.register(redis_client, "lock_release_if_drained")
    closing = scripts.register(redis_client, "gate_close")
    redis_client.set("lock", "mine")
    assert alone(keys=["lock", "mailbox"], args=["theirs"]) == -1
    assert closing(keys=["lock", "mailbox"], args=["theirs", 0, 0, 60]) == -1
    redis_client.rpush("mailbox", "m")
    assert alone(keys=["lock", "mailbox"], args=["mine"]) == 0
    assert closing(keys=["lock", "mailbox"], args=["mine", 0, 0, 60]) == 0
    assert closing(keys=["lock", "mailbox"], args=["mine", 1, 0, 60]) == 1
    assert redis_client.exists("lock") == 0
