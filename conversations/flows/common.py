"""Pieces several flows share: labels, times, places, attachments and who gets alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from conversations.context import Ctx
from conversations.flow import Data, Option
from locales import t, t_list
from storage import cases
from storage.reports import Media

REPORTERS = frozenset({"hamlet_head", "team_lead", "team_member"})
EVERYONE = frozenset({"resident", "team_member", "team_lead", "hamlet_head", "officer", "admin"})
TIPSTERS = EVERYONE - {"officer", "admin"}  # officers act on tips; they do not send them
OFFICERS = frozenset({"officer", "admin"})


def code_options(ctx: Ctx, prefix: str, codes: list[str]) -> list[Option]:
    return [
        Option(
            code, ctx.t(f"{prefix}.{code}"), tuple(t_list(ctx.lang, f"{prefix}.{code}_keywords"))
        )
        for code in codes
    ]


def when_of(data: Data, key: str) -> datetime:
    return datetime.fromisoformat(data[key]["at"])


def show_when(ctx: Ctx, value: dict[str, Any]) -> str:
    at = ctx.local(datetime.fromisoformat(value["at"]))
    if value.get("precision") == "day":
        return at.strftime("%d/%m/%Y")
    return at.strftime("%H:%M %d/%m/%Y")


def show_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def place_of(
    ctx: Ctx, value: dict[str, Any] | None
) -> tuple[str | None, float | None, float | None]:
    """(place text, latitude, longitude) of a location answer."""
    if not value:
        return None, None, None
    if "lat" in value:
        return None, float(value["lat"]), float(value["lon"])
    if value.get("choice") == "hamlet" and ctx.person.hamlet is not None:
        return ctx.person.hamlet.display_name, None, None
    return value.get("text"), None, None


def show_place(ctx: Ctx, value: dict[str, Any] | None) -> str:
    text, lat, lon = place_of(ctx, value)
    if lat is not None:
        return ctx.t("place.shared", lat=f"{lat:.5f}", lon=f"{lon:.5f}")
    return text or ctx.t("summary.none")


def media_of(data: Data, *keys: str) -> list[Media]:
    """Attachments of the listed answers: a media step's list, or a voice note given as text."""
    found: list[Media] = []
    for key in keys:
        value = data.get(key)
        if isinstance(value, list):
            found.extend(Media.from_dict(m) for m in value)
        elif isinstance(value, dict) and "voice" in value:
            found.append(Media.from_dict(value["voice"]))
    return found


def text_of(ctx: Ctx, value: Any) -> str | None:
    if isinstance(value, dict) and "voice" in value:
        return ctx.t("summary.voice_note")
    return value if isinstance(value, str) else None


def show_media(ctx: Ctx, items: list[dict[str, Any]] | None) -> str:
    if not items:
        return ctx.t("summary.none")
    counts: dict[str, int] = {}
    for item in items:
        counts[item["media_type"]] = counts.get(item["media_type"], 0) + 1
    return ", ".join(f"{n} {ctx.t('media.type.' + kind)}" for kind, n in counts.items())


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


def need_location(ctx: Ctx, data: Data, value: Any) -> str | None:
    """ "Share my location" typed on a channel without a location button: say how to send it."""
    return "hint.location_share" if value == {"choice": "share"} else None
