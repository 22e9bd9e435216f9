"""Cron expressions: what they match and the next time they fire."""

from __future__ import annotations

import datetime

import pytest

from graphpool.server._cron import next_fire, parse
from graphpool.server._errors import ApiError

UTC = datetime.timezone.utc
THURSDAY = datetime.datetime(2026, 12, 3, 5, 53, 20, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("* * * * *", datetime.datetime(2026, 12, 3, 5, 54, tzinfo=UTC)),
        ("*/15 * * * *", datetime.datetime(2026, 12, 3, 6, 0, tzinfo=UTC)),
        ("0 9 * * 1-5", datetime.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),
        ("0 9 * * 6,0", datetime.datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),  # Saturday
        ("0 9 * * 7", datetime.datetime(2026, 12, 6, 9, 0, tzinfo=UTC)),  # 7 is Sunday too
        ("30 2 1 * *", datetime.datetime(2027, 1, 1, 2, 30, tzinfo=UTC)),
        ("0 0 29 2 *", datetime.datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
        # both day fields restricted: either one matching fires (cron's rule)
        ("0 0 25 * 5", datetime.datetime(2026, 12, 4, 0, 0, tzinfo=UTC)),
        ("10-20/5 5 * * *", datetime.datetime(2026, 12, 4, 5, 10, tzinfo=UTC)),
    ],
)
def test_next_fire(schedule: str, expected: datetime.datetime) -> None:
    assert next_fire(parse(schedule), THURSDAY) == expected


def test_next_fire_is_strictly_after() -> None:
    on_the_minute = datetime.datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    assert next_fire(parse("0 * * * *"), on_the_minute) == on_the_minute.replace(hour=7)


def test_time_zones() -> None:
    fired = next_fire(parse("0 9 * * *"), THURSDAY, "America/New_York")
    assert fired == datetime.datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # 9:00 EST


@pytest.mark.parametrize(
    "schedule", ["* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "a * * * *", "*/0 * * * *"]
)
def test_bad_schedules(schedule: str) -> None:
    with pytest.raises(ApiError, match="schedule"):
        parse(schedule)


def test_a_schedule_that_never_fires() -> None:
    with pytest.raises(ApiError, match="never"):
        next_fire(parse("0 0 31 2 *"), THURSDAY)
