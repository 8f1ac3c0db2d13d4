"""Schedules mean what an admin reads in them: standard crontab weekdays (0 and 7 Sunday,
5 Friday) in the commune's time zone; too frequent or never-coming schedules are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler import crontab
from scheduler.crontab import CronError, last_fire, parse

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 09:00 in Vietnam
WEEKDAY = {0: 6, 1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6}  # crontab -> Python's Monday = 0


@pytest.mark.parametrize("day", range(8))
def test_every_numbered_weekday_fires_on_that_day_in_the_communes_time_zone(day):
    cron = parse(f"0 16 * * {day}", TZ, NOW)
    fire = cron.trigger(TZ).get_next_fire_time(None, NOW)
    local = fire.astimezone(TZ)
    assert local.weekday() == WEEKDAY[day] and (local.hour, local.minute) == (16, 0)


def test_friday_is_five_and_ranges_and_steps_follow_crontab():
    fire = parse("0 16 * * 5", TZ, NOW).trigger(TZ).get_next_fire_time(None, NOW)
    assert fire.astimezone(TZ).strftime("%A %H:%M") == "Friday 16:00"

    def days(field):
        trigger = parse(f"0 8 * * {field}", TZ, NOW).trigger(TZ)
        fire, seen = NOW, []
        for _ in range(7):
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
            seen.append(fire.astimezone(TZ).strftime("%a"))
        return sorted(set(seen), key=seen.index)

    assert days("1-5") == ["Tue", "Wed", "Thu", "Fri", "Mon"]  # from Monday 09:00 on
    assert set(days("*/2")) == {"Sun", "Tue", "Thu", "Sat"}
    assert set(days("5-7")) == {"Fri", "Sat", "Sun"}
    assert set(days("sat,sun")) == {"Sat", "Sun"}


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("* * * * *", "too_often"),
        ("*/5 * * * *", "too_often"),
        ("0,30 * * * *", "too_often"),
        ("0 0 30 2 *", "never"),
        ("0 0 31 4 *", "never"),
        ("0 16 * * 8", "bad_day"),
        ("0 16 * * fri-mon", "bad_day"),
        ("0 16 * *", "fields"),
        ("0 25 * * *", "fields"),
    ],
)
def test_schedules_that_cannot_be_used_are_refused_with_a_reason(cron, reason):
    with pytest.raises(CronError) as refused:
        parse(cron, TZ, NOW)
    assert refused.value.reason == reason


def test_the_last_fire_is_found_in_a_few_steps_whatever_the_schedule(monkeypatch):
    calls = 0
    real = crontab.CronTrigger.get_next_fire_time

    def counted(self, previous, now):
        nonlocal calls
        calls += 1
        return real(self, previous, now)

    monkeypatch.setattr(crontab.CronTrigger, "get_next_fire_time", counted)
    hourly = last_fire("15 * * * *", TZ, NOW)
    assert hourly == datetime(2026, 11, 23, 8, 15, tzinfo=TZ)
    weekly = last_fire("0 16 * * 5", TZ, NOW)
    assert weekly == datetime(2026, 11, 20, 16, 0, tzinfo=TZ)
    quarterly = last_fire("0 7 1 1,4,7,10 *", TZ, NOW)
    assert quarterly == datetime(2026, 10, 1, 7, 0, tzinfo=TZ)
    assert last_fire("0 7 1 1 *", TZ, NOW) is None  # not within the 100 days looked at
    # The old walk took one step per tick: 2,400 for an hourly schedule over 100 days.
    assert calls < 60


def test_schedules_are_said_in_words():
    assert crontab.describe("0 16 * * 5").values == {"time": "16:00", "days": "fri"}
    assert crontab.describe("0 16 * * fri").key == "schedule.when.weekly"
    assert crontab.describe("0 3 * * *").key == "schedule.when.daily"
    assert crontab.describe("0 7 1 * *").values == {"time": "07:00", "day": "1"}
    assert crontab.describe("0 7 1 1,4,7,10 *").key == "schedule.when.months"
