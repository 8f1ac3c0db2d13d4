"""Officer actions from buttons and commands, rendered for a chat: the case queue, a case,
its status, statistics, criteria and exports.

Button data comes from the client and is never trusted: it is decoded by
conversations.callbacks, and every action goes through storage.cases, which checks the
presser's rights on the record it names. This module only turns the results into replies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.callbacks import (
    CaseAction,
    MenuPick,
    OfficerScreen,
    Screen,
    Verb,
    decode,
)
from conversations.context import Ctx
from conversations.engine import Engine
from conversations.events import Button, Reply
from conversations.flows.common import tr
from conversations.flows.officer import KIND_LETTER, Notifier, case_record, tell
from locales import word_table
from locales.text import address_of, age_words, first_upper, fold, period_words
from storage import cases, media
from storage.enums import REPORTED_CATEGORIES, HistoryEntry, IncidentCategory, RecordKind, Status
from storage.keyring import Keyring
from storage.models import Conversation, Incident, Person, Tip
from storage.periods import containing

PAGE = 5
SAFE_FOR_TIPS = ("photo", "voice")
PERIODS = ("week", "month", "quarter", "year")


def period_word(lang: str, word: str) -> str | None:
    """The period a word names: "week", or a word of the catalogue's "keyword.period" lists
    ("tuần", "tuan", "ខែ"), in the person's language or in Vietnamese."""
    if word in PERIODS:
        return word
    return word_table(lang, "keyword.period").get(fold(word))


# Case actions that start a conversation for the officer to type into.
TYPED = {Verb.NOTE: "case_note", Verb.CLOSE: "case_close", Verb.ASK: "tip_question"}


def is_officer(ctx: Ctx) -> bool:
    return cases.may_handle_cases(ctx.person)


def case_button(label: str, verb: Verb, record: Incident | Tip, arg: str | None = None) -> Button:
    return Button(
        label, CaseAction(verb, KIND_LETTER[cases.kind_of(record)], record.id, arg).encode()
    )


Handler = Callable[[Ctx, Conversation, Incident | Tip, CaseAction], Awaitable[list[Reply]]]


