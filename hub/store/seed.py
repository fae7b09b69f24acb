"""Load a domain's `data/*.yaml` rows into the store, idempotently.

Rows are matched by their natural key: (domain, sku) for products, (domain,
number) for orders, (domain, name) for professionals. A new key is inserted, a
changed row updated, an equal one left alone, so seeding twice changes nothing.
Rows whose key disappeared from the YAML are kept (they may have appointments,
or have been added by an operator): seeding adds and updates, it never deletes.
The one exception is a professional's weekly windows, which are replaced by the
YAML's, since the YAML is where a schedule is edited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hub.domains.content import ProfessionalRow
from hub.domains.domain import Domain
from hub.domains.vocabulary import WEEKDAYS
from hub.store.models import Availability, Base, Order, Product, Professional


@dataclass
class SeedCounts:
    """What seeding did to one kind of row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def tally(self, changed: bool) -> None:
        """Count one existing row, updated or not."""
        if changed:
            self.updated += 1
        else:
            self.unchanged += 1


@dataclass
class SeedReport:
    """Counts per kind of row for one domain."""

    domain: str
    products: SeedCounts = field(default_factory=SeedCounts)
    orders: SeedCounts = field(default_factory=SeedCounts)
    professionals: SeedCounts = field(default_factory=SeedCounts)

    @property
    def changed(self) -> bool:
        """Whether anything was inserted or updated."""
        kinds = (self.products, self.orders, self.professionals)
        return any(kind.created or kind.updated for kind in kinds)


def seed(session: Session, domain: Domain) -> SeedReport:
    """Upsert every row of the domain's seed files; returns what it did."""
    report = SeedReport(domain.id)
    files = domain.seed_data
    products = [row.model_dump() for data in files for row in data.products]
    _upsert_all(session, report.products, Product, domain.id, "sku", products)
    orders = [row.model_dump() for data in files for row in data.orders]
    _upsert_all(session, report.orders, Order, domain.id, "number", orders)
    existing = _existing(session, Professional, domain.id, "name")
    for person in {row.name: row for data in files for row in data.professionals}.values():
        values = person.model_dump(exclude={"weekly"})
        row = existing.get(person.name)
        if row is None:
            row = Professional(domain=domain.id, **values)
            session.add(row)
            _sync_windows(session, row, person)
            report.professionals.created += 1
        else:
            changed = _apply(row, values)
            report.professionals.tally(_sync_windows(session, row, person) or changed)
    session.flush()
    return report


def _upsert_all(
    session: Session,
    counts: SeedCounts,
    model: type[Product | Order],
    domain: str,
    key: str,
    rows: list[dict[str, Any]],
) -> None:
    existing = _existing(session, model, domain, key)
    for values in {values[key]: values for values in rows}.values():  # the last file wins
        row = existing.get(values[key])
        if row is None:
            session.add(model(domain=domain, **values))
            counts.created += 1
        else:
            counts.tally(_apply(row, values))


def _existing(
    session: Session, model: type[Product | Order | Professional], domain: str, key: str
) -> dict[str, Any]:
    statement = select(model).where(model.domain == domain)
    if model is Professional:
        statement = statement.options(selectinload(Professional.availability))
    return {getattr(row, key): row for row in session.scalars(statement)}


def _apply(row: Base, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when any did."""
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    return bool(changed)


def _sync_windows(session: Session, person: Professional, row: ProfessionalRow) -> bool:
    """Make the person's weekly windows the YAML's; True when anything changed."""
    wanted = {
        (WEEKDAYS.index(day), *_minutes(time_range))
        for day, ranges in row.weekly.items()
        for time_range in ranges
    }
    current = {(w.weekday, w.start_minute, w.end_minute): w for w in person.availability}
    if set(current) == wanted:
        return False
    for key in current.keys() - wanted:
        person.availability.remove(current[key])
    session.flush()  # deletes first: a new window may reuse a removed one's unique key
    for weekday, start, end in sorted(wanted - current.keys()):
        person.availability.append(
            Availability(domain=person.domain, weekday=weekday, start_minute=start, end_minute=end)
        )
    return True


def _minutes(time_range: str) -> tuple[int, int]:
    """ "08:00-12:00" → (480, 720): minutes since local midnight."""
    start, end = (part.split(":") for part in time_range.split("-"))
    return int(start[0]) * 60 + int(start[1]), int(end[0]) * 60 + int(end[1])
