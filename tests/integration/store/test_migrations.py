"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from hub.domains.registry import DomainRegistry
from hub.store.database import create_engine
from hub.store.migrate import current_revision, domain_accounts, downgrade, upgrade
from hub.store.models import Base

pytestmark = pytest.mark.integration


def test_the_migrated_schema_has_no_difference_from_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(sqlalchemy.inspect(connection).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_the_double_booking_index_is_unique_and_skips_cancelled_appointments(
    engine: Engine,
) -> None:
    with engine.connect() as connection:
        indexes = sqlalchemy.inspect(connection).get_indexes("appointments")
    index = next(ix for ix in indexes if ix["name"] == "uq_appointments_active_slot")
    assert index["unique"]
    assert index["column_names"] == ["domain", "professional_id", "starts_at"]
    where = index.get("dialect_options", {}).get(f"{engine.dialect.name}_where")
    assert "cancelled" in str(where)


def test_upgrading_twice_leaves_the_database_at_the_head(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    upgrade(database_url)
    assert current_revision(database_url) == "0006"


def test_downgrading_to_base_drops_every_table(database_url: str) -> None:
    upgrade(database_url)
    downgrade(database_url, "base")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert set(sqlalchemy.inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    assert current_revision(database_url) is None


def test_old_appointments_keep_their_rows_and_get_their_domain_s_account(
    database_url: str,
) -> None:
    upgrade(database_url, "0003")
    engine = create_engine(database_url)
    when = "2026-03-06 12:00:00+00:00", "2026-03-06 12:30:00+00:00"
    try:
        with engine.begin() as connection:
            for domain, professional in (
                ("health", 1),
                ("default", 2),
                ("default", 4),
                ("other", 3),
            ):
                connection.execute(
                    sqlalchemy.text(
                        "INSERT INTO professionals (id, domain, name, specialty, slot_minutes) "
                        "VALUES (:id, :domain, :name, 'Clínica', 30)"
                    ),
                    {"id": professional, "domain": domain, "name": f"Dra. {professional}"},
                )
            rows = [
                ("health", 1, 5),  # the domain names its account
                ("default", 2, 7),  # no account configured; the messages name one
                ("default", 4, 8),  # two accounts had a conversation 8: unknowable
                ("other", 3, None),  # no account, no conversation
            ]
            for domain, professional, conversation in rows:
                connection.execute(
                    sqlalchemy.text(
                        "INSERT INTO appointments (domain, professional_id, starts_at, ends_at, "
                        "customer_name, conversation_id, status, created_at) VALUES (:domain, "
                        ":professional, :starts, :ends, 'Joana', :conversation, 'booked', :starts)"
                    ),
                    {
                        "domain": domain,
                        "professional": professional,
                        "conversation": conversation,
                        "starts": when[0],
                        "ends": when[1],
                    },
                )
            for account, conversation, message in ((4, 7, 1), (4, 8, 2), (6, 8, 3)):
                connection.execute(
                    sqlalchemy.text(
                        "INSERT INTO conversation_messages (domain, account_id, conversation_id, "
                        "message_id, direction, text, created_at) VALUES ('default', :account, "
                        ":conversation, :message, 'in', 'oi', :at)"
                    ),
                    {"account": account, "conversation": conversation, "message": message,
                     "at": when[0]},
                )  # fmt: skip
        upgrade(database_url, accounts={"health": 2})
        with engine.connect() as connection:
            found = connection.execute(
                sqlalchemy.text(
                    "SELECT domain, conversation_id, account_id, customer_name FROM appointments "
                    "ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in found] == [
        ("health", 5, 2, "Joana"),
        ("default", 7, 4, "Joana"),
        ("default", 8, None, "Joana"),
        ("other", None, None, "Joana"),
    ]


def test_the_accounts_old_rows_get_are_the_domains_own(registry: DomainRegistry) -> None:
    accounts = domain_accounts(registry.domains.values())
    assert accounts == {"cosmetics": 1, "health": 2, "retail": 3}  # `default` names none