class CaseActions:
    """Handles officer button data; wired into the engine so typed menu choices reach it too."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.verbs: dict[Verb, Handler] = {
            Verb.VIEW: self._view,
            Verb.ACK: self._ack,
            Verb.STATUS: self._status,
            Verb.ASSIGN: self._assign,
            Verb.NOTE: self._typed,
            Verb.CLOSE: self._typed,
            Verb.ASK: self._typed,
            Verb.CLASSIFY: self._classify,
        }

    async def __call__(self, ctx: Ctx, conv: Conversation, data: str) -> list[Reply]:
        action = decode(data)
        if isinstance(action, CaseAction) and action.verb == Verb.REPLY:
            return await self._tipster_reply(ctx, conv, action)
        if not is_officer(ctx):
            return [Reply(ctx.t("alert.not_yours"), private_only=True)]
        if isinstance(action, OfficerScreen):
            return await self.open_screen(ctx, action)
        if not isinstance(action, CaseAction):
            return [Reply(ctx.t("stale.button"))]
        record = await case_record(ctx, action.kind, action.case_id)
        if record is None:
            return [Reply(ctx.t("alert.not_yours"), private_only=True)]
        return await self.verbs[action.verb](ctx, conv, record, action)

    async def open_screen(self, ctx: Ctx, action: OfficerScreen) -> list[Reply]:
        """An officer screen, from a button or a command; refused to anyone else."""
        if not is_officer(ctx):
            return [Reply(ctx.t("alert.not_yours"), private_only=True)]
        return [await self._screen(ctx, action)]

    async def _screen(self, ctx: Ctx, action: OfficerScreen) -> Reply:
        if action.screen == Screen.CASES:
            page = action.arg(0, "0")
            return await self.queue(ctx, int(page) if page.isdecimal() else 0)
        if action.screen == Screen.STATS:
            return await self.stats(ctx, action.arg(0, "week"))
        if action.screen == Screen.DESK:
            from handlers.web import desk_link

            return await desk_link(ctx)
        if action.screen == Screen.CRITERIA:
            return await self.criteria(ctx, action.arg(0, "quarter"))
        return await self.export(ctx, action.arg(0, "month"), action.arg(1, "xlsx"))

    async def _view(
        self, ctx: Ctx, conv: Conversation, record: Incident | Tip, action: CaseAction
    ) -> list[Reply]:
        return await self.view(ctx, record)

    async def _ack(
        self, ctx: Ctx, conv: Conversation, record: Incident | Tip, action: CaseAction
    ) -> list[Reply]:
        code = cases.case_code(record)
        if not await acknowledge_and_tell(
            ctx,
            session=ctx.session,
            person=ctx.person,
            record=record,
            now=ctx.now,
            keys=ctx.config.tip_keys,
        ):
            return [Reply(ctx.t("alert.already", id=code))]
        done = Reply(
            ctx.t(
                "alert.acked",
                id=code,
                officer=ctx.person.full_name or "",
                time=ctx.local(ctx.now).strftime("%H:%M %d/%m"),
            )
        )
        # In a duty group everyone sees who took it; in a private chat, the case follows.
        return [done] if not ctx.event.private else [done, *await self.view(ctx, record)]

    async def _status(
        self, ctx: Ctx, conv: Conversation, record: Incident | Tip, action: CaseAction
    ) -> list[Reply]:
        if action.arg not in (Status.IN_PROGRESS, Status.RESOLVED):
            return [Reply(ctx.t("stale.button"))]
        status = Status(action.arg)
        await cases.change_status(
            session=ctx.session,
            person=ctx.person,
            record=record,
            status=status,
            now=ctx.now,
            keys=ctx.config.tip_keys,
        )
        done = Reply(
            ctx.t("case.status_set", code=cases.case_code(record), status=ctx.t(f"status.{status}"))
        )
        return [done, *await self.view(ctx, record)]

    async def _classify(
        self, ctx: Ctx, conv: Conversation, record: Incident | Tip, action: CaseAction
    ) -> list[Reply]:
        if not isinstance(record, Incident) or record.status == Status.CLOSED:
            return [Reply(ctx.t("stale.button"))]
        code = cases.case_code(record)
        if action.arg is None:
            return [
                Reply(
                    ctx.t("voice.classify_ask", code=code),
                    [
                        *(
                            [case_button(ctx.t(f"category.{c}"), Verb.CLASSIFY, record, c)]
                            for c in REPORTED_CATEGORIES
                        ),
                        [case_button(ctx.t("case.open"), Verb.VIEW, record)],
                    ],
                )
            ]
        done = await cases.classify(
            session=ctx.session,
            person=ctx.person,
            record=record,
            category=action.arg,
            now=ctx.now,
        )
        if not done:
            return [Reply(ctx.t("stale.button"))]
        said = ctx.t("voice.classified", code=code, category=ctx.t(f"category.{action.arg}"))
        return [Reply(said), *await self.view(ctx, record)]

    async def _typed(
        self, ctx: Ctx, conv: Conversation, record: Incident | Tip, action: CaseAction
    ) -> list[Reply]:
        if action.verb == Verb.ASK and not isinstance(record, Tip):
            return [Reply(ctx.t("stale.button"))]
        preset: dict[str, object] = {"kind": action.kind, "id": record.id}
        return await self._start(ctx, conv, TYPED[action.verb], preset)

    async def queue(self, ctx: Ctx, page: int) -> Reply:
        assert ctx.person.commune_id is not None
        rows, total = await cases.queue(
            session=ctx.session,
            commune_id=ctx.person.commune_id,
            limit=PAGE,
            offset=page * PAGE,
        )
        if not total:
            return Reply(ctx.t("case.queue_empty"))
        if not rows:  # a page past the end (the queue shrank, or the data was made up)
            return await self.queue(ctx, (total - 1) // PAGE)
        buttons = []
        for row in rows:
            label = ctx.t(f"category.{row.category}") if row.category else ctx.t("digest.tip")
            mark = "🔴 " if row.urgent else ""
            age = age_words(ctx.lang, row.age_days(ctx.now))
            data = CaseAction(Verb.VIEW, KIND_LETTER[RecordKind(row.kind)], row.id).encode()
            buttons.append([Button(f"{mark}{row.code} · {label.split(',')[0]} · {age}", data)])
        pages = (total + PAGE - 1) // PAGE
        nav = []
        if pages > 1:
            # Both, on every page (going round at the ends), so that on a numbered menu
            # "newer" and "older" keep their numbers from page to page.
            newer, older = (page - 1) % pages, (page + 1) % pages
            nav.append(Button(ctx.t("case.newer"), _screen(Screen.CASES, str(newer))))
            nav.append(Button(ctx.t("case.older"), _screen(Screen.CASES, str(older))))
        return Reply(
            ctx.t("case.queue", total=total, page=page + 1, pages=pages),
            [*buttons, *([nav] if nav else []), *_to_menu(ctx)],
        )

    async def view(self, ctx: Ctx, record: Incident | Tip) -> list[Reply]:
        lines = _describe(ctx, record)
        handler = await cases.assignee(session=ctx.session, record=record)
        if handler is not None:
            lines.append(f"{ctx.t('case.assignee')}: {handler.full_name or '–'}")
        if isinstance(record, Tip):
            for message in await cases.tip_messages(session=ctx.session, tip=record):
                who = ctx.t("case.tipster") if message.from_tipster else message.officer or ""
                lines.append(f"💬 {ctx.local(message.at):%d/%m %H:%M} {who}: {message.body}")
        for entry in await cases.history(session=ctx.session, record=record):
            lines.append(_history_line(ctx, entry))
        files = await cases.files(session=ctx.session, record=record)
        if files:
            lines.append(
                ctx.t(
                    "case.files",
                    files=ctx.media_words(f.media_type for f in files),
                    count=len(files),
                )
            )
        # A platform's file id works on its own channel only; a stored file on any channel.
        same_channel = [
            (f.media_type, f.file_id)
            for f in files
            if f.channel == ctx.event.channel or media.is_stored(f.file_id)
        ]
        if isinstance(record, Tip):
            # Photos and voice notes are re-encoded by the platforms, without EXIF; a file or a
            # video may carry metadata (a GPS position, a phone model) naming the tipster.
            withheld = [m for m, _ in same_channel if m not in SAFE_FOR_TIPS]
            same_channel = [(m, f) for m, f in same_channel if m in SAFE_FOR_TIPS]
            if withheld:
                words = ctx.media_words(withheld)
                lines.append(ctx.t("case.withheld", files=words, count=len(withheld)))
        return [
            Reply(
                "\n".join(lines),
                [*_case_buttons(ctx, record), *_to_menu(ctx)],
                media=same_channel[:10],
                private_only=isinstance(record, Tip),
            )
        ]

    async def _assign(
        self, ctx: Ctx, conv: Conversation, record: Incident | Tip, action: CaseAction
    ) -> list[Reply]:
        if action.arg is None:
            officers = await cases.assignable(session=ctx.session, commune_id=record.commune_id)
            return [
                Reply(
                    ctx.t("case.assign_to"),
                    [
                        *(
                            [case_button(p.full_name or str(p.id), Verb.ASSIGN, record, str(p.id))]
                            for p in officers
                        ),
                        *_to_menu(ctx),
                    ],
                )
            ]
        done = None
        if action.arg.isdecimal():
            done = await cases.assign(
                session=ctx.session,
                person=ctx.person,
                record=record,
                assignee_id=int(action.arg),
                now=ctx.now,
            )
        if done is None:
            return [Reply(ctx.t("alert.not_yours"), private_only=True)]
        code = cases.case_code(record)
        name = done.assignee.full_name or ""
        replies = [Reply(ctx.t("case.assigned", code=code, officer=name))]
        if done.assignee.id != ctx.person.id and not done.chats:
            replies.append(Reply(ctx.t("case.assignee_unreachable", officer=name)))
        await tell_assignee(ctx, record, done, ctx.person)
        return [*replies, *await self.view(ctx, record)]

    async def stats(self, ctx: Ctx, word: str) -> Reply:
        from scheduler.digest import collect, draw_chart, render_text

        kind = period_word(ctx.lang, word) or "week"
        commune = ctx.person.commune
        assert commune is not None
        period = containing(kind, ctx.local(ctx.now).date())
        data = await collect(ctx.session, commune, period, ctx.now)
        text = render_text(
            data,
            ctx.lang,
            {"week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "yearly"}[kind],
        )
        choices = [
            [
                Button(ctx.t(f"stats.{k}"), _screen(Screen.STATS, k))
                for k in ("week", "month", "quarter", "year")
                if k != kind
            ]
        ]
        photo = await draw_chart(data, ctx.lang)
        return Reply(text, [*choices, *_to_menu(ctx)], photo=photo)

    async def criteria(self, ctx: Ctx, word: str = "quarter") -> Reply:
        """The criteria of this quarter, or of this year ("/tieuchi nam")."""
        from scheduler.digest import render_criteria
        from storage.criteria import criteria_view

        commune = ctx.person.commune
        assert commune is not None
        kind = "year" if period_word(ctx.lang, word) == "year" else "quarter"
        period = containing(kind, ctx.local(ctx.now).date())
        view = await criteria_view(ctx.session, commune.id, period, ctx.tz, ctx.now)
        return Reply("\n".join(render_criteria(view, ctx.lang)))

    async def export(self, ctx: Ctx, word: str, fmt: str) -> Reply:
        from storage.export import export_csv_zip, export_xlsx

        commune = ctx.person.commune
        assert commune is not None
        period = containing(period_word(ctx.lang, word) or "month", ctx.local(ctx.now).date())
        if fmt == "csv":
            name, content = await export_csv_zip(ctx.session, commune, period, ctx.lang, ctx.now)
        else:
            name, content = await export_xlsx(ctx.session, commune, period, ctx.lang, ctx.now)
        other = "csv" if fmt != "csv" else "xlsx"
        return Reply(
            ctx.t(
                "export.ready_zip" if fmt == "csv" else "export.ready",
                period=period_words(ctx.lang, period.kind, period.label),
            ),
            [
                [Button(ctx.t(f"export.as_{other}"), _screen(Screen.EXPORT, period.kind, other))],
                *_to_menu(ctx),
            ],
            document=(name, content),
            private_only=True,
        )

    async def _tipster_reply(self, ctx: Ctx, conv: Conversation, action: CaseAction) -> list[Reply]:
        tip = (
            await cases.own_tip(
                session=ctx.session, tip_id=action.case_id, reporter_key=ctx.pseudonym
            )
            if action.kind == KIND_LETTER[RecordKind.TIP]
            else None
        )
        if tip is None:
            return [Reply(ctx.t("tip_add.none"))]
        return await self._start(ctx, conv, "tip_add", {"code": tip.case_code})

    async def _start(
        self, ctx: Ctx, conv: Conversation, flow: str, preset: dict[str, object]
    ) -> list[Reply]:
        if conv.flow is not None:  # a draft is open: it is kept, and the person chooses
            self.engine.pause(conv)
            return [self.engine.prompt(ctx, conv)]
        return await self.engine.start(ctx, conv, flow, preset)


async def acknowledge_and_tell(
    n: Notifier,
    *,
    session: AsyncSession,
    person: Person,
    record: Incident | Tip,
    now: datetime,
    keys: Keyring,
) -> bool:
    """Acknowledge a new case and tell the reporter, from the chat or the desk; False when
    someone already did."""
    told = await cases.acknowledge(
        session=session, person=person, record=record, now=now, keys=keys
    )
    if told is None:
        return False
    await tell(n, record, told, "case.told_acknowledged")
    return True


async def tell_assignee(
    n: Notifier, record: Incident | Tip, done: cases.Assignment, officer: Person
) -> None:
    """Tell the person a case was given to, in their language, with a button to open it."""
    code = cases.case_code(record)
    for chat in done.chats:
        await n.notify(
            chat.channel,
            chat.chat_id,
            tr(
                chat.language,
                "case.assigned_to_you",
                code=code,
                officer=officer.full_name or "",
                address=address_of(chat.language, done.assignee.title, done.assignee.full_name),
            ),
            buttons=[[case_button(tr(chat.language, "case.open"), Verb.VIEW, record)]],
            purpose="case_update",
            commune_id=officer.commune_id,
        )


def _screen(screen: Screen, *args: str) -> str:
    return OfficerScreen(screen, args).encode()


def _to_menu(ctx: Ctx) -> list[list[Button]]:
    """A screen's way back to the menu, in a private chat (a duty group has no menu)."""
    return [[Button(ctx.t("menu.main"), MenuPick("menu").encode())]] if ctx.event.private else []


