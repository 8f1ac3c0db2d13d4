"""Text rules: NFC on arrival, one canonical form, matching without diacritics.

Diacritics are folded for Latin script only (Vietnamese, English). Other scripts are kept as
typed: in Khmer the marks are the word (the coeng sign U+17D2 writes a consonant cluster),
so dropping them would change it. Khmer digits read as the digits 0-9 wherever text is
compared or a number read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# The catalogues import this module: they are reached at call time, not at import.
import locales

# Combining tone marks; other marks (circumflex, breve, horn) belong to the letter.
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_WORD = re.compile(r"\w+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")


def ascii_digits(text: str) -> str:
    """Khmer digits as 0-9: "១២" -> "12"."""
    return text.translate(_KHMER_DIGITS)


def is_latin(char: str) -> bool:
    return char.isascii() or unicodedata.name(char, "").startswith("LATIN")


def _strip_latin_marks(text: str) -> str:
    """Combining marks removed from Latin letters; every other script kept as it is."""
    out: list[str] = []
    latin = False  # the letter the next combining mark belongs to is Latin
    for char in text:
        if unicodedata.combining(char):
            if not latin:
                out.append(char)
            continue
        latin = is_latin(char)
        if latin and not char.isascii():
            decomposed = unicodedata.normalize("NFD", char)
            out.extend(c for c in decomposed if not unicodedata.combining(c))
        else:
            out.append(char)
    return "".join(out)


def nfc(text: str) -> str:
    """Normalise incoming text to NFC (keyboards send NFD or a mix)."""
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """Text as it arrives, made safe to keep: NFC, line ends as "\n", and no control
    characters (PostgreSQL refuses NUL, spreadsheets refuse the rest)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", nfc(text))


def _canonical_word(word: str) -> str:
    if not is_latin(word[0]):
        return word
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    base = "".join(c for c in decomposed if c not in _TONES)
    # The tone moves to the end so that "hoà" and "hòa" (old and new placement) compare equal.
    return unicodedata.normalize("NFC", base) + "".join(tones)


def canonical(text: str) -> str:
    """Lower case, NFC, single spaces, tone placement folded: for comparing, never for display."""
    text = " ".join(ascii_digits(nfc(text)).casefold().split())
    return _WORD.sub(lambda m: _canonical_word(m.group(0)), text)


def fold(text: str) -> str:
    """Lower case without diacritics, punctuation kept: "20/11 19 giờ" -> "20/11 19 gio".
    Latin script only: "ភូមិ ក្រាំង" stays as it is; "ម៉ោង ៩" -> "ម៉ោង 9"."""
    text = ascii_digits(nfc(text)).casefold().replace("đ", "d")
    return nfc(" ".join(_strip_latin_marks(text).split()))


def _not_word(char: str) -> bool:
    """Punctuation, symbols, emoji and controls; letters, marks (a Khmer vowel sign),
    digits and spaces are kept."""
    return unicodedata.category(char)[0] in "PSC" and not char.isspace()


def strip_diacritics(text: str) -> str:
    """Words only, without diacritics: "Trộm cắp, cướp giật" -> "trom cap cuop giat"."""
    return " ".join("".join(" " if _not_word(c) else c for c in fold(text)).split())


def strip_ends(text: str) -> str:
    """Emoji and punctuation off both ends: "🕊 Tuần này bình yên" -> "Tuần này bình yên",
    a Khmer vowel sign at the end kept."""
    start, end = 0, len(text)
    while start < end and (_not_word(text[start]) or text[start].isspace()):
        start += 1
    while end > start and (_not_word(text[end - 1]) or text[end - 1].isspace()):
        end -= 1
    return text[start:end]


