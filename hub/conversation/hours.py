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
_WHEN: dict[str, dict[str, object]] = {
    "pt": {"soon": "assim que possível", "at": "às", "today": "hoje", "tomorrow": "amanhã",
           "days": WEEKDAY_NAMES_PT},
    "en": {"soon": "as soon as possible", "at": "at", "today": "today", "tomorrow": "tomorrow",
           "days": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")},
    "es": {"soon": "lo antes posible", "at": "a las", "today": "hoy", "tomorrow": "mañana",
           "days": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")},
}  # fmt: skip
"""The words of `describe_opening` per language code (Portuguese for any other)."""
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


def describe_opening(moment: datetime | None, now: datetime, language: str = "pt") -> str:
    """Words for when humans are back, in `language` (a code; Portuguese by default):
    "hoje às 14:00", "amanhã às 09:00", "tomorrow at 09:00"…"""
    words = _WHEN.get(language.split("-")[0].lower(), _WHEN["pt"])
    if moment is None:
        return str(words["soon"])
    days = (moment.date() - now.date()).days
    at = f"{words['at']} {moment:%H:%M}"
    names = words["days"]
    assert isinstance(names, tuple)
    if days == 0:
        return f"{words['today']} {at}"
    if days == 1:
        return f"{words['tomorrow']} {at}"
    if days < 7:
        return f"{names[moment.weekday()]} {at}"
    return f"{names[moment.weekday()]}, {moment:%d/%m}, {at}"


def local_now(timezone: str, now: datetime | None = None) -> datetime:
    """`now` (or the current time) in the domain's timezone."""
    zone = ZoneInfo(timezone)
    return now.astimezone(zone) if now is not None else datetime.now(zone)
