"""Typed text to a button: by number, by label, by label without diacritics, by keyword.

Labels in Khmer (or any script but Latin) are compared as typed, NFC; Khmer digits are
numbers like 0-9. Keywords come with the buttons, from the person's catalogue and the
Vietnamese one (locales.keywords)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.events import Button, numbered_choices
from locales.text import ascii_digits, canonical, strip_diacritics, strip_ends

_SIGNED_NUMBER = re.compile(r"^\s*[-−–+]\s*\d")  # "-1" is a number typed, never button 1


@dataclass(frozen=True)
class Match:
    button: Button
    confirm: bool = False  # matched only through an ambiguous word typed without diacritics


def _bare(label: str) -> str:
    return strip_ends(label)


def match(
    text: str, buttons: list[Button], *, ambiguous: frozenset[str]
) -> Match | list[Button] | None:
    """The button text names; a list when several fit equally; None when none does.

    A number is a position in the numbered choices, as the text channels show them; where
    nothing is numbered (quick answers that are numbers) it is read as a label like any word.
    A signed number ("-1") is never a position nor a label: it is an answer to check."""
    if _SIGNED_NUMBER.match(ascii_digits(text)):
        return None
    typed = canonical(_bare(text))
    if not typed:
        return None
    choices = numbered_choices(buttons)
    if choices and typed.isdecimal():
        index = int(typed) - 1
        return Match(choices[index]) if 0 <= index < len(choices) else None
    for b in buttons:
        if typed == canonical(_bare(b.label)):
            return Match(b)
    bare = strip_diacritics(typed)
    if not bare:
        return None
    typed_plain = bare == typed  # typed without diacritics
    confirm = typed_plain and bare in ambiguous
    found = [b for b in buttons if bare == strip_diacritics(b.label)]
    found = found or [b for b in buttons if bare in (strip_diacritics(k) for k in b.keywords)]
    if len(found) == 1:
        return Match(found[0], confirm)
    if len(found) > 1:
        return found
    # A whole-word beginning of a label: "trom cap" for "Trộm cắp, cướp giật tài sản".
    if len(bare) >= 3:
        found = [b for b in buttons if f"{strip_diacritics(b.label)} ".startswith(f"{bare} ")]
        if len(found) == 1:
            return Match(found[0], confirm)
        if len(found) > 1:
            return found
    return None
