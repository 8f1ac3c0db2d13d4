"""Reporting periods (week, month, quarter, year) in a commune's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KINDS = ("week", "month", "quarter", "year")
ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date  # first day, inclusive
    end: date  # day after the last, exclusive

    def utc(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time(), tz).astimezone(UTC),
            datetime.combine(self.end, time(), tz).astimezone(UTC),
        )

    def last_year(self) -> Period:
        """The same period a year before ("cùng kỳ"); for a week, the same ISO week."""
        if self.kind == "week":
            return Period("week", self.start - timedelta(weeks=52), self.end - timedelta(weeks=52))
        return Period(self.kind, _minus_year(self.start), _minus_year(self.end))

    def previous(self) -> Period:
        return containing(self.kind, self.start - timedelta(days=1))

    def mondays(self) -> list[date]:
        first = self.start + timedelta(days=(7 - self.start.weekday()) % 7)
        return [
            first + timedelta(weeks=i)
            for i in range(((self.end - first).days + 6) // 7)
            if first + timedelta(weeks=i) < self.end
        ]

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        if self.kind == "week":
            return f"{self.start:%d/%m} – {last:%d/%m/%Y}"
        if self.kind == "month":
            return f"{self.start:%m/%Y}"
        if self.kind == "quarter":
            # As Vietnamese reports write a quarter: "IV/2026" (quý IV/2026).
            return f"{ROMAN[(self.start.month - 1) // 3]}/{self.start.year}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start:%d/%m/%Y} – {last:%d/%m/%Y}"


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def containing(kind: str, day: date) -> Period:
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=7))
    if kind == "month":
        start = day.replace(day=1)
        return Period(kind, start, _add_months(start, 1))
    if kind == "quarter":
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        return Period(kind, start, _add_months(start, 3))
    if kind == "year":
        return Period(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1))
    raise ValueError(f"unknown period {kind!r}: use {', '.join(KINDS)}")


def last_complete(kind: str, today: date) -> Period:
    return containing(kind, today).previous()


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)
