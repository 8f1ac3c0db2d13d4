"""Channel-neutral events and replies: what transports turn platform updates into and out of."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    nav: bool = False  # back / cancel / skip: rendered as words, never numbered
    keywords: tuple[str, ...] = ()  # other words that choose it, e.g. "binh yen"
    share_location: bool = False  # where the platform can, the button sends the location


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    numbered: bool = False  # channels without buttons number the non-nav choices
    chat_id: str | None = None  # None: the chat of the incoming event
    photo: bytes | None = None  # an image sent before the text (a chart)
    document: tuple[str, bytes] | None = None  # (file name, content), sent after the text
    media: list[tuple[str, str]] = field(default_factory=list)  # (type, platform file id)
    # Personal data, a tip, an export or a refusal: asked for in a group, it goes to the
    # asker's private chat instead, never to every member.
    private_only: bool = False

    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]
