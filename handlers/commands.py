"""Slash commands: only /start is ever needed; the rest are shortcuts."""

from __future__ import annotations

from dataclasses import replace

from conversations.callbacks import CANCEL, MenuPick, OfficerScreen, Screen
from conversations.context import Ctx
from conversations.engine import Engine
from conversations.events import Incoming, Reply
from conversations.flows.tip import notice
from handlers.cases import CaseActions, period_word
from handlers.onboarding import redeem
from handlers.schedules import schedule_command
from handlers.web import desk_link
from locales import available_languages, word_table
from locales import t as tr
from locales.text import first_upper, fold, role_name
from storage import duty, hamlet_kinds, tips
from storage.cases import admin_chats
from storage.enums import COMMUNE_ROLES, Role
from storage.models import Conversation

# Shown in the platform's command menu, in this order; descriptions from the catalogue.
MENU_COMMANDS = (
    "start",
    "menu",
    "huy",
    "ngonngu",
    "cases",
    "stats",
    "criteria",
    "export",
    "trucban",
    "lich",
    "web",
    "dulieu",
)
OFFICER_COMMANDS = ("cases", "stats", "criteria", "export")


async def handle_command(
    ctx: Ctx, conv: Conversation, engine: Engine, actions: CaseActions
) -> list[Reply]:
    command = (ctx.event.command or "").lower()
    # Other names of a command ("/vuviec" for /cases) from the catalogue's "keyword.command".
    command = word_table(ctx.lang, "keyword.command").get(fold(command), command)
    args = ctx.event.args.strip().lower().split()
    if command in OFFICER_COMMANDS:
        if command == "cases":
            return await actions.open_screen(ctx, OfficerScreen(Screen.CASES, ("0",)))
        if command == "stats":
            word = next((p for a in args if (p := period_word(ctx.lang, a))), "week")
            return await actions.open_screen(ctx, OfficerScreen(Screen.STATS, (word,)))
        if command == "criteria":
            yearly = bool(args) and period_word(ctx.lang, args[0]) == "year"
            screen = OfficerScreen(Screen.CRITERIA, ("year",) if yearly else ())
            return await actions.open_screen(ctx, screen)
        period = next((p for a in args if (p := period_word(ctx.lang, a))), "month")
        fmt = "csv" if "csv" in args else "xlsx"
        return await actions.open_screen(ctx, OfficerScreen(Screen.EXPORT, (period, fmt)))
    if command == "start" and ctx.event.args.strip():
        if not ctx.event.private:  # an invite binds one person's own chat, never a group's
            return [Reply(ctx.t("start.invite_private_only"))]
        greeting = await redeem(ctx, conv, ctx.event.args.strip())
        if ctx.person.role == Role.RESIDENT:
            return [greeting]
        engine.clear(conv)  # a new role: a draft of the old one does not apply
        return [greeting, engine.menu(ctx, conv)]
    if command in ("start", "menu"):
        engine.pause(conv)
        intro = (
            "start.welcome_resident"
            if ctx.person.role == Role.RESIDENT and command == "start"
            else "start.welcome_back"
        )
        return [Reply(ctx.t(intro, **await resident_words(ctx))), engine.menu(ctx, conv)]
    if command == "huy":
        return await engine.handle(ctx, conv, _as_button(ctx, CANCEL.encode()))
    if command == "ngonngu":
        return await engine.handle(ctx, conv, _as_button(ctx, MenuPick("language").encode()))
    if command in ("web", "desk"):
        return [await desk_link(ctx)]
    if command == "trucban":
        return [await link_duty_chat(ctx)]
    if command == "lich":
        return [await schedule_command(ctx)]
    if command == "dulieu":
        from storage.privacy import stored_about

        lines = await stored_about(
            ctx.session, ctx.person.id, with_tips=True, secret=ctx.config.secret
        )
        body = "\n".join(
            f"• {ctx.t('data.' + k.replace(' ', '_'))}: {_shown(ctx, k, v)}" for k, v in lines
        )
        text = ctx.t("data.title") + "\n" + body + "\n\n" + ctx.t("data.retention")
        commune = ctx.person.commune.display_name if ctx.person.commune else ""
        text += "\n\n" + notice(ctx, commune)
        return [Reply(text, private_only=True)]
    engine.pause(conv)
    return [Reply(ctx.t("menu.hint")), engine.menu(ctx, conv)]


BLOCKED = " (blocked the bot)"  # how storage.privacy.stored_about marks a blocked account


def _shown(ctx: Ctx, key: str, value: str) -> str:
    """A line of /dulieu in words: the role and language by name, the chat by its channel."""
    if key == "role":
        return ctx.role_name()
    if key == "language":
        return available_languages().get(value, value)
    if key == "chat account":
        blocked = value.endswith(BLOCKED)
        channel, _, account = value.removesuffix(BLOCKED).partition(" ")
        shown = ctx.t(f"channel.{channel}", account=account)
        return shown + (ctx.t("data.blocked") if blocked else "")
    if key == "tip":
        code, status, contact = value.split()
        return ctx.t(
            "data.tip_line",
            code=code,
            status=ctx.t(f"status.{status}"),
            contact=ctx.t(f"data.{contact}"),
        )
    return value


def _as_button(ctx: Ctx, data: str) -> Incoming:
    return replace(ctx.event, command=None, args="", text=None, callback=data)


async def resident_words(ctx: Ctx) -> dict[str, str]:
    """What a resident's welcome names: "Công an xã Tân Hòa" (the person's commune, or the only
    one this system serves) and whose invites it speaks of ("Trưởng ấp" where every hamlet of
    the commune is an ấp)."""
    commune = ctx.person.commune
    if commune is None:
        served = await tips.communes(session=ctx.session)
        commune = served[0] if len(served) == 1 else None
    if commune is None:
        return {"police": ctx.t("start.police"), "heads": ctx.t("start.heads")}
    kinds = await hamlet_kinds.kinds_of(ctx.session, commune.id)
    heads = (
        first_upper(role_name(ctx.lang, "hamlet_head", kinds[0]))
        if len(kinds) == 1
        else ctx.t("start.heads")
    )
    return {
        "police": ctx.t("start.police_of", commune=f"{commune.label} {commune.name}"),
        "heads": heads,
    }


async def link_duty_chat(ctx: Ctx) -> Reply:
    person = ctx.person
    if person.role not in COMMUNE_ROLES or person.commune_id is None:
        return Reply(ctx.t("duty.only_officers"))
    if ctx.event.private:
        return Reply(ctx.t("duty.only_groups"))
    _, previous = await duty.link(
        session=ctx.session,
        commune_id=person.commune_id,
        channel=ctx.event.channel,
        chat_id=ctx.event.chat_id,
        person_id=person.id,
        now=ctx.now,
    )
    assert person.commune is not None
    if previous is not None:
        # Where urgent alerts go has moved: the old group and the admins hear who moved it.
        moved = {"officer": person.full_name or "", "commune": person.commune.display_name}
        await ctx.notify(
            ctx.event.channel,
            previous,
            ctx.t("duty.moved_away", **moved),
            purpose="notice",
            commune_id=person.commune_id,
        )
        for admin in await admin_chats(session=ctx.session, commune_id=person.commune_id):
            await ctx.notify(
                admin.channel,
                admin.chat_id,
                tr(admin.language, "duty.moved", **moved),
                purpose="notice",
                commune_id=person.commune_id,
            )
    return Reply(ctx.t("duty.linked", commune=person.commune.display_name))
