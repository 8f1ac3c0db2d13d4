"""For admins: people (list, deactivate), schedules in days and hours (the chat's /lich,
parsed and checked by the same code), and the audit log (read only)."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.web.app import WebCtx, desk_page
from bot.web.case_pages import tz_of
from conversations.context import Ctx, EngineConfig
from conversations.events import Incoming
from handlers.schedules import schedule_command
from storage import access, audit, desk
from storage.models import Identity


async def people(ctx: WebCtx) -> Response:
    rows = await desk.commune_people(session=ctx.session, commune_id=ctx.commune_id)
    linked = await desk.linked_people(session=ctx.session, person_ids=[p.id for p in rows])
    return ctx.render(
        "people.html", people=rows, linked=linked, done=ctx.request.query_params.get("done", "")
    )


async def deactivate(ctx: WebCtx) -> Response:
    person_id = ctx.request.path_params["person_id"]
    rows = await desk.commune_people(session=ctx.session, commune_id=ctx.commune_id)
    target = next((p for p in rows if p.id == person_id), None)
    if target is None:
        return ctx.render("failure.html", 404, message_key="web.not_found")
    if target.id == ctx.person.id:
        return ctx.render("failure.html", 400, message_key="web.not_yourself")
    await access.deactivate(session=ctx.session, person_id=target.id)
    await audit.record(
        session=ctx.session,
        person=ctx.person,
        action="deactivate",
        target=target.full_name or str(target.id),
        now=ctx.now,
    )
    return RedirectResponse("/people?done=deactivated", status_code=303)


async def roster(ctx: WebCtx) -> Response:
    """A roster CSV uploaded: every row checked first; any bad row and nothing is imported."""
    from starlette.datastructures import UploadFile

    from locales import available_languages
    from storage import admin

    upload = ctx.form.get("roster") if ctx.form is not None else None
    if not isinstance(upload, UploadFile):
        return ctx.render("failure.html", 400, message_key="web.roster_missing")
    raw = await upload.read()
    commune = await desk.commune_with_hamlets(session=ctx.session, commune_id=ctx.commune_id)
    assert commune is not None
    result = admin.parse_roster(commune, raw, set(available_languages()))
    if result.errors:
        rows = await desk.commune_people(session=ctx.session, commune_id=ctx.commune_id)
        linked = await desk.linked_people(session=ctx.session, person_ids=[p.id for p in rows])
        errors = admin.roster_errors(ctx.lang, result)
        return ctx.render("people.html", 400, people=rows, linked=linked, errors=errors)
    counts = await admin.import_roster(ctx.session, commune, result, ctx.lang)
    changed = counts.added + counts.updated
    await audit.record(
        session=ctx.session, person=ctx.person, action="roster", detail=str(changed), now=ctx.now
    )
    return RedirectResponse(f"/people?done=imported&count={changed}", status_code=303)


async def invites(ctx: WebCtx) -> Response:
    """A printable sheet: a new invite for everyone of the commune with no chat linked yet,
    each with its Telegram link, QR code and the code to type on Zalo."""
    import segno

    from storage import admin
    from storage.identity import pretty_invite

    config = ctx.services.config
    sheet = []
    for person in await admin.people_to_invite(session=ctx.session, commune_id=ctx.commune_id):
        invite = await admin.issue_invite(ctx.session, person, config.invite_ttl_days)
        link = f"https://t.me/{config.bot_username or 'YOUR_BOT'}?start={invite.code}"
        qr = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
        sheet.append((person, link, qr, pretty_invite(invite.code), invite.expires_at))
    await audit.record(
        session=ctx.session,
        person=ctx.person,
        action="invites",
        detail=str(len(sheet)),
        now=ctx.now,
    )
    return ctx.render("invites.html", sheet=sheet, local=lambda d: d.astimezone(tz_of(ctx)))


def _chat_ctx(ctx: WebCtx, args: str) -> Ctx:
    """The chat's context for an admin's /lich typed on the desk."""
    web = ctx.services.config
    config = EngineConfig(
        secret=web.secret, tip_keys=web.tip_keys, default_language=web.default_language
    )
    event = Incoming(
        channel="web",
        chat_id=f"web-{ctx.person.id}",
        user_id=str(ctx.person.id),
        command="lich",
        args=args,
    )
    identity = Identity(channel="web", external_id=str(ctx.person.id), person_id=ctx.person.id)
    return Ctx(ctx.session, event, ctx.person, identity, config, ctx.now)


async def schedules(ctx: WebCtx) -> Response:
    args = ""
    if ctx.request.method == "POST":
        args = f"{ctx.field('job')} {ctx.field('when')}".strip()
    reply = await schedule_command(_chat_ctx(ctx, args))
    if args:
        await audit.record(
            session=ctx.session,
            person=ctx.person,
            action="schedule",
            target=ctx.field("job"),
            detail=ctx.field("when"),
            now=ctx.now,
        )
    from storage.schedules import DEFAULTS, OPERATOR_JOBS

    jobs = [j for j in DEFAULTS if j not in OPERATOR_JOBS]
    return ctx.render("schedules.html", text=reply.text, jobs=jobs, sent=bool(args))


async def audit_log(ctx: WebCtx) -> Response:
    rows = await audit.entries(session=ctx.session, commune_id=ctx.commune_id)
    return ctx.render("audit.html", rows=rows, local=lambda d: d.astimezone(tz_of(ctx)))


def routes() -> list[BaseRoute]:
    return [
        Route("/people", desk_page(people, admin=True)),
        Route(
            "/people/{person_id:int}/deactivate",
            desk_page(deactivate, admin=True),
            methods=["POST"],
        ),
        Route("/people/invites", desk_page(invites, admin=True), methods=["POST"]),
        Route("/people/roster", desk_page(roster, admin=True), methods=["POST"]),
        Route("/schedules", desk_page(schedules, admin=True), methods=["GET", "POST"]),
        Route("/audit", desk_page(audit_log, admin=True)),
    ]
