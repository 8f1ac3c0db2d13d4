"""The cases: a filterable list, a case with its history, media and pin, and every action
the chat has. Actions call the same storage.cases functions and queue the same notices as
the chat (conversations.flows.officer, handlers.cases): the reporter is told alike."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.web.app import WebCtx, desk_page
from conversations.flows.officer import OUTCOMES, ask_and_send, close_and_tell, outcome_text
from handlers.cases import SAFE_FOR_TIPS, acknowledge_and_tell, tell_assignee
from storage import audit, cases, desk
from storage.enums import OPEN_STATUSES, Channel, IncidentCategory, RecordKind, Status
from storage.models import Tip

PAGE = 50
KINDS = {"i": RecordKind.INCIDENT, "t": RecordKind.TIP}
LETTER = {v: k for k, v in KINDS.items()}
MAX_TEXT = 4000


def tz_of(ctx: WebCtx) -> ZoneInfo:
    commune = ctx.person.commune
    return ZoneInfo(commune.timezone if commune else "Asia/Ho_Chi_Minh")


def _day(value: str, tz: ZoneInfo, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1) if end else day, time(), tz)


def filters_from(ctx: WebCtx) -> tuple[cases.CaseFilter, dict[str, str]]:
    """The list's filters from the query string; anything unknown is ignored."""
    q = ctx.request.query_params
    chosen = {
        k: q.get(k, "").strip()
        for k in (
            "status",
            "kind",
            "category",
            "hamlet",
            "urgency",
            "assignee",
            "since",
            "until",
            "q",
        )
    }
    status = chosen["status"]
    statuses: tuple[str, ...] = tuple(s.value for s in OPEN_STATUSES)
    if status == "all":
        statuses = tuple(s.value for s in Status)
    elif status in Status.__members__.values():
        statuses = (status,)
    tz = tz_of(ctx)
    f = cases.CaseFilter(
        statuses=statuses,
        kind=KINDS.get(chosen["kind"]),
        category=chosen["category"]
        if chosen["category"] in IncidentCategory.__members__.values()
        else None,
        hamlet_id=int(chosen["hamlet"]) if chosen["hamlet"].isdecimal() else None,
        assignee_id=int(chosen["assignee"]) if chosen["assignee"].isdecimal() else None,
        urgent={"urgent": True, "ordinary": False}.get(chosen["urgency"]),
        since=_day(chosen["since"], tz),
        until=_day(chosen["until"], tz, end=True),
        search=chosen["q"][:100] or None,
    )
    return f, chosen