def queue_data(page: int = 0) -> str:
    return _screen(Screen.CASES, str(page))


def _case_buttons(ctx: Ctx, record: Incident | Tip) -> list[list[Button]]:
    buttons = []
    if (
        isinstance(record, Incident)
        and record.category == IncidentCategory.UNCLASSIFIED
        and record.status != Status.CLOSED
    ):
        buttons.append([case_button(ctx.t("voice.classify"), Verb.CLASSIFY, record)])
    if record.status == Status.NEW:
        buttons.append([case_button(ctx.t("alert.ack"), Verb.ACK, record)])
    if record.status != Status.CLOSED:
        buttons += [
            [
                case_button(ctx.t("case.in_progress"), Verb.STATUS, record, Status.IN_PROGRESS),
                case_button(ctx.t("case.resolved"), Verb.STATUS, record, Status.RESOLVED),
            ],
            [
                case_button(ctx.t("case.assign"), Verb.ASSIGN, record),
                case_button(ctx.t("case.note"), Verb.NOTE, record),
            ],
        ]
        if isinstance(record, Tip):
            buttons.append([case_button(ctx.t("case.ask"), Verb.ASK, record)])
        buttons.append([case_button(ctx.t("case.close"), Verb.CLOSE, record)])
    buttons.append([Button(ctx.t("case.back_to_queue"), queue_data())])
    return buttons


