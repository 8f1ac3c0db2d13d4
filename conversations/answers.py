"""Answers as flows see them, one type per kind of step, and the one codec that stores them
in a conversation's JSON and reads them back.

    kind      flows see                stored as
    CHOICE    str (the option)         the same
    NUMBER    int                      the same
    TEXT      str, or Voice            "…", or {"voice": {media}} (steps with voice_ok)
    DATETIME  When                     {"at": ISO 8601 with offset, "precision": "exact"|"day"}
    LOCATION  Place                    {"lat", "lon"} / {"text"} / {"choice"}: the set fields
    MEDIA     tuple[Media, ...]        [{"channel", "file_id", "media_type", "size_bytes"}, …]

An optional step that was skipped is None, stored as null. The stored forms are the ones
conversations were saved in before these types existed, so a draft from then reads back as
it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from conversations.events import MediaIn
from conversations.flow import Data, Flow, Kind
from storage.reports import Media

Precision = Literal["exact", "day"]  # "day": only the day is known, the time is noon


@dataclass(frozen=True)
class When:
    at: datetime  # timezone-aware
    precision: Precision


@dataclass(frozen=True)
class Place:
    """A shared position, words typed, or a place button: "hamlet" (the reporter's own) or
    "share" (the location button, pressed where the channel cannot send a location)."""

    text: str | None = None
    lat: float | None = None
    lon: float | None = None
    choice: str | None = None


@dataclass(frozen=True)
class Voice:
    """A voice note sent where a text was asked."""

    media: Media


Answer = str | int | When | Place | Voice | tuple[Media, ...]


def received(media: MediaIn, channel: str) -> Media:
    """A file that came in on channel, as an answer keeps it."""
    return Media(channel, media.file_id, media.media_type, media.size_bytes)


def dump(value: Answer | None) -> Any:
    """The JSON form of an answer."""
    match value:
        case None | str() | int():
            return value
        case When(at, precision):
            return {"at": at.isoformat(), "precision": precision}
        case Place(text, lat, lon, choice):
            fields = {"text": text, "lat": lat, "lon": lon, "choice": choice}
            return {key: v for key, v in fields.items() if v is not None}
        case Voice(media):
            return {"voice": _dump_media(media)}
        case [*items]:
            return [_dump_media(m) for m in items]
    raise TypeError(f"not an answer: {value!r}")


def load(kind: Kind, raw: Any) -> Answer | None:
    """The answer a step of kind stored as raw (see dump)."""
    if raw is None:
        return None
    if kind == Kind.DATETIME:
        return When(datetime.fromisoformat(raw["at"]), raw["precision"])
    if kind == Kind.LOCATION:
        return Place(
            text=raw.get("text"),
            lat=_float(raw.get("lat")),
            lon=_float(raw.get("lon")),
            choice=raw.get("choice"),
        )
    if kind == Kind.MEDIA:
        return tuple(_load_media(m) for m in raw)
    if kind == Kind.TEXT and isinstance(raw, dict):
        return Voice(_load_media(raw["voice"]))
    return raw  # CHOICE, NUMBER and typed TEXT are stored as they are


def load_all(flow: Flow, data: Mapping[str, Any]) -> Data:
    """A conversation's data as the flow sees it: each step's answer typed by the step's kind.
    Other keys are the flow's own (set by its start or preset by the caller) and kept as
    they are."""
    kinds = {step.key: step.kind for step in flow.steps}
    return {key: load(kinds[key], raw) if key in kinds else raw for key, raw in data.items()}


def _dump_media(media: Media) -> dict[str, Any]:
    return {
        "channel": media.channel,
        "file_id": media.file_id,
        "media_type": media.media_type,
        "size_bytes": media.size_bytes,
    }


def _load_media(raw: Mapping[str, Any]) -> Media:
    return Media(raw["channel"], raw["file_id"], raw["media_type"], raw.get("size_bytes"))


def _float(raw: Any) -> float | None:
    return None if raw is None else float(raw)
