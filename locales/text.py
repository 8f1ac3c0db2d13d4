"""Text rules: NFC on arrival, one canonical form, matching without diacritics.

Diacritics are folded for Latin script only (Vietnamese, English). Other scripts are kept as
typed: in Khmer the marks are the word (the coeng sign U+17D2 writes a consonant cluster),
so dropping them would change it. Khmer digits read as the digits 0-9 wherever text is
compared or a number read.
"""

from __future__ import annotations

import re
import unicodedata

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
