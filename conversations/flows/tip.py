"""Tips from anyone: anonymous by default, ending with a case code; later additions by code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conversations.answers import Voice
from conversations.context import Ctx
from conversations.flow import Data, Flow, Kind, Option, Step
from conversations.flows.common import (
    TIPSTERS,
    attachments,
    lines,
    need_location,
    officer_targets,
    place_of,
    show_media,
    show_place,
    text_of,
    tr,
)
from locales import keywords
from locales.text import ascii_digits, first_upper
from storage import tip_access, tips, way_back
from storage.models import Tip
from storage.reports import add_tip, add_tip_message


async def too_many(ctx: Ctx) -> str | None:
    """A refusal when the sender has sent as many tips and additions as allowed, saying when
    they can send again."""
    for window, limit in (
        (timedelta(hours=1), ctx.config.tips_per_hour),
        (timedelta(days=1), ctx.config.tips_per_day),
    ):
        sent = await tips.sent_since(
            session=ctx.session, reporter_key=ctx.pseudonym, since=ctx.now - window
        )
        if sent >= limit:
            again = ctx.local(ctx.now + window).strftime("%H:%M %d/%m")
            return ctx.t("tip.too_many", count=limit, again=again)
    return None


async def _load(ctx: Ctx, data: Data) -> str | None:
    refusal = await too_many(ctx)
    if refusal:
        return refusal
    ever = await tips.sent_since(
        session=ctx.session, reporter_key=ctx.pseudonym, since=datetime(2000, 1, 1, tzinfo=UTC)
    )
    if ever == 0:
        data["first_tip"] = True  # the notice on personal data comes before it is sent
    if ctx.person.commune_id is not None and ctx.person.commune is not None:
        data["commune_id"] = ctx.person.commune_id
        data["communes"] = [[ctx.person.commune_id, ctx.person.commune.display_name]]
        return None
    communes = await tips.communes(session=ctx.session)
    if not communes:
        return ctx.t("tip.no_commune")
    if len(communes) == 1:
        data["commune_id"] = communes[0].id
    data["communes"] = [[c.id, c.display_name] for c in communes]
    return None


def notice(ctx: Ctx, commune: str) -> str:
    """The notice on personal data, naming the commune mid-sentence ("Công an xã Tân Hòa")."""
    named = commune[:1].lower() + commune[1:]
    return ctx.t("tip.notice", commune=named, days=ctx.config.tip_retention_days)


def _where_options(ctx: Ctx, data: Data) -> list[Option]:
    return [Option("share", ctx.t("place.share"), tuple(keywords(ctx.lang, "keyword.location")))]


def _contact(data: Data) -> str | None:
    """The contact left, if any, its Khmer digits as 0-9: "០៩១២៣៤៥៦៧៨" reaches the officers
    as 0912345678, a number they can dial. The rest is kept as typed."""
    text = data.get("contact_text")
    if data.get("contact") != "leave" or text is None:
        return None
    return ascii_digits(str(text))


def _summary(ctx: Ctx, data: Data) -> str:
    contact = (
        ctx.t("tip.contact_left", contact=_contact(data))
        if data.get("contact") == "leave"
        else ctx.t("tip.anonymous")
    )
    summary = lines(
        (ctx.t("field.what"), text_of(ctx, data.get("description"))),
        (ctx.t("field.where"), show_place(ctx, data.get("where"))),
        (
            ctx.t("field.media"),
            show_media(ctx, attachments(data.get("description"), data.get("media"))),
        ),
        (ctx.t("field.identity"), contact),
    )
    summary += _voice_warning(ctx, data.get("description"), data.get("media"))
    if data.get("first_tip"):
        names = {str(i): name for i, name in data.get("communes") or []}
        summary += "\n\n" + notice(ctx, names.get(str(data.get("commune_id")), ""))
    return summary


def _voice_warning(ctx: Ctx, note: object, media: object) -> str:
    """Said before a tip with a voice note is sent: the voice itself goes to the officers."""
    items = media if isinstance(media, tuple) else ()
    voiced = isinstance(note, Voice) or any(
        getattr(m, "media_type", "") in ("voice", "audio") for m in items
    )
    return "\n\n" + ctx.t("tip.voice_warning") if voiced else ""


async def _notify_officers(ctx: Ctx, tip: Tip, key: str, body: str | None) -> None:
    for channel, chat_id, lang in await officer_targets(ctx, tip.commune_id, duty_first=False):
        text = tr(lang, key, code=tip.case_code)
        if body:
            text += "\n" + body
        await ctx.notify(channel, chat_id, text, purpose="tip", commune_id=tip.commune_id)


async def _submit(ctx: Ctx, data: Data) -> str:
    place, lat, lon = place_of(ctx, data.get("where"))
    contact = _contact(data)
    tip = await add_tip(
        ctx.session,
        media=attachments(data.get("description"), data.get("media")),
        commune_id=int(data["commune_id"]),
        hamlet_id=None,
        reporter_key=ctx.pseudonym,
        description=text_of(ctx, data.get("description")),
        place_text=place,
        latitude=lat,
        longitude=lon,
        contact=contact,
        received_at=ctx.now,
    )
    await way_back.remember(
        session=ctx.session,
        tip=tip,
        channel=ctx.event.channel,
        chat_id=ctx.event.chat_id,
        keys=ctx.config.tip_keys,
    )
    await _notify_officers(ctx, tip, "tip.officer_new", tip.description)
    access = await tip_access.issue(session=ctx.session, tip=tip, key=ctx.config.secret)
    return ctx.t("tip.sent", code=tip.case_code, access=access)


def _contact_options(ctx: Ctx, data: Data) -> list[Option]:
    return [
        Option(
            "anonymous", ctx.t("tip.keep_anonymous"), tuple(keywords(ctx.lang, "keyword.anonymous"))
        ),
        Option("leave", ctx.t("tip.leave_contact")),
    ]


FLOW = Flow(
    name="tip",
    free_text_step="description",
    title="tip.title",
    roles=TIPSTERS,
    steps=(
        Step(
            "commune_id",
            Kind.CHOICE,
            "tip.ask_commune",
            when=lambda ctx, d: len(d.get("communes") or []) > 1,
            options=lambda ctx, d: [Option(str(i), first_upper(name)) for i, name in d["communes"]],
        ),
        Step("description", Kind.TEXT, "tip.ask_what", voice_ok=True, summary_label="field.what"),
        Step(
            "where",
            Kind.LOCATION,
            "tip.ask_where",
            optional=True,
            options=_where_options,
            validate=need_location,
            summary_label="field.where",
        ),
        Step(
            "media",
            Kind.MEDIA,
            "tip.ask_media",
            append_text_to="description",
            summary_label="field.media",
        ),
        Step(
            "contact",
            Kind.CHOICE,
            "tip.ask_contact",
            options=_contact_options,
            summary_label="field.identity",
        ),
        Step(
            "contact_text",
            Kind.TEXT,
            "tip.ask_contact_text",
            when=lambda ctx, d: d.get("contact") == "leave",
        ),
    ),
    start=_load,
    summary=_summary,
    submit=_submit,
)


# --- adding to a tip already sent ---------------------------------------------------------


async def _load_mine(ctx: Ctx, data: Data) -> str | None:
    refusal = await too_many(ctx)
    if refusal:
        return refusal
    if "tip_id" in data:  # opened from another chat with its secret code
        data["tips"] = [[data["code"], ""]]
        return None
    mine = await tips.open_tips_of(session=ctx.session, reporter_key=ctx.pseudonym)
    if not mine:
        return ctx.t("tip_add.none")
    data["tips"] = [[t.case_code, (t.description or "")[:30]] for t in mine]
    return None


def _mine(ctx: Ctx, data: Data) -> list[Option]:
    return [
        Option(
            code,
            f"{code} {short}".strip(),
            (code.lower(), code[3:].lower(), code.replace("-", "").lower()),
        )
        for code, short in data["tips"]
    ]


async def _submit_more(ctx: Ctx, data: Data) -> str:
    if "tip_id" in data:  # opened with the secret code, checked when it was typed
        tip = await tips.by_id(session=ctx.session, tip_id=int(data["tip_id"]))
    else:
        tip = await tips.tip_of(session=ctx.session, code=data["code"], reporter_key=ctx.pseudonym)
    if tip is None:
        return ctx.t("tip_add.none")
    body = text_of(ctx, data.get("body")) or ""
    media = attachments(data.get("body"), data.get("media"))
    await add_tip_message(ctx.session, tip, body, from_tipster=True, media=media)
    await _notify_officers(ctx, tip, "tip.officer_more", body)
    return ctx.t("tip_add.sent", code=tip.case_code)


def _more_summary(ctx: Ctx, data: Data) -> str:
    summary = lines(
        (ctx.t("field.tip_code"), data["code"]),
        (ctx.t("field.what"), text_of(ctx, data.get("body"))),
        (ctx.t("field.media"), show_media(ctx, attachments(data.get("body"), data.get("media")))),
    )
    return summary + _voice_warning(ctx, data.get("body"), data.get("media"))


def _code_values(ctx: Ctx, data: Data) -> dict[str, Any]:
    return {"code": data.get("code", "")}


MORE = Flow(
    name="tip_add",
    title="tip_add.title",
    roles=TIPSTERS,
    steps=(
        Step(
            "code", Kind.CHOICE, "tip_add.ask_code", options=_mine, summary_label="field.tip_code"
        ),
        Step("body", Kind.TEXT, "tip_add.ask_body", voice_ok=True, summary_label="field.what"),
        Step(
            "media",
            Kind.MEDIA,
            "tip_add.ask_media",
            append_text_to="body",
            summary_label="field.media",
        ),
    ),
    start=_load_mine,
    summary=_more_summary,
    submit=_submit_more,
    values=_code_values,
)
