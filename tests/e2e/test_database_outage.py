"""PostgreSQL away: replies go on, and every turn's record is in the database soon after it
returns. A real worker process, the receiver, real Redis, the fake Chatwoot, and the
test PostgreSQL behind a TCP proxy the test cuts (`tests.fakes.tcp_proxy`).

The outage lasts CHATWOOTAI_TEST_DB_OUTAGE_SECONDS (20 s by default; the bench's
outages run sets 60).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import redis
import sqlalchemy
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from hub import defaults
from hub.store.migrate import upgrade
from tests.conftest import service_missing
from tests.e2e.conftest import ACCOUNTS, WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.tcp_proxy import TcpProxy, postgres_proxy  # noqa: F401  (fixture)
from tests.figures import report

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.long]
"""Run by `make bench` (`--only outages` / `pytest -m long`), not by `make test`: CI's time."""

TEST_DATABASE_URL = os.environ.get(
    "CHATWOOTAI_TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
OUTAGE_SECONDS = float(os.environ.get("CHATWOOTAI_TEST_DB_OUTAGE_SECONDS", "20"))
DURING = 8
"""Customers who write while the database is away, spread over the outage."""
CATCH_UP_SECONDS = 3 * defaults.TURN_SPOOL_DRAIN_SECONDS
REPLY_WITHIN_SECONDS = 15.0
"""A reply during the outage: the burst, a refused connection or two, the crew."""


@pytest.fixture
def schema_url() -> Iterator[tuple[str, sqlalchemy.Engine]]:
    """A migrated schema of its own on the test PostgreSQL: its URL, and a direct engine."""
    admin = sqlalchemy.create_engine(
        TEST_DATABASE_URL, poolclass=NullPool, connect_args={"connect_timeout": 5}
    )
    schema = f"test_outage_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except OperationalError as error:
        admin.dispose()
        service_missing(f"PostgreSQL at {TEST_DATABASE_URL}", error)
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    upgrade(url)
    direct = sqlalchemy.create_engine(url, poolclass=NullPool)
    yield url.render_as_string(hide_password=False), direct
    direct.dispose()
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def recorded(engine: sqlalchemy.Engine) -> dict[tuple[int, str], datetime]:
    """(message id, direction) → created_at of every row in the conversation store."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT message_id, direction, created_at FROM conversation_messages"
        ).all()
    return {(row[0], row[1]): row[2] for row in rows}


def replied(fake: FakeChatwoot, conversation_id: int) -> bool:
    return any(
        not body.get("private")
        for body in fake.messages(conversation_id, account_id=ACCOUNTS["retail"][0])
    )


def test_a_database_outage_delays_no_reply_and_loses_no_turn_record(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    redis_client: redis.Redis,
    schema_url: tuple[str, sqlalchemy.Engine],
    postgres_proxy: TcpProxy,  # noqa: F811
) -> None:
    url, direct = schema_url
    through_proxy = make_url(url).set(host="127.0.0.1", port=postgres_proxy.port)
    start_worker(
        env={"CHATWOOTAI_DATABASE_URL": through_proxy.render_as_string(hide_password=False)}
    )

    def ask(n: int) -> int:
        conversation = 7400 + n
        event = message_created("retail", conversation, 97400 + n, "Qual o horário das lojas?")
        assert post_signed(receiver_client, event).status_code == 200
        return conversation

    before = ask(0)
    fake_chatwoot.wait_for(lambda: replied(fake_chatwoot, before), timeout=30)
    assert (97400, "out") in recorded(direct)

    postgres_proxy.cut()
    cut_at = time.time()
    slowest = 0.0
    for n in range(1, DURING + 1):
        asked = time.time()
        conversation = ask(n)
        fake_chatwoot.wait_for(
            lambda c=conversation: replied(fake_chatwoot, c), timeout=REPLY_WITHIN_SECONDS
        )
        slowest = max(slowest, time.time() - asked)
        time.sleep(max(0.0, cut_at + n * OUTAGE_SECONDS / DURING - time.time()))
    assert int(redis_client.llen(defaults.TURN_SPOOL_KEY)) == DURING
    assert not any(message > 97400 for message, _ in recorded(direct))
    postgres_proxy.restore()
    back_at = time.time()
    assert back_at - cut_at >= OUTAGE_SECONDS

    wanted = {(97400 + n, way) for n in range(1, DURING + 1) for way in ("in", "out")}
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while not wanted <= recorded(direct).keys() and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = recorded(direct)
    caught_up = time.time() - back_at
    assert wanted <= rows.keys(), sorted(wanted - rows.keys())
    assert int(redis_client.llen(defaults.TURN_SPOOL_KEY)) == 0
    # Kept with the time each was answered, during the outage, not when written back.
    for key in wanted:
        assert rows[key].astimezone(UTC).timestamp() < back_at, key

    after = ask(DURING + 1)  # the worker's pool reconnected by itself
    fake_chatwoot.wait_for(lambda: replied(fake_chatwoot, after), timeout=30)
    fake_chatwoot.wait_for(lambda: (97400 + DURING + 1, "out") in recorded(direct), timeout=10)
    report(
        "database_outage",
        {
            "outage_seconds": OUTAGE_SECONDS,
            "replies_during_outage": DURING,
            "slowest_reply_during_outage_seconds": round(slowest, 1),
            "records_caught_up_seconds": round(caught_up, 1),
        },
    )
    handled = redis_client.hgetall("chatwootai:metrics:failures")
    assert int(handled.get("retail|store_unavailable", 0)) >= DURING
