"""Officer actions that need typing: a note on a case, closing with an outcome, a question
to an anonymous tipster. They start from a case's buttons with the case preset."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.callbacks import CaseAction, Verb
from conversations.context import Ctx, Notifying
from conversations.events import Button, has_buttons
from conversations.flow import Data, Flow, Kind, Option, Step
from conversations.flows.common import OFFICERS, lines, tr
from locales import wording
from locales.text import address_of, first_upper
from storage import cases
from storage.enums import RecordKind
from storage.keyring import Keyring
from storage.models import Commune, Incident, Person, Tip
from storage.queries import load_person

# The letter a case's kind has in button data and flow presets.
KIND_LETTER = {RecordKind.INCIDENT: "i", RecordKind.TIP: "t"}
RECORD_KINDS = {letter: kind for kind, letter in KIND_LETTER.items()}


async def case_record(ctx: Ctx, kind: str, record_id: int) -> Incident | Tip | None:
    """The case named by a flow's preset, if the person may act on it."""
    if kind not in RECORD_KINDS:
        return None
    return await cases.get(
        session=ctx.session, person=ctx.person, kind=RECORD_KINDS[kind], case_id=record_id
    )


# What queues the notices: a chat's Ctx, or the web desk's request.
Notifier = Notifying


async def tell(ctx: Notifier, record: Incident | Tip, chats: list[cases.Chat], key: str) -> None:
    """Queue a message about a case to each of its reporter's chats, in the chat's language,
    naming the case ("vụ việc VV-21 (Trộm cắp, 21:00 23/11)") and addressing a known reporter
    by name; to a tipster, who stays unknown, ephemeral (storage.outbox)."""
    reporter = None
    if isinstance(record, Incident) and record.reporter_id is not None:
        reporter = await load_person(ctx.session, record.reporter_id)
    commune = await ctx.session.get(Commune, record.commune_id)
    tz = ZoneInfo(commune.timezone) if commune is not None else None
    for chat in chats:
        address = address_of(
            chat.language,
            reporter.title if reporter else None,
            reporter.full_name if reporter else None,
        )
        await ctx.notify(
            chat.channel,
            chat.chat_id,
            tr(
                chat.language,
                key,
                code=cases.case_code(record),
                case=case_named(chat.language, record, tz),
                address=address,
                Address=first_upper(address),
            ),
            purpose="case_update",
            commune_id=record.commune_id,
            ephemeral=isinstance(record, Tip),
        )


def case_named(lang: str, record: Incident | Tip, tz: ZoneInfo | None) -> str:
    """A case as its reporter knows it: "vụ việc VV-21 (Trộm cắp, 21:00 23/11)", "tin báo
    TB-7K3M9Q"."""
    code = cases.case_code(record)
    if isinstance(record, Tip):
        return tr(lang, "case.named_tip", code=code)
    category = tr(lang, f"category.{record.category}").split(",")[0]
    at = record.occurred_at.astimezone(tz).strftime("%H:%M %d/%m")
    return tr(lang, "case.named_incident", code=code, category=category, at=at)


async def _load(ctx: Ctx, data: Data) -> str | None:
    record = await case_record(ctx, data.get("kind", ""), int(data.get("id", 0)))
    if record is None:
        return ctx.t("alert.not_yours")
    data["code"] = cases.case_code(record)
    return None


def _values(ctx: Ctx, data: Data) -> dict[str, Any]:
    return {"code": data.get("code", "")}


async def _submit_note(ctx: Ctx, data: Data) -> str:
    record = await case_record(ctx, data["kind"], int(data["id"]))
    if record is None:
        return ctx.t("alert.not_yours")
    await cases.add_note(
        session=ctx.session, person=ctx.person, record=record, text=data["note"], now=ctx.now
    )
    return ctx.t("case.noted", code=cases.case_code(record))


# The usual ways a case ends; any other is typed.
OUTCOMES = ("investigation", "fined", "mediated", "unfounded", "other_agency")


