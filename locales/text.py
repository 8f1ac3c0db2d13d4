"""Vietnamese text rules: NFC on arrival, one canonical form, matching without diacritics."""

from __future__ import annotations

import re
import unicodedata

# Combining tone marks; other marks (circumflex, breve, horn) belong to the letter.
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_WORD = re.compile(r"\w+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def nfc(text: str) -> str:
    """Normalise incoming text to NFC (keyboards send NFD or a mix)."""
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """Text as it arrives, made safe to keep: NFC, line ends as "\n", and no control
    characters (PostgreSQL refuses NUL, spreadsheets refuse the rest)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", nfc(text))


def _canonical_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    base = "".join(c for c in decomposed if c not in _TONES)
    # The tone moves to the end so that "hoà" and "hòa" (old and new placement) compare equal.
    return unicodedata.normalize("NFC", base) + "".join(tones)


def canonical(text: str) -> str:
    """Lower case, NFC, single spaces, tone placement folded: for comparing, never for display."""
    text = " ".join(nfc(text).casefold().split())
    return _WORD.sub(lambda m: _canonical_word(m.group(0)), text)


def fold(text: str) -> str:
    """Lower case without diacritics, punctuation kept: "20/11 19 giờ" -> "20/11 19 gio"."""
    text = nfc(text).casefold().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def strip_diacritics(text: str) -> str:
    """Words only, without diacritics: "Trộm cắp, cướp giật" -> "trom cap cuop giat"."""
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())


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
