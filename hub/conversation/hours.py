"""Business hours: is a human there now, and when are they back.

A domain's `business_hours` give weekly ranges per weekday and the holidays,
which follow `holiday_hours` instead (closed when empty). Times are local to
the domain's timezone; ranges never cross midnight (the schema refuses them).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.domains.schema import BusinessHours
from hub.domains.vocabulary import WEEKDAYS

WEEKDAY_NAMES_PT = (
    "segunda-feira",
    "terça-feira",
    "quarta-feira",
    "quinta-feira",
    "sexta-feira",
    "sábado",
    "domingo",
)
LOOKAHEAD_DAYS = 14
"""How far to look for the next opening: two weeks cover any weekly schedule."""


def _ranges(hours: BusinessHours, day: date) -> list[tuple[time, time]]:
    specs = (
        hours.holiday_hours
        if day in hours.holidays
        else hours.weekly.get(
            WEEKDAYS[day.weekday()],
            [],  # type: ignore[call-overload]
        )
    )
    result = []
    for spec in specs:
        start, end = spec.split("-")
        end_time = time.max if end == "24:00" else time.fromisoformat(end)
        result.append((time.fromisoformat(start), end_time))
    return sorted(result)


def is_open(hours: BusinessHours, now: datetime) -> bool:
    """True when `now` (aware, in the domain's zone) falls inside an opening range."""
    return any(start <= now.time() < end for start, end in _ranges(hours, now.date()))


def next_opening(hours: BusinessHours, now: datetime) -> datetime | None:
    """The next moment humans are back (now itself when open); None if never within 2 weeks."""
    if is_open(hours, now):
        return now
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = now.date() + timedelta(days=offset)
        for start, _end in _ranges(hours, day):
            moment = datetime.combine(day, start, tzinfo=now.tzinfo)
            if moment > now:
                return moment
    return None


def describe_opening(moment: datetime | None, now: datetime) -> str:
    """Portuguese words for when humans are back: "hoje às 14:00", "amanhã às 09:00"…"""
    if moment is None:
        return "assim que possível"
    days = (moment.date() - now.date()).days
    at = f"às {moment:%H:%M}"
    if days == 0:
        return f"hoje {at}"
    if days == 1:
        return f"amanhã {at}"
    if days < 7:
        return f"{WEEKDAY_NAMES_PT[moment.weekday()]} {at}"
    return f"{WEEKDAY_NAMES_PT[moment.weekday()]}, {moment:%d/%m}, {at}"


def local_now(timezone: str, now: datetime | None = None) -> datetime:
    """`now` (or the current time) in the domain's timezone."""
    zone = ZoneInfo(timezone)
    return now.astimezone(zone) if now is not None else datetime.now(zone)
