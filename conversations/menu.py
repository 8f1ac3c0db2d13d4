"""The main menu: each person sees only what their role allows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from conversations.callbacks import MenuPick, OfficerScreen, Screen
from conversations.context import Ctx
from conversations.events import Button, Reply
from locales import keywords
from storage.enums import COMMUNE_ROLES

if TYPE_CHECKING:
    from conversations.flow import Flow

# The order of the menu: the most frequent and the quickest first.
ORDER = (
    "weekly_quiet",
    "incident",
    "urgent",
    "weekly",
    "activity",
    "tip",
    "tip_add",
    "model_add",
    "model_update",
    "commitment",
    "recognition",
    "language",
)
# What officers and admins do outside flows: (label key, action data).
OFFICER_ACTIONS = (
    ("menu.cases", OfficerScreen(Screen.CASES, ("0",)).encode()),
    ("menu.stats", OfficerScreen(Screen.STATS, ("week",)).encode()),
    ("menu.criteria", OfficerScreen(Screen.CRITERIA).encode()),
    ("menu.export", OfficerScreen(Screen.EXPORT, ("month",)).encode()),
    ("web.menu_button", OfficerScreen(Screen.DESK).encode()),
)


def menu_reply(ctx: Ctx, flows: Mapping[str, Flow]) -> Reply:
    rows = [
        [
            Button(
                ctx.t(f"menu.{name}"),
                MenuPick(name).encode(),
                keywords=tuple(keywords(ctx.lang, f"menu.{name}_keywords")),
            )
        ]
        for name in ORDER
        if name in flows and ctx.person.role in flows[name].roles
    ]
    if ctx.person.role in COMMUNE_ROLES:
        rows[:0] = [
            [Button(ctx.t(label), data, keywords=tuple(keywords(ctx.lang, f"{label}_keywords")))]
            for label, data in OFFICER_ACTIONS
        ]
    where = ""
    if ctx.person.hamlet is not None:
        where = ctx.t("menu.where", place=ctx.person.hamlet.display_name)
    elif ctx.person.commune is not None:
        where = ctx.t("menu.where", place=ctx.person.commune.display_name)
    text = ctx.t("menu.title_officer" if ctx.is_officer else "menu.title", where=where)
    return Reply(text, rows)
