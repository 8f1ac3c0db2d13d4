"""Officer actions from buttons and commands: the case queue, a case, its status, statistics,
criteria and exports. Button data comes from the client and is never trusted: every action
checks the presser's rights on the record it names."""

from __future__ import annotations

from sqlalchemy import select

from conversations.context import Ctx
from conversations.engine import Engine
from conversations.events import Button, Reply
from conversations.flows.officer import case_code, case_record, set_status
from storage.enums import COMMUNE_ROLES, RecordKind, Status
from storage.models import (
    Attachment,
    Conversation,
    Identity,
    Incident,
    Person,
    StatusChange,
    Tip,
    TipMessage,
)
from storage.periods import containing
from storage.rollups import open_cases

PAGE = 5
SAFE_FOR_TIPS = ("photo", "voice")
PERIOD_WORDS = {
    "tuan": "week",
    "week": "week",
    "thang": "month",
    "month": "month",
    "quy": "quarter",
    "quarter": "quarter",
    "nam": "year",
    "year": "year",
}


def is_officer(ctx: Ctx) -> bool:
    return (
        ctx.person.active
        and ctx.person.role in COMMUNE_ROLES
        and (ctx.person.commune_id is not None)
    )


class CaseActions:
    """Handles "a:…" data; wired into the engine so typed menu choices reach it too."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, ctx: Ctx, conv: Conversation, data: str) -> list[Reply]:
        parts = data.split(":")[1:]
        name, args = (parts[0], parts[1:]) if parts else ("", [])
        if name == "reply" and len(args) == 2 and args[1].isdecimal():
            return await self._tipster_reply(ctx, conv, int(args[1]))
        if not is_officer(ctx):
            return [Reply(ctx.t("alert.not_yours"))]
        if name == "cases":
            page = int(args[0]) if args and args[0].isdecimal() else 0
            return [await self.queue(ctx, page)]
        if name == "stats":
            return [await self.stats(ctx, args[0] if args else "week")]
        if name == "crit":
            return [await self.criteria(ctx)]
        if name == "export":
            return [
                await self.export(
                    ctx, args[0] if args else "month", args[1] if len(args) > 1 else "xlsx"
                )
            ]
        if len(args) < 2 or not args[1].isdecimal():
            return [Reply(ctx.t("stale.button"))]
        record = await case_record(ctx, args[0], int(args[1]))
        if record is None:
            return [Reply(ctx.t("alert.not_yours"))]
        kind = args[0]
        if name == "view":
            return await self.view(ctx, record, kind)
        if name == "ack":
            if record.status != Status.NEW:
                return [Reply(ctx.t("alert.already", id=case_code(record)))]
            await set_status(ctx, record, Status.ACKNOWLEDGED)
            done = Reply(
                ctx.t(
                    "alert.acked",
                    id=case_code(record),
                    officer=ctx.person.full_name or "",
                    time=ctx.local(ctx.now).strftime("%H:%M %d/%m"),
                )
            )
            # In a duty group everyone sees who took it; in a private chat, the case follows.
            return [done] if not ctx.event.private else [done, *await self.view(ctx, record, kind)]
        if name == "st" and len(args) == 3 and args[2] in (Status.IN_PROGRESS, Status.RESOLVED):
            await set_status(ctx, record, Status(args[2]))
            done = Reply(
                ctx.t("case.status_set", code=case_code(record), status=ctx.t(f"status.{args[2]}"))
            )
            return [done, *await self.view(ctx, record, kind)]
        if name == "asg":
            return [await self.assign(ctx, record, kind, args[2] if len(args) == 3 else None)]
        flow = {"note": "case_note", "close": "case_close", "ask": "tip_question"}.get(name)
        if flow and (name != "ask" or isinstance(record, Tip)):
            return await self._start(ctx, conv, flow, {"kind": kind, "id": record.id})
        return [Reply(ctx.t("stale.button"))]

    async def queue(self, ctx: Ctx, page: int) -> Reply:
        assert ctx.person.commune_id is not None
        cases, total = await open_cases(
            ctx.session, ctx.person.commune_id, limit=PAGE, offset=page * PAGE
        )
        if not total:
            return Reply(ctx.t("case.queue_empty"))
        rows = []
        for case in cases:
            label = ctx.t(f"category.{case.category}") if case.category else ctx.t("digest.tip")
            mark = "🔴 " if case.severity != "ordinary" else ""
            age = ctx.t("digest.age", days=case.age_days(ctx.now))
            rows.append(
                [
                    Button(
                        f"{mark}{case.code} · {label.split(',')[0]} · {age}",
                        f"a:view:{case.kind[0]}:{case.id}",
                    )
                ]
            )
        nav = []
        if page > 0:
            nav.append(Button(ctx.t("case.newer"), f"a:cases:{page - 1}"))
        if (page + 1) * PAGE < total:
            nav.append(Button(ctx.t("case.older"), f"a:cases:{page + 1}"))
        pages = (total + PAGE - 1) // PAGE
        return Reply(
            ctx.t("case.queue", total=total, page=page + 1, pages=pages),
            [*rows, *([nav] if nav else [])],
            numbered=True,
        )

    async def view(self, ctx: Ctx, record: Incident | Tip, kind: str) -> list[Reply]:
        record_kind = RecordKind.TIP if kind == "t" else RecordKind.INCIDENT
        history = (
            await ctx.session.execute(
                select(StatusChange, Person.full_name)
                .outerjoin(Person, Person.id == StatusChange.actor_id)
                .where(StatusChange.record_kind == record_kind, StatusChange.record_id == record.id)
                .order_by(StatusChange.id)
            )
        ).all()
        files = (
            await ctx.session.execute(
                select(Attachment.media_type, Attachment.file_id, Attachment.channel).where(
                    Attachment.record_kind == record_kind, Attachment.record_id == record.id
                )
            )
        ).all()
        lines = _describe(ctx, record)
        if isinstance(record, Tip):
            messages = (
                await ctx.session.execute(
                    select(TipMessage, Person.full_name)
                    .outerjoin(Person, Person.id == TipMessage.officer_id)
                    .where(TipMessage.tip_id == record.id)
                    .order_by(TipMessage.id)
                )
            ).all()
            for message, officer in messages:
                who = ctx.t("case.tipster") if message.from_tipster else officer or ""
                lines.append(
                    f"💬 {ctx.local(message.created_at):%d/%m %H:%M} {who}: {message.body}"
                )
        for change, actor in history:
            note = f" — {change.note}" if change.note else ""
            lines.append(
                f"🕓 {ctx.local(change.created_at):%d/%m %H:%M} "
                f"{ctx.t('status.' + change.status)}"
                f"{' · ' + actor if actor else ''}{note}"
            )
        if files:
            lines.append(ctx.t("case.files", count=len(files)))
        code = f"{kind}:{record.id}"
        buttons = []
        if record.status == Status.NEW:
            buttons.append([Button(ctx.t("alert.ack"), f"a:ack:{code}")])
        if record.status != Status.CLOSED:
            buttons += [
                [
                    Button(ctx.t("case.in_progress"), f"a:st:{code}:in_progress"),
                    Button(ctx.t("case.resolved"), f"a:st:{code}:resolved"),
                ],
                [
                    Button(ctx.t("case.assign"), f"a:asg:{code}"),
                    Button(ctx.t("case.note"), f"a:note:{code}"),
                ],
            ]
            if kind == "t":
                buttons.append([Button(ctx.t("case.ask"), f"a:ask:{code}")])
            buttons.append([Button(ctx.t("case.close"), f"a:close:{code}")])
        buttons.append([Button(ctx.t("case.back_to_queue"), "a:cases:0")])
        same_channel = [(m, f) for m, f, channel in files if channel == ctx.event.channel]
        if kind == "t":
            # Photos and voice notes are re-encoded by the platforms, without EXIF; a file or a
            # video may carry metadata (a GPS position, a phone model) naming the tipster.
            withheld = [m for m, _ in same_channel if m not in SAFE_FOR_TIPS]
            same_channel = [(m, f) for m, f in same_channel if m in SAFE_FOR_TIPS]
            if withheld:
                lines.append(ctx.t("case.withheld", count=len(withheld)))
        return [Reply("\n".join(lines), buttons, numbered=True, media=same_channel[:10])]

    async def assign(
        self, ctx: Ctx, record: Incident | Tip, kind: str, person_id: str | None
    ) -> Reply:
        officers = (
            await ctx.session.scalars(
                select(Person)
                .where(
                    Person.commune_id == ctx.person.commune_id,
                    Person.role.in_([r.value for r in COMMUNE_ROLES]),
                    Person.active.is_(True),
                )
                .order_by(Person.full_name)
            )
        ).all()
        code = f"{kind}:{record.id}"
        if person_id is None:
            return Reply(
                ctx.t("case.assign_to"),
                [[Button(p.full_name or str(p.id), f"a:asg:{code}:{p.id}")] for p in officers],
                numbered=True,
            )
        chosen = next((p for p in officers if str(p.id) == person_id), None)
        if chosen is None:
            return Reply(ctx.t("alert.not_yours"))
        record.assignee_id = chosen.id
        chats = (
            await ctx.session.scalars(select(Identity).where(Identity.person_id == chosen.id))
        ).all()
        for identity in chats:
            if identity.blocked_at is None and chosen.id != ctx.person.id:
                await ctx.notify(
                    identity.channel,
                    identity.chat_id,
                    ctx.t(
                        "case.assigned_to_you",
                        code=case_code(record),
                        officer=ctx.person.full_name or "",
                    ),
                    buttons=[[Button(ctx.t("case.open"), f"a:view:{code}")]],
                    purpose="case_update",
                    commune_id=ctx.person.commune_id,
                )
        return Reply(
            ctx.t(
                "case.assigned",
                code=case_code(record),
                officer=chosen.full_name or "",
            )
        )

    async def stats(self, ctx: Ctx, word: str) -> Reply:
        from scheduler.digest import collect, render_chart, render_text

        kind = PERIOD_WORDS.get(word, "week")
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
                Button(ctx.t(f"stats.{k}"), f"a:stats:{k}")
                for k in ("week", "month", "quarter", "year")
                if k != kind
            ]
        ]
        return Reply(text, choices, photo=render_chart(data, ctx.lang))

    async def criteria(self, ctx: Ctx) -> Reply:
        from scheduler.digest import render_criteria
        from storage.criteria import criteria_view

        commune = ctx.person.commune
        assert commune is not None
        period = containing("quarter", ctx.local(ctx.now).date())
        view = await criteria_view(ctx.session, commune.id, period, ctx.tz, ctx.now)
        return Reply("\n".join(render_criteria(view, ctx.lang)))

    async def export(self, ctx: Ctx, word: str, fmt: str) -> Reply:
        from storage.export import export_csv_zip, export_xlsx

        commune = ctx.person.commune
        assert commune is not None
        period = containing(PERIOD_WORDS.get(word, "month"), ctx.local(ctx.now).date())
        if fmt == "csv":
            name, content = await export_csv_zip(ctx.session, commune, period, ctx.lang, ctx.now)
        else:
            name, content = await export_xlsx(ctx.session, commune, period, ctx.lang, ctx.now)
        other = "csv" if fmt != "csv" else "xlsx"
        return Reply(
            ctx.t("export.ready", period=period.label),
            [[Button(ctx.t(f"export.as_{other}"), f"a:export:{period.kind}:{other}")]],
            document=(name, content),
        )

    async def _tipster_reply(self, ctx: Ctx, conv: Conversation, tip_id: int) -> list[Reply]:
        tip = await ctx.session.get(Tip, tip_id)
        if tip is None or tip.reporter_key != ctx.identity.pseudonym:
            return [Reply(ctx.t("tip_add.none"))]
        return await self._start(ctx, conv, "tip_add", {"code": tip.case_code})

    async def _start(
        self, ctx: Ctx, conv: Conversation, flow: str, preset: dict[str, object]
    ) -> list[Reply]:
        if conv.flow is not None:  # a draft is open: it is kept, and the person chooses
            self.engine.pause(conv)
            return [self.engine.prompt(ctx, conv)]
        return await self.engine.start(ctx, conv, flow, preset)


def _describe(ctx: Ctx, record: Incident | Tip) -> list[str]:
    if isinstance(record, Incident):
        place = record.place_text or (
            ctx.t("place.shared", lat=f"{record.latitude:.5f}", lon=f"{record.longitude:.5f}")
            if record.latitude is not None
            else ""
        )
        return [
            f"VV-{record.id} · {ctx.t('category.' + record.category)} · "
            f"{ctx.t('severity.' + record.severity)}",
            f"{record.hamlet.display_name} · {ctx.local(record.occurred_at):%H:%M %d/%m/%Y}",
            *([f"{ctx.t('field.where')}: {place}"] if place else []),
            f"{ctx.t('field.what')}: {record.description or '–'}",
            f"{ctx.t('case.state')}: {ctx.t('status.' + record.status)}",
        ]
    assert isinstance(record, Tip)
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
