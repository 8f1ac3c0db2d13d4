"""Pieces several flows share: labels, times, places, attachments and who gets alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from conversations.answers import Place, Voice, When
from conversations.context import Ctx
from conversations.flow import Data, Option
from locales import keywords, t
from storage import cases
from storage.reports import Media

REPORTERS = frozenset({"hamlet_head", "team_lead", "team_member"})
EVERYONE = frozenset({"resident", "team_member", "team_lead", "hamlet_head", "officer", "admin"})
TIPSTERS = EVERYONE - {"officer", "admin"}  # officers act on tips; they do not send them
OFFICERS = frozenset({"officer", "admin"})


def code_options(ctx: Ctx, prefix: str, codes: list[str]) -> list[Option]:
    return [
        Option(
            code, ctx.t(f"{prefix}.{code}"), tuple(keywords(ctx.lang, f"{prefix}.{code}_keywords"))
        )
        for code in codes
    ]


def show_when(ctx: Ctx, when: When) -> str:
    at = ctx.local(when.at)
    if when.precision == "day":
        return at.strftime("%d/%m/%Y")
    return at.strftime("%H:%M %d/%m/%Y")


def show_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def place_of(ctx: Ctx, place: Place | None) -> tuple[str | None, float | None, float | None]:
    """(place text, latitude, longitude) of a location answer."""
    if place is None:
        return None, None, None
    if place.lat is not None:
        return None, place.lat, place.lon
    if place.choice == "hamlet" and ctx.person.hamlet is not None:
        return ctx.person.hamlet.display_name, None, None
    return place.text, None, None


def show_place(ctx: Ctx, place: Place | None) -> str:
    text, lat, lon = place_of(ctx, place)
    if lat is not None:
        return ctx.t("place.shared", lat=f"{lat:.5f}", lon=f"{lon:.5f}")
    return text or ctx.t("summary.none")


def attachments(note: str | Voice | None, media: Sequence[Media] | None) -> list[Media]:
    """The files of a report: a voice note given as its text, then its media step's files."""
    voice = [note.media] if isinstance(note, Voice) else []
    return [*voice, *(media or ())]


def text_of(ctx: Ctx, note: str | Voice | None) -> str | None:
    """A text answer as shown and stored: a voice note is named, its words are not known."""
    if isinstance(note, Voice):
        return ctx.t("summary.voice_note")
    return note


def show_media(ctx: Ctx, items: Sequence[Media] | None) -> str:
    if not items:
        return ctx.t("summary.none")
    return ctx.media_words(item.media_type for item in items)


async def officer_targets(ctx: Ctx, commune_id: int, *, duty_first: bool) -> list[cases.Chat]:
    """Who hears about a commune's case (storage.cases.officer_chats), duty chats speaking
    the bot's default language."""
    return await cases.officer_chats(
        session=ctx.session,
        commune_id=commune_id,
        duty_first=duty_first,
        language=ctx.config.default_language,
    )


def lines(*pairs: tuple[str, str | None]) -> str:
    return "\n".join(f"• {label}: {value}" for label, value in pairs if value)


def tr(lang: str, key: str, **values: Any) -> str:
    return t(lang, key, **values)


def need_location(ctx: Ctx, data: Data, place: Place) -> str | None:
    """ "Share my location" typed on a channel without a location button: say how to send it."""
    return "hint.location_share" if place == Place(choice="share") else None
