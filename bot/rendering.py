"""Rendering neutral replies as text for channels without buttons (console, Zalo)."""

from __future__ import annotations

from conversations.events import Reply


def numbered_text(reply: Reply, *, answer_hint: str = "Trả lời bằng số") -> str:
    """The reply's text with its choices as a numbered menu and back/cancel as words."""
    lines = [reply.text]
    choices = [b for b in reply.flat_buttons() if not b.nav]
    words = [b.label for b in reply.flat_buttons() if b.nav]
    if choices:
        lines.append("")
        if reply.numbered:
            lines += [f"{i}. {b.label}" for i, b in enumerate(choices, 1)]
        else:
            lines.append(" · ".join(b.label for b in choices))
    if words:
        lines.append("(" + " · ".join(words) + ")")
    if choices and reply.numbered:
        lines.append(f"{answer_hint} 1–{len(choices)}.")
    return "\n".join(lines)