def split_text(text: str, limit: int) -> list[str]:
    """Split a long message at paragraph, line or word boundaries, each part within limit."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, 0, limit)
            if cut > limit // 2:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def first_upper(text: str) -> str:
    """First letter up, the rest kept: "ông Hùng" -> "Ông Hùng" (capitalize() lowers it)."""
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """A title or a unit's name within a sentence: "Báo cáo tuần" -> "báo cáo tuần",
    "Ấp An Lạc" -> "ấp An Lạc"."""
    return text[:1].lower() + text[1:]


# --- addressing people ------------------------------------------------------------------
# In Vietnamese a person is addressed by an honorific and their given name, in lower case
# in mid-sentence ("Chào ông Hùng!", "Cảm ơn bà Lan.") and capitalised only where the
# sentence starts ("Ông Hùng có một báo cáo đang làm dở"). Catalogue texts write {address}
# for the first and {Address} for the second.


def given_name(full_name: str | None) -> str:
    """The name a person is called by: the last word of a Vietnamese full name."""
    words = (full_name or "").split()
    return words[-1] if words else ""


def address_of(lang: str | None, title: str | None, full_name: str | None) -> str:
    """How to address a person in mid-sentence: "ông Hùng"; without a title, the given name
    with the pronoun the name suggests ("anh Khánh", "chị Thu"); "ông/bà" (or the language's
    neutral word) only for someone whose name is not known."""
    name = given_name(full_name)
    if not name:
        return locales.t(lang, "address.neutral")
    words = [fold(w) for w in (full_name or "").split()[:-1]]
    if title:
        honorific = fold(title).replace(" ", "_")
    else:
        honorific = "chi" if "thi" in words else "anh"
    own = locales.catalogue(lang or "vi").get(f"address.title.{honorific}")
    word = str(own) if own is not None else nfc(title.strip().lower()) if title else honorific
    return locales.t(lang, "address.form", title=word, name=name).strip()


def sentence_start(address: str) -> str:
    """The address where a sentence starts: "ông Hùng" -> "Ông Hùng"."""
    return first_upper(address)


def kind_key(kind: str) -> str:
    """The catalogue key of a hamlet kind (storage.hamlet_kinds): "tổ dân phố" -> "to_dan_pho"."""
    return strip_diacritics(kind).replace(" ", "_")


def role_name(lang: str | None, role: str, hamlet_kind: str | None = None) -> str:
    """A role in words; a hamlet head's by the kind of their hamlet: "trưởng ấp", "tổ
    trưởng tổ dân phố" (a language without such titles says "hamlet head")."""
    if role == "hamlet_head" and hamlet_kind:
        key = "head_title." + kind_key(hamlet_kind)
        if key in locales.catalogue(lang or "vi"):
            return locales.t(lang, key)
    return locales.t(lang, f"role.{role}")


def hamlet_field(lang: str | None, kind: str) -> str:
    """The label of a field naming a hamlet, by its kind: "Ấp", "Tổ dân phố"."""
    return first_upper(locales.t(lang, f"hamlet_kind.{kind_key(kind)}"))


def hamlets_word(lang: str | None, kinds: Iterable[str]) -> str:
    """The word for a commune's hamlets, after a number ("2/12 ấp"): their kind when they
    share one, "khu dân cư" when they are of several kinds."""
    found = {kind_key(k) for k in kinds}
    key = found.pop() if len(found) == 1 else "khu_dan_cu" if found else "thon"
    return locales.t(lang, f"hamlet_kind.{key}")


def day_month_year(when: object) -> str:
    """A date as Vietnamese officials write it: "23/11/2026"."""
    return f"{when:%d/%m/%Y}"


def age_words(lang: str | None, days: int) -> str:
    """How long a case has been open: "hôm nay", "3 ngày"."""
    return (
        locales.t(lang, "digest.age_today")
        if days <= 0
        else locales.t(lang, "digest.age", days=days)
    )


def period_words(lang: str | None, kind: str, label: str) -> str:
    """A period as a sentence names it: "tuần 16/11 – 22/11/2026", "quý IV/2026"."""
    return locales.t(lang, f"period.{kind}", label=label)
