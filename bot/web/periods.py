"""The period picker of the desk: a week, month, quarter or year, this one or any before."""

from __future__ import annotations

from datetime import date, timedelta

from storage.periods import Period, containing

KINDS = ("week", "month", "quarter", "year")
MAX_BACK = 520


def picked(kind: str, back: str, today: date) -> Period:
    """The period of that kind `back` periods before the one containing today."""
    kind = kind if kind in KINDS else "month"
    steps = min(int(back), MAX_BACK) if back.isdecimal() else 0
    period = containing(kind, today)
    for _ in range(steps):
        period = containing(kind, period.start - timedelta(days=1))
    return period
