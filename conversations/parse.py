"""Reading numbers and times as people type them in Vietnamese (with or without diacritics)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conversations.answers import Precision, When
from locales.text import fold

_ZERO_WORDS = {"khong", "ko", "k", "khong co", "none", "no", "zero"}
_NUMBER_WORDS = {
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
    "muoi": 10,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
}


def parse_number(text: str) -> int | None:
    """An integer from "12", "12 người", "không", "hai"; None when it is not a number."""
    s = fold(text).strip(" .!")
    if s in _ZERO_WORDS:
        return 0
    if s in _NUMBER_WORDS:
        return _NUMBER_WORDS[s]
    m = re.fullmatch(r"(-?\d{1,7})(?:\s+\w+)?", s.replace(".", "").replace(",", ""))
    return int(m.group(1)) if m else None


_DAY_WORDS = {
    "hom nay": 0,
    "nay": 0,
    "today": 0,
    "hom qua": 1,
    "qua": 1,
    "yesterday": 1,
    "hom kia": 2,
}
_PART_WORDS = {
    "sang": "am",
    "trua": "noon",
    "chieu": "pm",
    "toi": "pm",
    "dem": "night",
    "morning": "am",
    "afternoon": "pm",
    "evening": "pm",
    "night": "night",
}
_DATE = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2,4}))?\b")
_TIME = re.compile(r"\b(\d{1,2})\s*(?:h|g|gio|:|giờ)\s*(\d{1,2})?\s*(?:p|phut)?\b")


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> When | None:
    """ "20/11 19h30", "19:30 20/11/2026", "hôm qua 21h", "7h tối", "sáng nay", "hom nay".

    Returns None for text that names no time, or a time in the future.
    """
    s = fold(text)
    local_now = now.astimezone(tz)
    day: date | None = None
    m = _DATE.search(s)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
        year = local_now.year if y is None else int(y) + (2000 if len(y) == 2 else 0)
        try:
            day = date(year, mo, d)
        except ValueError:
            return None
        if y is None and (day - local_now.date()).days > 60:
            day = day.replace(year=year - 1)  # "25/12" typed in January means last December
        s = s[: m.start()] + " " + s[m.end() :]
    else:
        for words, back in sorted(_DAY_WORDS.items(), key=lambda kv: -len(kv[0])):
            if re.search(rf"\b{words}\b", s):
                day = local_now.date() - timedelta(days=back)
                s = re.sub(rf"\b{words}\b", " ", s)
                break
    part = next((p for w, p in _PART_WORDS.items() if re.search(rf"\b{w}\b", s)), None)
    clock: time | None = None
    t = _TIME.search(s)
    if t:
        hour, minute = int(t.group(1)), int(t.group(2) or 0)
        if part in ("pm", "night") and 1 <= hour < 12 and not (part == "night" and hour < 5):
            hour += 12
        if part == "noon" and hour < 11:
            hour += 12
        if hour > 23 or minute > 59:
            return None
        clock = time(hour, minute)
    elif part is not None:
        clock = {"am": time(8), "noon": time(12), "pm": time(18), "night": time(22)}[part]
    if day is None and clock is None:
        return None
    if day is None:
        assert clock is not None
        day = local_now.date()
        if datetime.combine(day, clock, tz) > local_now + timedelta(minutes=10):
            day -= timedelta(days=1)  # "21h" said at 08:00 means last night
    precision: Precision = "exact" if clock is not None else "day"
    at = datetime.combine(day, clock or time(12), tz)
    if at > local_now + timedelta(minutes=10):
        if precision == "day" and day == local_now.date():
            at = local_now
        else:
            return None
    return When(at, precision)
