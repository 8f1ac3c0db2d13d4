"""Schedules as people write them: standard crontab, checked, turned into APScheduler
triggers, and described in words.

APScheduler 3 reads a numeric day of week with 0 = Monday, so "0 16 * * 5", which every
admin reads as Friday, would fire on Saturday, and 7 (Sunday) is refused. Here the day of
week follows standard crontab (0 and 7 = Sunday, 1 = Monday … 6 = Saturday) and is handed
to APScheduler as day names, which it reads unambiguously. Written here because APScheduler
has no option for it and the translation is one field.

A schedule must fire at most once an hour (one minute value) and at least once a year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab 0..6 (7 = 0)
_NUMBER = re.compile(r"^\d+$")
YEAR = timedelta(days=366)


class CronError(ValueError):
    """A schedule that cannot be used; reason is a catalogue key under schedule.error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _day(token: str) -> int:
    token = token.lower()
    if _NUMBER.match(token):
        value = int(token)
        if value > 7:
            raise CronError("bad_day")
        return value % 7
    if token[:3] in DAY_NAMES:
        return DAY_NAMES.index(token[:3])
    raise CronError("bad_day")


def _days(field: str) -> str:
    """A crontab day-of-week field as APScheduler day names (an explicit list)."""
    if field == "*":
        return "*"
    chosen: set[int] = set()
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if _NUMBER.match(step_text) else 1
        if step_text and (not _NUMBER.match(step_text) or step == 0):
            raise CronError("bad_day")
        if body == "*":
            first, last = 0, 6
        elif "-" in body:
            start, _, end = body.partition("-")
            first, last = _day(start), _day(end)
            if end.strip() in ("7",):  # "1-7": Monday to Sunday
                last = 7
            if last < first:
                raise CronError("bad_day")
        else:
            first = last = _day(body)
        chosen.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(DAY_NAMES[d] for d in sorted(chosen))


@dataclass(frozen=True)
class Cron:
    minute: str
    hour: str
    day: str
    month: str
    weekday: str  # as typed (standard numbering)

    @property
    def text(self) -> str:
        return " ".join((self.minute, self.hour, self.day, self.month, self.weekday))

    def trigger(self, tz: ZoneInfo) -> CronTrigger:
        return CronTrigger(
            minute=self.minute,
            hour=self.hour,
            day=self.day,
            month=self.month,
            day_of_week=_days(self.weekday),
            timezone=tz,
        )


def parse(text: str, tz: ZoneInfo, now: datetime) -> Cron:
    """A checked schedule, or CronError saying why not."""
    fields = text.split()
    if len(fields) != 5:
        raise CronError("fields")
    cron = Cron(*fields)
    if not _NUMBER.match(cron.minute) or int(cron.minute) > 59:
        raise CronError("too_often")  # one minute value: at most once an hour
    try:
        trigger = cron.trigger(tz)
    except CronError:
        raise
    except ValueError as exc:
        raise CronError("fields") from exc
    first = trigger.get_next_fire_time(None, now)
    if first is None or first - now > YEAR:
        raise CronError("never")
    return cron


def trigger(text: str, tz: ZoneInfo) -> CronTrigger:
    """The trigger of a stored schedule (checked when it was written)."""
    fields = text.split()
    if len(fields) != 5:
        raise CronError("fields")
    return Cron(*fields).trigger(tz)


def last_fire(
    text: str, tz: ZoneInfo, now: datetime, window: timedelta = timedelta(days=100)
) -> datetime | None:
    """The latest time at or before now that the schedule fires; None if not within window.

    Looks back in doubling spans from an hour, so that it takes a few dozen steps whatever
    the schedule, instead of walking every tick of the window."""
    cron_trigger = trigger(text, tz)
    span = timedelta(hours=1)
    while True:
        span = min(span, window)
        candidate = cron_trigger.get_next_fire_time(None, now - span)
        if candidate is not None and candidate <= now:
            found = candidate
            while True:
                following = cron_trigger.get_next_fire_time(found, found + timedelta(seconds=1))
                if following is None or following > now:
                    return found
                found = following
        if span >= window:
            return None
        span *= 2


@dataclass(frozen=True)
class Words:
    """The parts of a schedule to say in words: catalogue keys and values."""

    key: str  # schedule.when.weekly / daily / monthly / raw
    values: dict[str, str]


def describe(text: str) -> Words:
    """How to say a schedule: "Thứ Sáu 16:00", "hằng ngày 03:00", "ngày 1 hằng tháng 07:00"."""
    fields = text.split()
    if len(fields) != 5 or not all(_NUMBER.match(f) for f in fields[:2]):
        return Words("schedule.when.raw", {"cron": text})
    minute, hour, day, month, weekday = fields
    clock = f"{int(hour):02d}:{int(minute):02d}"
    if day == "*" and month == "*":
        if weekday == "*":
            return Words("schedule.when.daily", {"time": clock})
        try:
            names = _days(weekday).split(",")
        except CronError:
            return Words("schedule.when.raw", {"cron": text})
        return Words("schedule.when.weekly", {"time": clock, "days": ",".join(names)})
    if _NUMBER.match(day) and weekday == "*":
        if month == "*":
            return Words("schedule.when.monthly", {"time": clock, "day": day})
        if all(_NUMBER.match(m) for m in month.split(",")):
            return Words("schedule.when.months", {"time": clock, "day": day, "months": month})
    return Words("schedule.when.raw", {"cron": text})