def _history_line(ctx: Ctx, entry: cases.HistoryLine) -> str:
    if entry.entry == HistoryEntry.NOTE:
        what = ctx.t("case.history_note")
    elif entry.entry == HistoryEntry.ASSIGN:
        what = ctx.t("case.history_assigned", officer=entry.assignee or "–")
    elif entry.entry == HistoryEntry.CLASSIFY:
        category = ctx.t(f"category.{entry.note}")
        what = ctx.t("voice.history_classified", category=category)
        entry = replace(entry, note=None)  # the note is the category's code, shown above
    else:
        what = ctx.t("status." + entry.status)
    actor = f" · {entry.actor}" if entry.actor else ""
    note = f" — {entry.note}" if entry.note else ""
    return f"🕓 {ctx.local(entry.at):%d/%m %H:%M} {what}{actor}{note}"


def _describe(ctx: Ctx, record: Incident | Tip) -> list[str]:
    if isinstance(record, Incident):
        place = record.place_text or (
            ctx.t("place.shared", lat=f"{record.latitude:.5f}", lon=f"{record.longitude:.5f}")
            if record.latitude is not None
            else ""
        )
        return [
            f"{cases.case_code(record)} · {ctx.t('category.' + record.category)} · "
            f"{ctx.t('severity.' + record.severity)}",
            f"{first_upper(record.hamlet.display_name)} · "
            f"{ctx.local(record.occurred_at):%H:%M %d/%m/%Y}",
            *([f"{ctx.t('field.where')}: {place}"] if place else []),
            f"{ctx.t('field.what')}: {record.description or '–'}",
            f"{ctx.t('case.state')}: {ctx.t('status.' + record.status)}",
        ]
    return [
        f"🔒 {record.case_code} · {ctx.local(record.received_at):%H:%M %d/%m/%Y}",
        f"{ctx.t('field.what')}: {record.description or '–'}",
        *([f"{ctx.t('field.where')}: {record.place_text}"] if record.place_text else []),
        *(
            [f"{ctx.t('case.contact')}: {record.contact}"]
            if record.contact
            else [ctx.t("case.anonymous")]
        ),
        f"{ctx.t('case.state')}: {ctx.t('status.' + record.status)}",
    ]
