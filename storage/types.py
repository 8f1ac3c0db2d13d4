"""Column types that behave the same on SQLite and PostgreSQL, and the coarse times kept
where a time must not be matched to a tip's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC in Python; SQLite keeps no offset, so it is restored here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rounded(when: datetime, step: timedelta, *, up: bool = False) -> datetime:
    """when rounded down (or up) to a whole multiple of step since the epoch, in UTC.

    How times are kept where they must not be matched to a tip's: a day, an hour, ten
    minutes, instead of the microsecond."""
    offset = (when - _EPOCH) % step
    if not offset:
        return when.astimezone(UTC)
    return (when - offset + (step if up else timedelta(0))).astimezone(UTC)


def utcday() -> datetime:
    """Today's UTC midnight: the creation time of rows that name a chat account."""
    return rounded(utcnow(), timedelta(days=1))
