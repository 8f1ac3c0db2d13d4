"""Channel-neutral events and replies: what transports turn platform updates into and out of."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# Channels that show buttons; every other one (Zalo, the console) gets numbered text.
BUTTON_CHANNELS = frozenset({"telegram"})


def has_buttons(channel: str) -> bool:
    return channel in BUTTON_CHANNELS


@dataclass(frozen=True)
class MediaIn:
    media_type: str  # photo, video, voice, audio, document
    file_id: str
    size_bytes: int | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Incoming:
    channel: str
    chat_id: str
    user_id: str
    update_key: str | None = None  # platform update id, for de-duplication
    private: bool = True
    text: str | None = None
    command: str | None = None  # "start" for "/start abc"
    args: str = ""
    callback: str | None = None  # button data
    media: MediaIn | None = None
    location: tuple[float, float] | None = None
    edited: bool = False  # an earlier message changed: never taken as an answer
    # Sent on behalf of many people at once (an anonymous group admin, a channel, a bot):
    # never bound to a person, so it can never hold anyone's rights.
    shared_sender: bool = False


@dataclass(frozen=True)
class Button:
    label: str
    data: str
    nav: bool = False  # back / cancel / skip: said as words and typed as words, never numbered
    keywords: tuple[str, ...] = ()  # other words that choose it, e.g. "binh yen"
    share_location: bool = False  # where the platform can, the button sends the location


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    # Not read any more: which choices get numbers follows from the buttons (choices()).
    numbered: bool = False
    chat_id: str | None = None  # None: the chat of the incoming event
    photo: bytes | None = None  # an image sent before the text (a chart)
    document: tuple[str, bytes] | None = None  # (file name, content), sent after the text
    media: list[tuple[str, str]] = field(default_factory=list)  # (type, platform file id)
    # Personal data, a tip, an export or a refusal: asked for in a group, it goes to the
    # asker's private chat instead, never to every member.
    private_only: bool = False
    # The language of the person it answers: the words a text channel adds ("Trả lời bằng
    # số 1–3") follow it. None: the channel's default.
    lang: str | None = None

    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]

    def choices(self) -> list[Button]:
        """What a channel without buttons numbers, in order (see numbered_choices)."""
        return numbered_choices(self.flat_buttons())


def numbered_choices(buttons: Iterable[Button]) -> list[Button]:
    """The buttons a typed number chooses, the first being 1: every one but back, cancel and
    skip (typed as words) and sharing a location (a channel without buttons cannot), unless
    all of them are numbers themselves (a number step's quick answers). Then a typed number is
    the answer, never a position: "3" typed where 0, 1, 2, 3, 5 are offered means 3.

    The renderer, the router's numbers and the engine's matching all use this one rule."""
    found = [b for b in buttons if not b.nav and not b.share_location]
    if found and all(b.label.strip().isdecimal() for b in found):
        return []
    return found