async def case_list(ctx: WebCtx) -> Response:
    f, chosen = filters_from(ctx)
    offset = ctx.request.query_params.get("page", "0")
    page_no = int(offset) if offset.isdecimal() else 0
    rows, total = await cases.queue(
        session=ctx.session, commune_id=ctx.commune_id, filters=f, limit=PAGE, offset=page_no * PAGE
    )
    commune = await desk.commune_with_hamlets(session=ctx.session, commune_id=ctx.commune_id)
    officers = await cases.assignable(session=ctx.session, commune_id=ctx.commune_id)
    hamlets = {h.id: h.name for h in (commune.hamlets if commune else [])}
    names = {p.id: p.full_name or str(p.id) for p in officers}
    query = "&".join(f"{k}={v}" for k, v in chosen.items() if v)
    return ctx.render(
        "cases.html",
        rows=rows,
        total=total,
        page_no=page_no,
        pages=max(1, (total + PAGE - 1) // PAGE),
        query=query,
        chosen=chosen,
        hamlets=hamlets,
        officers=names,
        categories=[c.value for c in IncidentCategory],
        statuses=[s.value for s in Status],
        letter=LETTER,
        local=lambda d: d.astimezone(tz_of(ctx)),
        now=ctx.now,
    )


async def _record(ctx: WebCtx) -> cases.Case | None:
    kind = KINDS.get(ctx.request.path_params["kind"])
    case_id = ctx.request.path_params["case_id"]
    if kind is None:
        return None
    return await cases.get(session=ctx.session, person=ctx.person, kind=kind, case_id=case_id)


def _not_found(ctx: WebCtx) -> Response:
    return ctx.render("failure.html", 404, message_key="web.case_not_found")


async def case_view(ctx: WebCtx) -> Response:
    record = await _record(ctx)
    if record is None:
        return _not_found(ctx)
    is_tip = isinstance(record, Tip)
    if is_tip:
        await audit.record(
            session=ctx.session,
            person=ctx.person,
            action="view_tip",
            target=cases.case_code(record),
            now=ctx.now,
        )
    files = await cases.files(session=ctx.session, record=record)
    media = [
        (n, f.media_type, f.channel == Channel.CONSOLE)  # the console keeps no file
        for n, f in enumerate(files)
        if not is_tip or f.media_type in SAFE_FOR_TIPS
    ]
    return ctx.render(
        "case_page.html",
        record=record,
        code=cases.case_code(record),
        letter=LETTER[cases.kind_of(record)],
        is_tip=is_tip,
        timeline=await _timeline(ctx, record),
        handler=await cases.assignee(session=ctx.session, record=record),
        officers=await cases.assignable(session=ctx.session, commune_id=record.commune_id),
        media=media,
        withheld=len(files) - len(media),
        outcomes=OUTCOMES,
        local=lambda d: d.astimezone(tz_of(ctx)),
        done=ctx.request.query_params.get("done", ""),
        tile_url=ctx.services.config.tile_url,
    )


async def _timeline(ctx: WebCtx, record: Any) -> list[tuple[str, Any]]:
    """The case's history and a tip's messages in one list, oldest first; a status comes
    before a message of the same moment."""
    entries: list[tuple[Any, int, str, Any]] = [
        (h.at, 0, "history", h) for h in await cases.history(session=ctx.session, record=record)
    ]
    if isinstance(record, Tip):
        messages = await cases.tip_messages(session=ctx.session, tip=record)
        entries += [(m.at, 1, "message", m) for m in messages]
    entries.sort(key=lambda e: (e[0], e[1]))
    return [(kind, item) for _, _, kind, item in entries]


async def case_media(ctx: WebCtx) -> Response:
    """A photo or voice note of a case, fetched from the platform by its file id."""
    record = await _record(ctx)
    fetch = ctx.services.fetch_media
    if record is None or fetch is None:
        return _not_found(ctx)
    files = await cases.files(session=ctx.session, record=record)
    n = ctx.request.path_params["n"]
    if (
        n >= len(files)
        or (isinstance(record, Tip) and files[n].media_type not in SAFE_FOR_TIPS)
        or files[n].channel == Channel.CONSOLE  # the console keeps no file
    ):
        return _not_found(ctx)
    got = await fetch(files[n].channel, files[n].file_id)
    if got is None:
        return ctx.render("failure.html", 502, message_key="web.media_unavailable")
    content, media_type = got
    return Response(
        content, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"}
    )


async def case_action(ctx: WebCtx) -> Response:
    record = await _record(ctx)
    if record is None:
        return _not_found(ctx)
    verb = ctx.request.path_params["verb"]
    code = cases.case_code(record)
    keys = ctx.services.config.tip_keys
    done = verb
    if record.status == Status.CLOSED and verb != "note":
        return ctx.render("failure.html", 409, message_key="web.case_closed")
    if verb == "ack":
        if not await acknowledge_and_tell(
            ctx, keys=keys, session=ctx.session, person=ctx.person, record=record, now=ctx.now
        ):
            done = "already"
    elif verb == "status":
        status = ctx.field("status")
        if status not in (Status.IN_PROGRESS, Status.RESOLVED):
            return ctx.render("failure.html", 400, message_key="web.bad_status")
        await cases.change_status(
            status=Status(status),
            keys=keys,
            session=ctx.session,
            person=ctx.person,
            record=record,
            now=ctx.now,
        )
    elif verb == "assign":
        chosen = ctx.field("assignee")
        given = await cases.assign(
            assignee_id=int(chosen) if chosen.isdecimal() else 0,
            session=ctx.session,
            person=ctx.person,
            record=record,
            now=ctx.now,
        )
        if given is None:
            return ctx.render("failure.html", 400, message_key="web.bad_assignee")
        await tell_assignee(ctx, record, given, ctx.person)
    elif verb == "note":
        text = ctx.field("note")[:MAX_TEXT]
        if not text:
            return ctx.render("failure.html", 400, message_key="web.empty_text")
        await cases.add_note(
            text=text, session=ctx.session, person=ctx.person, record=record, now=ctx.now
        )
    elif verb == "close":
        chosen = ctx.field("outcome")
        outcome = outcome_text(ctx.lang, chosen) if chosen != "typed" else ctx.field("outcome_text")
        if not outcome.strip():
            return ctx.render("failure.html", 400, message_key="web.empty_outcome")
        await close_and_tell(
            ctx,
            keys=keys,
            outcome=outcome.strip()[:MAX_TEXT],
            session=ctx.session,
            person=ctx.person,
            record=record,
            now=ctx.now,
        )
    elif verb == "ask" and isinstance(record, Tip):
        question = ctx.field("question")[:MAX_TEXT]
        if not question:
            return ctx.render("failure.html", 400, message_key="web.empty_text")
        await ask_and_send(
            ctx,
            session=ctx.session,
            person=ctx.person,
            tip=record,
            question=question,
            now=ctx.now,
            keys=keys,
        )
    else:
        return _not_found(ctx)
    await audit.record(
        session=ctx.session,
        person=ctx.person,
        action=verb,
        target=code,
        now=ctx.now,
        detail=ctx.field("status") or ctx.field("assignee") or ctx.field("outcome"),
    )
    letter = LETTER[cases.kind_of(record)]
    return RedirectResponse(f"/cases/{letter}/{record.id}?done={done}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/cases", desk_page(case_list)),
        Route("/cases/{kind}/{case_id:int}", desk_page(case_view)),
        Route("/cases/{kind}/{case_id:int}/media/{n:int}", desk_page(case_media)),
        Route("/cases/{kind}/{case_id:int}/{verb}", desk_page(case_action), methods=["POST"]),
    ]
