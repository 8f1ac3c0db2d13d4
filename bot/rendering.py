"""Rendering neutral replies as text for channels without buttons (console, Zalo)."""

from __future__ import annotations

from conversations.events import Reply
from locales import t


def numbered_text(reply: Reply, lang: str = "vi") -> str:
    """The reply's text with its choices as a numbered menu and back/cancel as words.

    Numbers follow Reply.choices(), the rule the router and the engine read typed numbers by;
    quick answers that are numbers themselves are listed without positions. Sharing a location
    is left to the channel to explain (Zalo cannot; the console has !location)."""
    lang = reply.lang or lang
    lines = [reply.text]
    buttons = reply.flat_buttons()
    choices = reply.choices()
    values = [b.label for b in buttons if not (b.nav or b.share_location or b in choices)]
    words = [b.label for b in buttons if b.nav]
    if choices:
        lines += ["", *(f"{i}. {b.label}" for i, b in enumerate(choices, 1))]
    elif values:
        lines += ["", " · ".join(values)]
    if words:
        lines.append("(" + " · ".join(words) + ")")
    if len(choices) == 1:
        lines.append(t(lang, "choices.answer_one"))
    elif choices:
        lines.append(t(lang, "choices.answer_range", last=len(choices)))
    return "\n".join(lines)
