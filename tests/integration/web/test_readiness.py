"""/readyz answers for the broker and the database, cheaply; webhooks never touch SQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from hub.domains.registry import DomainRegistry
from hub.queue import create_celery
from hub.settings import Settings
from hub.web import Receiver, create_app
from hub.web.health import DatabaseProbe
from tests.conftest import SAMPLE_DOMAINS, TEST_REDIS_URL, service_missing
from tests.e2e.conftest import SECRET, message_created, post_signed

pytestmark = pytest.mark.integration

TEST_DATABASE_URL = os.environ.get(
    "CHATWOOTAI_TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
DOWN_DATABASE_URL = "postgresql+psycopg2://chatwootai:s3cret@127.0.0.1:1/chatwootai"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def postgres_url() -> str:
    """The test PostgreSQL's URL, once it answers (skips locally, fails in CI, when down)."""
    engine = sqlalchemy.create_engine(
        TEST_DATABASE_URL, poolclass=NullPool, connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except OperationalError as error:
        service_missing(f"PostgreSQL at {TEST_DATABASE_URL}", error)
    finally:
        engine.dispose()
    return TEST_DATABASE_URL


def receiver_for(
    redis_client: redis.Redis, database_url: str, clock: Clock | None = None
) -> tuple[Receiver, FlaskClient]:
    settings = Settings(
        redis_url=TEST_REDIS_URL,
        domains_dir=SAMPLE_DOMAINS,
        database_url=database_url,
        webhook_secret=SECRET,  # type: ignore[arg-type]
    )
    probe = DatabaseProbe(database_url, clock=clock) if clock else None
    receiver = Receiver(
        settings,
        redis_client,
        DomainRegistry(SAMPLE_DOMAINS),
        create_celery(settings),
        database=probe,
    )
    client = create_app({"RECEIVER": receiver, "TESTING": True}).test_client()
    return receiver, client


@pytest.fixture
def probes() -> Iterator[list[Receiver]]:
    """Receivers whose probe engines are disposed after the test."""
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.database.close()


def test_readiness_is_200_when_redis_and_postgresql_answer(
    redis_client: redis.Redis, postgres_url: str, probes: list[Receiver]
) -> None:
    receiver, client = receiver_for(redis_client, postgres_url)
    probes.append(receiver)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ok"


def test_readiness_is_503_naming_the_database_when_it_is_down(
    redis_client: redis.Redis, probes: list[Receiver]
) -> None:
    receiver, client = receiver_for(redis_client, DOWN_DATABASE_URL)
    probes.append(receiver)
    response = client.get("/readyz")
    assert response.status_code == 503
    problems = response.json["problems"]
    assert list(problems) == ["database"]
    assert "127.0.0.1:1" in problems["database"]
    assert "s3cret" not in problems["database"]  # the password never reaches the answer


def test_readiness_names_both_redis_and_the_database_when_both_are_down(
    probes: list[Receiver],
) -> None:
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    receiver, client = receiver_for(broken, DOWN_DATABASE_URL)
    probes.append(receiver)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert set(response.json["problems"]) == {"redis", "database"}


def test_a_polling_load_balancer_costs_one_select_per_interval(
    redis_client: redis.Redis, postgres_url: str, probes: list[Receiver]
) -> None:
    clock = Clock()
    receiver, client = receiver_for(redis_client, postgres_url, clock)
    probes.append(receiver)
    for _ in range(5):
        assert client.get("/readyz").status_code == 200
    assert receiver.database.checks == 1
    clock.now += receiver.database.ttl
    assert client.get("/readyz").status_code == 200
    assert receiver.database.checks == 2


def test_a_database_that_comes_back_is_seen_once_the_cached_answer_expires(
    redis_client: redis.Redis, postgres_url: str, probes: list[Receiver]
) -> None:
    clock = Clock()
    receiver, client = receiver_for(redis_client, postgres_url, clock)
    probes.append(receiver)
    receiver.database.url = DOWN_DATABASE_URL  # as if the server went away
    assert client.get("/readyz").status_code == 503
    receiver.database.url = postgres_url
    receiver.database.close()
    assert client.get("/readyz").status_code == 503  # still the cached answer
    clock.now += receiver.database.ttl
    assert client.get("/readyz").status_code == 200


def test_the_embedded_sqlite_store_is_ready_without_any_server(
    redis_client: redis.Redis, tmp_path: Path, probes: list[Receiver]
) -> None:
    receiver, client = receiver_for(redis_client, f"sqlite:///{tmp_path / 'store.sqlite3'}")
    probes.append(receiver)
    assert client.get("/readyz").status_code == 200


def test_webhooks_never_query_the_database(
    redis_client: redis.Redis, probes: list[Receiver]
) -> None:
    receiver, client = receiver_for(redis_client, DOWN_DATABASE_URL, Clock())
    probes.append(receiver)
    response = post_signed(client, message_created("health", 10, 100, "Quero marcar consulta"))
    assert response.json["outcome"] == "queued"  # a database outage does not stop the intake
    assert receiver.database.checks == 0
