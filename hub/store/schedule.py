"""Who can be booked and when: professionals, weekly windows, free slots.

Weekly windows are wall-clock times in the domain's time zone (passed in, as an
IANA name or a ZoneInfo); slots come back as aware datetimes in that zone.
Customers name a professional loosely ("a dermatologista", "Dra. Carla",
"carla mendes"): `match_professionals` finds who they mean by name or specialty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hub.exceptions import RecordNotFoundError
from hub.knowledge.text import normalize, tokenize
from hub.store.models import CANCELLED, Appointment, Professional


@dataclass(frozen=True)
class Slot:
    """One bookable appointment: who, and when (aware, in the domain's time zone)."""

    professional: str
    specialty: str
    starts_at: datetime
    ends_at: datetime


def zone(tz: ZoneInfo | str) -> ZoneInfo:
    """A ZoneInfo from an IANA name (or itself)."""
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def professionals(
    session: Session, domain: str, *, name: str | None = None, specialty: str | None = None
) -> list[Professional]:
    """The domain's professionals, optionally one name and/or a specialty (accent-blind).

    `name` must match the whole name; `specialty` may be part of it ("cardio").
    """
    statement = select(Professional).where(Professional.domain == domain)
    rows = session.scalars(statement.options(selectinload(Professional.availability)))
    return [
        row
        for row in rows
        if (name is None or normalize(row.name) == normalize(name))
        and (specialty is None or normalize(specialty) in normalize(row.specialty))
    ]


TITLES = frozenset({"dr", "dra", "doutor", "doutora", "drs", "dras"})
"""Forms of address that name no one in particular."""

GENERIC_WORDS = frozenset(
    tokenize(
        "consulta consultas profissional profissionais especialista especialidade "
        "medico medica medicos medicas horario horarios agenda atendimento"
    )
)
"""Words a customer puts around a name or specialty that identify nobody."""

MIN_PREFIX = 4
"""Shortest stem that may match as a prefix ("cardio" → cardiologia); shorter must be equal."""


def match_professionals(session: Session, domain: str, who: str) -> list[Professional]:
    """The domain's professionals a customer means by `who`, best matches only.

    The exact name wins. Otherwise each person scores one point per word of
    `who` that is a word of their name or specialty ("Dra. Carla", "carla
    mendes", "dermatologista", "a pediatra", "cardio"), and the top scorers
    are returned. Words are compared as `tokenize` writes them (accents folded,
    stemmed), one a prefix of the other; titles and generic words don't count.
    """
    people = professionals(session, domain)
    exact = [row for row in people if normalize(row.name) == normalize(who)]
    if exact:
        return exact
    words = [word for word in tokenize(who) if word not in TITLES | GENERIC_WORDS]
    scored = [
        (sum(_matches(word, f"{row.name} {row.specialty}") for word in words), row)
        for row in people
    ]
    best = max((score for score, _ in scored), default=0)
    return [row for score, row in scored if best and score == best]


def _matches(word: str, text: str) -> bool:
    """Whether `word` (a stem) is one of the words of `text`, or a prefix either way."""
    for other in tokenize(text):
        if other in TITLES:
            continue
        if word == other:
            return True
        short, long = sorted((word, other), key=len)
        if len(short) >= MIN_PREFIX and long.startswith(short):
            return True
    return False


def find_professional(session: Session, domain: str, name: str) -> Professional:
    """The domain's professional called `name`; raises when there is none."""
    found = professionals(session, domain, name=name)
    if not found:
        raise RecordNotFoundError(f"no professional {name!r} in domain {domain!r}")
    return found[0]


def slots_on(professional: Professional, day: date, tz: ZoneInfo) -> Iterator[Slot]:
    """Every slot of the professional's weekly windows on one local day, in order."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    length = professional.slot_minutes
    windows = [w for w in professional.availability if w.weekday == day.weekday()]
    for window in sorted(windows, key=lambda w: w.start_minute):
        for minute in range(window.start_minute, window.end_minute - length + 1, length):
            starts_at = midnight + timedelta(minutes=minute)
            ends_at = starts_at + timedelta(minutes=length)
            yield Slot(professional.name, professional.specialty, starts_at, ends_at)


def is_offered(professional: Professional, starts_at: datetime, tz: ZoneInfo) -> bool:
    """Whether `starts_at` is exactly the start of one of the professional's slots."""
    local = starts_at.astimezone(tz)
    return any(slot.starts_at == local for slot in slots_on(professional, local.date(), tz))


def free_slots(
    session: Session,
    domain: str,
    *,
    start: date,
    end: date,
    tz: ZoneInfo | str,
    now: datetime,
    professional: str | None = None,
    specialty: str | None = None,
    who: str | None = None,
) -> list[Slot]:
    """Slots from local day `start` to `end` (inclusive) that begin after `now` and are free.

    Free means: inside a weekly window of the professional (or of everyone with
    the specialty, or of everyone `who` loosely names, see `match_professionals`;
    of everyone when none is given) and not taken by an appointment that is not
    cancelled. Sorted by time, then professional.
    """
    tzinfo = zone(tz)
    if who is not None:
        chosen = match_professionals(session, domain, who)
    else:
        chosen = professionals(session, domain, name=professional, specialty=specialty)
    if not chosen or end < start:
        return []
    taken = _taken(session, domain, chosen, start, end, tzinfo)
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    found = [
        slot
        for row in chosen
        for day in days
        for slot in slots_on(row, day, tzinfo)
        if slot.starts_at > now and (row.id, slot.starts_at.astimezone(UTC)) not in taken
    ]
    return sorted(found, key=lambda slot: (slot.starts_at, slot.professional))


def _taken(
    session: Session, domain: str, chosen: list[Professional], start: date, end: date, tz: ZoneInfo
) -> set[tuple[int, datetime]]:
    """(professional id, UTC start) of every active appointment in the local day range."""
    first = datetime(start.year, start.month, start.day, tzinfo=tz)
    last = datetime(end.year, end.month, end.day, tzinfo=tz) + timedelta(days=1)
    statement = select(Appointment.professional_id, Appointment.starts_at).where(
        Appointment.domain == domain,
        Appointment.professional_id.in_([row.id for row in chosen]),
        Appointment.status != CANCELLED,
        Appointment.starts_at >= first,
        Appointment.starts_at < last,
    )
    return {(row_id, starts_at) for row_id, starts_at in session.execute(statement)}
