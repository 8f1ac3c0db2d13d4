"""Officer actions that need typing: a note on a case, closing with an outcome, a question
to an anonymous tipster. They start from a case's buttons with the case preset."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conversations.context import Ctx
from conversations.events import Button
from conversations.flow import Data, Flow, Kind, Step
from conversations.flows.common import OFFICERS, lines, tr
from storage.enums import COMMUNE_ROLES, RecordKind, Status
from storage.models import Identity, Incident, Person, StatusChange, Tip
from storage.reports import add_tip_message

KINDS = {"i": (RecordKind.INCIDENT, Incident), "t": (RecordKind.TIP, Tip)}


async def case_record(ctx: Ctx, kind: str, record_id: int) -> Incident | Tip | None:
    """The case, if the person may act on it: an officer or admin of the case's commune."""
    if kind not in KINDS:
        return None
    record = await ctx.session.get(KINDS[kind][1], record_id)
    person = ctx.person
    if record is None or person.role not in COMMUNE_ROLES or not person.active:
        return None
    return record if record.commune_id == person.commune_id else None


def case_code(record: Incident | Tip) -> str:
    return record.case_code if isinstance(record, Tip) else f"VV-{record.id}"


async def reporter_chats(ctx: Ctx, record: Incident | Tip) -> list[tuple[str, str, str]]:
    """Where the reporter hears back: their chats, found by person or, for a tip, by pseudonym."""
    query = (
        select(Identity.channel, Identity.chat_id, Person.language)
        .join(Person)
        .where(Identity.blocked_at.is_(None))
    )
    if isinstance(record, Tip):
        query = query.where(Identity.pseudonym == record.reporter_key)
    elif record.reporter_id is not None:
        query = query.where(Identity.person_id == record.reporter_id)
    else:
        return []
    return [(c, chat, lang) for c, chat, lang in (await ctx.session.execute(query)).all()]


async def set_status(
    ctx: Ctx, record: Incident | Tip, status: Status, note: str | None = None
) -> None:
    kind = RecordKind.TIP if isinstance(record, Tip) else RecordKind.INCIDENT
    record.status = status
    ctx.session.add(
        StatusChange(
            record_kind=kind,
            record_id=record.id,
            status=status,
            actor_id=ctx.person.id,
            created_at=ctx.now,
            note=note,
        )
    )
    key = {Status.ACKNOWLEDGED: "case.told_acknowledged", Status.CLOSED: "case.told_closed"}.get(
        status
    )
    if key is None:
        return
    for channel, chat_id, lang in await reporter_chats(ctx, record):
        await ctx.notify(
            channel,
            chat_id,
            tr(lang, key, code=case_code(record)),
            purpose="case_update",
            commune_id=record.commune_id,
        )


async def _load(ctx: Ctx, data: Data) -> str | None:
    record = await case_record(ctx, data.get("kind", ""), int(data.get("id", 0)))
    if record is None:
        return ctx.t("alert.not_yours")
    data["code"] = case_code(record)
    return None


def _values(ctx: Ctx, data: Data) -> dict[str, Any]:
    return {"code": data.get("code", "")}


async def _submit_note(ctx: Ctx, data: Data) -> str:
    record = await case_record(ctx, data["kind"], int(data["id"]))
    if record is None:
        return ctx.t("alert.not_yours")
    kind = RecordKind.TIP if isinstance(record, Tip) else RecordKind.INCIDENT
    ctx.session.add(
        StatusChange(
            record_kind=kind,
            record_id=record.id,
            status=record.status,
            actor_id=ctx.person.id,
            created_at=ctx.now,
            note=data["note"],
        )
    )
    return ctx.t("case.noted", code=case_code(record))


async def _submit_close(ctx: Ctx, data: Data) -> str:
    record = await case_record(ctx, data["kind"], int(data["id"]))
    if record is None:
        return ctx.t("alert.not_yours")
    record.outcome = data["outcome"]
    await set_status(ctx, record, Status.CLOSED, data["outcome"])
    return ctx.t("case.closed", code=case_code(record))


async def _submit_question(ctx: Ctx, data: Data) -> str:
    tip = await case_record(ctx, "t", int(data["id"]))
    if not isinstance(tip, Tip):
        return ctx.t("alert.not_yours")
    await add_tip_message(
        ctx.session, tip, data["question"], from_tipster=False, officer_id=ctx.person.id
    )
    for channel, chat_id, lang in await reporter_chats(ctx, tip):
        await ctx.notify(
            channel,
            chat_id,
            tr(lang, "case.question_to_tipster", code=tip.case_code, question=data["question"]),
            buttons=[[Button(tr(lang, "case.answer"), f"a:reply:t:{tip.id}")]],
            purpose="tip_question",
            commune_id=tip.commune_id,
        )
    return ctx.t("case.asked", code=tip.case_code)


NOTE = Flow(
    name="case_note",
    title="case.note_title",
    roles=OFFICERS,
    steps=(Step("note", Kind.TEXT, "case.ask_note"),),
    start=_load,
    values=_values,
    summary=lambda ctx, d: "",
    submit=_submit_note,
    confirm=False,
)
CLOSE = Flow(
    name="case_close",
    title="case.close_title",
    roles=OFFICERS,
    steps=(Step("outcome", Kind.TEXT, "case.ask_outcome", summary_label="case.outcome"),),
    start=_load,
    values=_values,
    submit=_submit_close,
    confirm_label="case.confirm_close",
    summary=lambda ctx, d: lines(
        (ctx.t("field.code"), d["code"]), (ctx.t("case.outcome"), d.get("outcome"))
    ),
)
QUESTION = Flow(
    name="tip_question",
    title="case.question_title",
    roles=OFFICERS,
    steps=(Step("question", Kind.TEXT, "case.ask_question", summary_label="case.question"),),
    start=_load,
    values=_values,
    submit=_submit_question,
    confirm_label="case.send_question",
    summary=lambda ctx, d: lines(
        (ctx.t("field.code"), d["code"]), (ctx.t("case.question"), d.get("question"))
    ),
)
