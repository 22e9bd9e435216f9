"""Cron schedules (``"*/5 9-17 * * 1-5"``): parsing, and the next time one fires.

Five fields (minute, hour, day of month, month, day of week 0-7 with 0 and 7 for
Sunday), each ``*``, a number, a range ``a-b``, a list ``a,b`` and a step ``/n``.
As in cron, when both day fields are restricted a day matching either one fires.
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo

from ._errors import ApiError

__all__ = ["CronSpec", "next_fire", "parse"]

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))


@dataclasses.dataclass(frozen=True)
class CronSpec:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def day_matches(self, date: datetime.date) -> bool:
        if date.month not in self.months:
            return False
        weekday = (date.weekday() + 1) % 7  # Python: Monday 0; cron: Sunday 0
        by_day, by_weekday = date.day in self.days, weekday in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if span == "*":
                start, end = low, high
            elif "-" in span:
                start, end = (int(x) for x in span.split("-", 1))
            else:
                start = end = int(span)
        except ValueError:
            raise ApiError(422, f"schedule: bad {name} field {text!r}") from None
        if step < 1 or not low <= start <= end <= high:
            raise ApiError(422, f"schedule: {name} field {text!r} is out of {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse(schedule: str) -> CronSpec:
    """A five-field cron expression.

    Raises:
        ApiError: 422 naming ``schedule`` for anything else.
    """
    parts = schedule.split()
    if len(parts) != 5:
        raise ApiError(422, "schedule: needs five fields (minute hour day month weekday)")
    sets = [_field(text, *spec) for text, spec in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(0 if d == 7 else d for d in sets[4])
    return CronSpec(sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] == "*", parts[4] == "*")


def next_fire(
    spec: CronSpec, after: datetime.datetime, timezone: str | None = None
) -> datetime.datetime:
    """The first minute strictly after ``after`` (aware) that ``spec`` matches, read in
    ``timezone`` (default UTC); returned in UTC."""
    try:
        zone = zoneinfo.ZoneInfo(timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ApiError(422, f"timezone: unknown time zone {timezone!r}") from None
    local = after.astimezone(zone).replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    for offset in range(366 * 5):
        date = local.date() + datetime.timedelta(days=offset)
        if not spec.day_matches(date):
            continue
        for hour in sorted(spec.hours):
            for minute in sorted(spec.minutes):
                moment = datetime.datetime(
                    date.year, date.month, date.day, hour, minute, tzinfo=zone
                )
                if moment >= local:
                    return moment.astimezone(datetime.timezone.utc)
    raise ApiError(422, "schedule: never fires")
