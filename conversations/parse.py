"""Reading numbers and times as people type them: in Vietnamese with or without diacritics,
in English, in Khmer (Khmer digits too). The words (numbers, days, parts of the day) are the
catalogue's "keyword.*" lists of the person's language, and the Vietnamese ones."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conversations.answers import Precision, When
from locales import keywords, word_table
from locales.text import fold, is_latin

NUMBER_LIMIT = 10_000_000  # more than any figure a hamlet reports; larger is a typing slip
# A number and maybe its unit: "12", "-3", "12 người", "១២ នាក់".
_SIGNED = re.compile(r"^([-−–]?)\s*(\d+)(?:\s+(?![-−–+\d])\S+)?$")


def read_number(text: str, lang: str | None = None) -> int | str:
    """An integer from "12", "12 người", "không", "hai", "១២", "ពីរ"; otherwise why not:
    "negative", "too_large" or "not_number" (the key of the hint to answer with)."""
    s = fold(text).strip(" .!")
    words = word_table(lang, "keyword.number")
    if s in words:
        return int(words[s])
    m = _SIGNED.fullmatch(s.replace(".", "").replace(",", ""))
    if m is None:
        return "not_number"
    value = int(m.group(2))
    if m.group(1) and value != 0:
        return "negative"
    if value >= NUMBER_LIMIT:
        return "too_large"
    return value


def parse_number(text: str, lang: str | None = None) -> int | None:
    """An integer, or None when the text is not one a report can hold."""
    value = read_number(text, lang)
    return value if isinstance(value, int) else None


# "ngày mai" (tomorrow) is a day too: read, so that a time in it is refused as still to come.
_DAYS_BACK = {"tomorrow": -1, "today": 0, "yesterday": 1, "day_before": 2}


def _pattern(word: str) -> str:
    """A word of Latin script as a whole word; Khmer, written without spaces between words,
    anywhere."""
    escaped = re.escape(word)
    return rf"\b{escaped}\b" if is_latin(word[0]) else escaped


def _found(word: str, s: str) -> re.Match[str] | None:
    return re.search(_pattern(word), s) if word else None


def _hour_first(s: str, lang: str | None) -> str:
    """ "lúc 9", "ម៉ោង ៩" (the word before the hour) as "9:0", which _TIME reads."""
    for word in keywords(lang, "keyword.hour_prefix"):
        pattern = _pattern(fold(word)) + r"\s*(\d{1,2})(?:\s*[:h.]\s*(\d{1,2}))?"
        s = re.sub(pattern, lambda m: f" {m.group(1)}:{m.group(2) or 0} ", s)
    return s


_DATE = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2,4}))?\b")
_TIME = re.compile(r"\b(\d{1,2})\s*(?:h|g|gio|:|giờ)\s*(\d{1,2})?\s*(?:p|phut)?\b")


_AGO = re.compile(r"\b(\d{1,3})\s*(gio|tieng|h|phut|p|ngay)\s*truoc\b")
_AGO_UNITS = {"gio": "hours", "tieng": "hours", "h": "hours", "phut": "minutes", "p": "minutes"}
EARLIEST_YEAR = 1900  # before this a date is a typing slip, whatever the calendar allows


def parse_when(text: str, now: datetime, tz: ZoneInfo, lang: str | None = None) -> When | None:
    """A time, or None when text names none or one in the future (see read_when)."""
    found = read_when(text, now, tz, lang)
    return found if isinstance(found, When) else None


def read_when(text: str, now: datetime, tz: ZoneInfo, lang: str | None = None) -> When | str:
    """ "20/11 19h30", "19:30 20/11/2026", "hôm qua 21h", "7h tối", "sáng nay", "2 giờ
    trước", "hom nay". Otherwise why not: "not_time", "future" or "impossible" (the key of
    the hint to answer with)."""
    s = _hour_first(fold(text), lang)
    local_now = now.astimezone(tz)
    ago = _AGO.search(s)
    if ago:
        amount, unit = int(ago.group(1)), ago.group(2)
        if unit == "ngay":
            return When(local_now - timedelta(days=amount), "day")
        return When(local_now - timedelta(**{_AGO_UNITS[unit]: amount}), "exact")
    day: date | None = None
    m = _DATE.search(s)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
        year = local_now.year if y is None else int(y) + (2000 if len(y) == 2 else 0)
        if year < EARLIEST_YEAR:
            return "impossible"
        try:
            day = date(year, mo, d)
        except ValueError:
            return "impossible"
        if y is None and (day - local_now.date()).days > 60:
            day = day.replace(year=year - 1)  # "25/12" typed in January means last December
        s = s[: m.start()] + " " + s[m.end() :]
    else:
        days = word_table(lang, "keyword.day")
        for word in sorted(days, key=len, reverse=True):
            if _found(word, s):
                day = local_now.date() - timedelta(days=_DAYS_BACK[days[word]])
                s = re.sub(_pattern(word), " ", s)
                break
    parts = word_table(lang, "keyword.part")
    part = next((p for w, p in parts.items() if _found(w, s)), None)
    clock: time | None = None
    t = _TIME.search(s)
    if t:
        hour, minute = int(t.group(1)), int(t.group(2) or 0)
        if part in ("pm", "night") and 1 <= hour < 12 and not (part == "night" and hour < 5):
            hour += 12
        if part == "noon" and hour < 11:
            hour += 12
        if hour > 23 or minute > 59:
            return "impossible"
        clock = time(hour, minute)
    elif part is not None:
        clock = {"am": time(8), "noon": time(12), "pm": time(18), "night": time(22)}[part]
    if day is None and clock is None:
        return "not_time"
    if day is None:
        assert clock is not None
        day = local_now.date()
        if datetime.combine(day, clock, tz) > local_now + timedelta(minutes=10) and not (
            part is not None and any(_found(fold(w), s) for w in keywords(lang, "keyword.this"))
        ):
            day -= timedelta(days=1)  # "21h" said at 08:00 means last night
    precision: Precision = "exact" if clock is not None else "day"
    at = datetime.combine(day, clock or time(12), tz)
    if at > local_now + timedelta(minutes=10):
        if precision == "day" and day == local_now.date():
            at = local_now
        elif (
            t is None
            and part is not None
            and day == local_now.date()
            and (local_now.time() >= _PART_STARTS[part])
        ):
            return When(local_now, "exact")  # "chiều nay" said in the afternoon: so far today
        else:
            return "future"
    return When(at, precision)


# When a part of the day begins: "chiều nay" said at 14:00 is now, said at 10:00 is to come.
_PART_STARTS = {"am": time(5), "noon": time(11), "pm": time(13), "night": time(21)}