def _outcome_options(ctx: Ctx, data: Data) -> list[Option]:
    return [Option(code, ctx.t(f"outcome.{code}")) for code in OUTCOMES]


def _outcome(ctx: Ctx, data: Data) -> str:
    return outcome_text(ctx.lang, str(data.get("outcome") or ""))


def outcome_text(lang: str, chosen: str) -> str:
    """A usual outcome's words by its code; anything else as typed."""
    return tr(lang, f"outcome.{chosen}") if chosen in OUTCOMES else chosen


async def close_and_tell(
    n: Notifier,
    *,
    session: AsyncSession,
    person: Person,
    record: Incident | Tip,
    outcome: str,
    now: datetime,
    keys: Keyring,
) -> None:
    """Close a case with its outcome and tell the reporter, from the chat or the desk."""
    told = await cases.close(
        session=session, person=person, record=record, outcome=outcome, now=now, keys=keys
    )
    await tell(n, record, told, "case.told_closed")


async def ask_and_send(
    n: Notifier,
    *,
    session: AsyncSession,
    person: Person,
    tip: Tip,
    question: str,
    now: datetime,
    keys: Keyring,
) -> None:
    """Store an officer's question under a tip and queue it to the tipster, with the button
    that answers it, from the chat or the desk."""
    chats = await cases.ask_tipster(
        session=session, person=person, tip=tip, question=question, now=now, keys=keys
    )
    answer = CaseAction(Verb.REPLY, KIND_LETTER[RecordKind.TIP], tip.id).encode()
    for chat in chats:
        await n.notify(
            chat.channel,
            chat.chat_id,
            tr(
                chat.language,
                wording(
                    chat.language, "case.question_to_tipster", buttons=has_buttons(chat.channel)
                ),
                code=tip.case_code,
                question=question,
                address=tr(chat.language, "address.neutral"),  # a tipster stays unknown
            ),
            buttons=[[Button(tr(chat.language, "case.answer"), answer)]],
            purpose="tip_question",
            commune_id=tip.commune_id,
            ephemeral=True,
        )


async def _submit_close(ctx: Ctx, data: Data) -> str:
    record = await case_record(ctx, data["kind"], int(data["id"]))
    if record is None:
        return ctx.t("alert.not_yours")
    await close_and_tell(
        ctx,
        session=ctx.session,
        person=ctx.person,
        record=record,
        outcome=_outcome(ctx, data),
        now=ctx.now,
        keys=ctx.config.tip_keys,
    )
    return ctx.t("case.closed", code=cases.case_code(record))


async def _submit_question(ctx: Ctx, data: Data) -> str:
    tip = await case_record(ctx, KIND_LETTER[RecordKind.TIP], int(data["id"]))
    if not isinstance(tip, Tip):
        return ctx.t("alert.not_yours")
    await ask_and_send(
        ctx,
        session=ctx.session,
        person=ctx.person,
        tip=tip,
        question=data["question"],
        now=ctx.now,
        keys=ctx.config.tip_keys,
    )
    return ctx.t("case.asked", code=tip.case_code)


def _code_field(ctx: Ctx, data: Data) -> str:
    """ "Mã vụ việc" or "Mã tin báo", by the kind of the case."""
    tip = data.get("kind") == KIND_LETTER[RecordKind.TIP]
    return ctx.t("field.tip_code" if tip else "field.incident_code")


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
    steps=(
        Step(
            "outcome",
            Kind.TEXT,
            "case.ask_outcome",
            options=_outcome_options,
            summary_label="case.outcome",
        ),
    ),
    start=_load,
    values=_values,
    submit=_submit_close,
    confirm_label="case.confirm_close",
    summary=lambda ctx, d: lines(
        (_code_field(ctx, d), d["code"]), (ctx.t("case.outcome"), _outcome(ctx, d))
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
        (_code_field(ctx, d), d["code"]), (ctx.t("case.question"), d.get("question"))
    ),
)
