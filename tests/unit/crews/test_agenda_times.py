"""Dates and times as customers and models write them, read in the clinic's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.crews.tools.appointments import fits, parse_when, slot_when

CLINIC = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 26, 21, 0, tzinfo=CLINIC)  # a Thursday evening


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03 14:00", datetime(2026, 12, 3, 14, 0)),
        ("2026-12-03T14:00:00", datetime(2026, 12, 3, 14, 0)),
        ("03/12/2026 14:00", datetime(2026, 12, 3, 14, 0)),
        ("03/12 às 14h", datetime(2026, 12, 3, 14, 0)),
        ("3/12 às 14h30", datetime(2026, 12, 3, 14, 30)),
        ("sexta às 8h", datetime(2026, 11, 27, 8, 0)),
        ("quinta-feira, 03/12/2026 às 10:30", datetime(2026, 12, 3, 10, 30)),
        ("amanhã 9:00", datetime(2026, 11, 27, 9, 0)),
        ("05/01 às 9", datetime(2027, 1, 5, 9, 0)),  # no year: the next 5 January
    ],
)
def test_local_dates_and_times_are_read_in_the_domain_s_zone(text: str, expected: datetime) -> None:
    assert parse_when(text, CLINIC, NOW) == expected.replace(tzinfo=CLINIC)


def test_an_instant_with_an_offset_is_moved_to_the_domain_s_zone() -> None:
    moment = parse_when("2026-12-03T17:00:00+00:00", CLINIC, NOW)
    assert moment == datetime(2026, 12, 3, 14, 0, tzinfo=CLINIC)
    assert moment is not None and moment.astimezone(UTC).hour == 17


@pytest.mark.parametrize("text", ["semana que vem", "03/12", "às 14h", "31/02 10:00", "25:00"])
def test_words_that_name_no_instant_give_nothing(text: str) -> None:
    assert parse_when(text, CLINIC, NOW) is None


def test_a_slot_is_written_with_weekday_date_and_time() -> None:
    assert slot_when(datetime(2026, 12, 4, 8, 0, tzinfo=CLINIC)) == (
        "sexta-feira, 04/12/2026 às 08:00"
    )


@pytest.mark.parametrize(
    ("when", "fitting"),
    [
        ("sexta", True),
        ("quinta", False),
        ("04/12", True),
        ("05/12", False),
        ("de manhã", True),
        ("à tarde", False),
        ("sexta 8h", True),
        ("sexta 9h", False),
        ("", True),
    ],
)
def test_a_slot_fits_the_day_period_and_time_preferred(when: str, fitting: bool) -> None:
    starts_at = datetime(2026, 12, 4, 8, 0, tzinfo=CLINIC)
    assert fits(starts_at, when, date(2026, 11, 26)) is fitting
