"""The digests for the commune police: figures, a short text for a phone, and one chart
(drawn by scheduler.digest_chart, which alone loads matplotlib)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from locales import t
from locales.text import age_words, hamlets_word, lower_first, period_words
from storage import digests
from storage.cases import QueueRow, officer_chats, queue
from storage.criteria import CRITERIA, CriteriaView, Verdict, criteria_view
from storage.enums import ActivityKind
from storage.models import Commune
from storage.movement import MovementFigures, movement_figures
from storage.outbox import enqueue
from storage.periods import Period
from storage.reports import week_due
from storage.rollups import (
    ActivityFigures,
    CategoryRow,
    Compliance,
    Flags,
    WeeklyFigures,
    activity_figures,
    change,
    compliance,
    flags,
    incidents_by_category,
    weekly_figures,
)

WEEK = timedelta(days=7)

DIGEST_KINDS = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}


@dataclass
class DigestData:
    commune: str
    period: Period
    categories: list[CategoryRow]
    flags: Flags
    activities: ActivityFigures
    reporting: list[Compliance]
    open_cases: list[QueueRow]
    open_total: int
    now: datetime
    criteria: CriteriaView | None = None
    weekly: WeeklyFigures = field(default_factory=WeeklyFigures)
    # Hamlets that sent this week's report, while the week's deadline has not passed.
    sent_this_week: int | None = None
    records: MovementFigures | None = None  # models, commitments, recognitions of the year

    @property
    def total(self) -> int:
        return sum(r.count for r in self.categories)

    @property
    def total_last_year(self) -> int:
        return sum(r.last_year for r in self.categories)


async def collect(
    session: AsyncSession,
    commune: Commune,
    period: Period,
    now: datetime,
    *,
    with_criteria: bool = False,
) -> DigestData:
    tz = ZoneInfo(commune.timezone)
    cases, total = await queue(session=session, commune_id=commune.id, limit=5)
    running = [m for m in period.mondays() if m <= now.astimezone(tz).date() < m + WEEK]
    sent = None
    if running and week_due(running[0], tz) > now:
        week = Period("week", running[0], running[0] + WEEK)
        sent = (await weekly_figures(session, commune.id, week)).reports
    return DigestData(
        commune=commune.display_name,
        period=period,
        categories=await incidents_by_category(session, commune.id, period, tz),
        flags=await flags(session, commune.id, period, tz, now),
        activities=await activity_figures(session, commune.id, period),
        reporting=await compliance(session, commune.id, period, tz, until=now),
        open_cases=cases,
        open_total=total,
        now=now,
        criteria=await criteria_view(session, commune.id, period, tz, now)
        if with_criteria
        else None,
        weekly=await weekly_figures(session, commune.id, period),
        sent_this_week=sent,
        records=await movement_figures(session, commune, period),
    )


def number(lang: str, value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", t(lang, "number.decimal"))


def whole(lang: str, value: int) -> str:
    """A count with the language's thousands separator: 4.030 in Vietnamese, 4,030 in English."""
    return f"{value:,}".replace(",", t(lang, "number.thousands"))


def percent_change(lang: str, value: float | None) -> str:
    if value is None:
        return t(lang, "digest.no_comparison")
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{number(lang, abs(value))}%"


def render_text(data: DigestData, lang: str, kind: str) -> str:
    def tr(key: str, **values: object) -> str:
        return t(lang, key, **values)

    lines = [tr(f"digest.title_{kind}", period=data.period.label, commune=data.commune), ""]
    word = hamlets_word(lang, [r.kind for r in data.reporting])
    if data.total_last_year:
        lines.append(
            tr(
                "digest.incidents",
                count=data.total,
                last_year=data.total_last_year,
                change=percent_change(lang, change(data.total, data.total_last_year)),
            )
        )
    else:
        lines.append(tr("digest.incidents_new", count=data.total))
    shown = [r for r in sorted(data.categories, key=lambda r: -r.count) if r.count][:SHOWN]
    for row in shown:
        # The year before in brackets, only where there is a year before to compare with.
        before = f" ({row.last_year})" if data.total_last_year else ""
        lines.append(f"  • {tr('category.' + row.category)}: {row.count}{before}")
    others = data.total - sum(r.count for r in shown)
    if others:  # so that the lines add up to the total above
        lines.append(f"  • {tr('digest.other_categories', count=others)}")
    f = data.flags
    lines.append(
        tr(
            "digest.flags",
            serious=f.serious_crimes,
            mass=f.mass_complaints,
            disputes=f.prolonged_disputes,
        )
    )
    w = data.weekly
    if w.get("complaints"):
        lines.append(tr("digest.flags_weekly", complaints=w.get("complaints")))
    a = data.activities
    lines.append(
        tr(
            "digest.activities",
            patrols=a.get(ActivityKind.PATROL, "shifts"),
            outreach=a.get(ActivityKind.OUTREACH, "sessions"),
            attendees=a.get(ActivityKind.OUTREACH, "attendees"),
            good=a.get(ActivityKind.MEDIATION, "cases_successful"),
            cases=a.get(ActivityKind.MEDIATION, "cases"),
            meetings=a.get(ActivityKind.MEETING),
        )
    )
    lines.append(
        tr(
            "digest.weekly",
            reports=w.reports,
            incidents=w.get("incidents"),
            disputes=w.get("disputes"),
            complaints=w.get("complaints"),
            strangers=w.get("strangers"),
            patrols=w.get("patrols"),
            outreach=w.get("outreach_sessions"),
            good=w.get("mediations_successful"),
            cases=w.get("mediations"),
            meetings=w.get("meetings"),
        )
    )
    more = {
        "dialogues": a.get(ActivityKind.DIALOGUE, "sessions"),
        "days": a.get(ActivityKind.MOVEMENT_DAY),
        "educated": a.get(ActivityKind.OFFENDER_EDUCATION, "persons_educated"),
        "commended": a.get(ActivityKind.COMMENDATION, "commended"),
    }
    said = [tr(f"movement.{k}", count=n) for k, n in more.items() if n]  # only what happened
    if said:
        lines.append(tr("movement.activities", items=" · ".join(said)))
    good, cases = mediation_totals(data)
    rate = None if cases == 0 else round(good * 100 / cases, 1)
    lines.append(
        tr(
            "digest.mediation",
            good=good,
            cases=cases,
            rate="–" if rate is None else f"{number(lang, rate)}%",
        )
    )
    lines.append(tr("digest.sources"))
    if data.records is not None and data.criteria is None:  # the criteria show them too
        lines += render_records(data.records, lang)
    weeks = max((r.weeks for r in data.reporting), default=0)
    on_time = sum(1 for r in data.reporting if weeks and r.on_time == weeks)
    late = sum(1 for r in data.reporting if r.late)
    missing = [lower_first(r.name) for r in data.reporting if r.missing]  # within a sentence
    if data.sent_this_week is not None:
        lines.append(
            tr(
                "digest.reporting_now",
                sent=data.sent_this_week,
                hamlets=len(data.reporting),
                hamlet_word=word,
            )
        )
    if weeks:
        lines.append(
            tr(
                "digest.reporting",
                on_time=on_time,
                hamlets=len(data.reporting),
                late=late,
                hamlet_word=word,
            )
        )
    if missing:
        lines.append(tr("digest.missing", hamlets=", ".join(missing)))
    urgent = sum(1 for c in data.open_cases if c.severity != "ordinary")
    lines.append(tr("digest.open", total=data.open_total, urgent=urgent))
    for case in data.open_cases[:5]:
        label = tr("category." + case.category) if case.category else tr("digest.tip")
        lines.append(f"  • {case.code} {label} — {age_words(lang, case.age_days(data.now))}")
    if data.criteria is not None:
        lines += ["", *render_criteria(data.criteria, lang)]
    return "\n".join(lines)


SHOWN = 6  # categories listed by name; the rest are summed in one line


def mediation_totals(data: DigestData) -> tuple[int, int]:
    """Mediations settled and mediated, from activity reports and weekly reports together."""
    a, w = data.activities, data.weekly
    good = a.get(ActivityKind.MEDIATION, "cases_successful") + w.get("mediations_successful")
    return good, a.get(ActivityKind.MEDIATION, "cases") + w.get("mediations")


def render_records(records: MovementFigures, lang: str) -> list[str]:
    """The movement's records of the year: models, commitments, recognitions, mediation
    teams ("13/13 khu dân cư, 6/6 cơ quan, 2/2 trường học")."""

    def parts(figures: dict[str, tuple[int, int]], prefix: str) -> str:
        return ", ".join(
            f"{whole(lang, n)}/{whole(lang, total)} {t(lang, prefix + kind)}"
            for kind, (n, total) in figures.items()
        )

    year = records.year
    lines = [
        t(lang, "model.digest", active=records.models.active, new=records.models.new, year=year)
    ]
    if records.commitments:
        items = parts(records.commitments, "commitment.kind.")
        lines.append(t(lang, "commitment.digest", year=year, items=items))
    else:
        lines.append(t(lang, "commitment.digest_none", year=year))
    if records.recognitions:
        items = parts(records.recognitions, "recognition.unit.")
        lines.append(t(lang, "recognition.digest", year=year, items=items))
    else:
        lines.append(t(lang, "recognition.digest_none", year=year))
    lines.append(t(lang, "movement.mediation_teams", count=records.mediation_teams))
    return lines


MARK = {Verdict.MET: "✅", Verdict.NOT_MET: "❌", Verdict.NO_DATA: "–"}


def _safe_areas_source(view: CriteriaView, lang: str) -> str:
    """What decided the safe-areas line: the year's recognitions where the commune recorded
    them, else the areas meeting every condition the figures show (the line below)."""
    recognised = view.records.recognitions.get("areas") if view.records is not None else None
    if recognised and recognised[1] and view.records is not None:
        met, total = recognised
        return t(
            lang,
            "criteria.safe_areas_recognised",
            met=whole(lang, met),
            total=whole(lang, total),
            year=view.records.year,
        )
    return t(lang, "criteria.safe_areas_by_figures")


def render_criteria(view: CriteriaView, lang: str) -> list[str]:
    period = period_words(lang, view.period.kind, view.period.label)
    lines = [t(lang, "criteria.title", period=period)]
    for key in (*CRITERIA, "safe_areas"):
        lacking = (
            f" ({t(lang, 'criteria.no_data')})" if view.commune[key] == Verdict.NO_DATA else ""
        )
        label = t(lang, "criteria." + key)
        if key == "households" and view.records is not None and view.records.threshold < 100:
            label = t(lang, "commitment.criterion", threshold=number(lang, view.records.threshold))
        if key == "safe_areas":
            lacking = " " + _safe_areas_source(view, lang)
        lines.append(f"{MARK[view.commune[key]]} {label}{lacking}")
    lines.append(t(lang, "criteria.areas", met=view.areas_met, total=len(view.hamlets)))
    if view.records is not None:
        lines += render_records(view.records, lang)
    for hamlet in view.hamlets:
        failed = [
            t(lang, "criteria.short." + k)
            for k, v in hamlet.verdicts.items()
            if v == Verdict.NOT_MET
        ]
        unknown = sum(1 for v in hamlet.verdicts.values() if v == Verdict.NO_DATA)
        state = "✅" if hamlet.all_met else "❌ " + ", ".join(failed) if failed else "–"
        extra = f" ({t(lang, 'criteria.unknown', count=unknown)})" if unknown else ""
        lines.append(f"  {hamlet.name}: {state}{extra}")
    return lines


KHMER_FONT = "Noto Sans Khmer"


def render_chart(data: DigestData, lang: str) -> bytes:
    """The digest's chart as a PNG. Matplotlib is loaded on the first chart, not at start:
    a bot that has drawn none keeps some 50 MB less. Blocking: see draw_chart."""
    from scheduler.digest_chart import render_chart as draw

    return draw(data, lang)


async def draw_chart(data: DigestData, lang: str) -> bytes:
    """The chart drawn off the event loop (the first also loads matplotlib, about a second),
    so the chats and pages around it are not held up."""
    return await asyncio.to_thread(render_chart, data, lang)


def _write_chart(path: Path, data: DigestData, lang: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_chart(data, lang))


async def queue_digest(
    session: AsyncSession,
    commune: Commune,
    kind: str,
    period: Period,
    now: datetime,
    out_dir: Path,
    default_language: str = "vi",
    late_note: bool = False,
) -> int | None:
    """Queue one digest of a commune and period; how many chats get it.

    None when it was queued before: the digest run row is unique per commune, kind and period
    and is written in the same transaction as the outbox rows, so a rerun, a restart or a
    second worker sends nothing twice. 0 when no officer chat is linked yet: nothing is
    recorded, so the digest goes out once someone is.
    """
    if await digests.queued_before(
        session=session, commune_id=commune.id, kind=kind, period_start=period.start
    ):
        return None
    targets = await officer_chats(
        session=session, commune_id=commune.id, duty_first=True, language=default_language
    )
    if not targets:
        return 0
    # Read and draw before the first write: on SQLite a write takes the database's one
    # writer lock until commit, and drawing takes a second or two of CPU.
    data = await collect(session, commune, period, now, with_criteria=kind == "quarterly")
    charts: dict[str, Path] = {}
    for lang in dict.fromkeys(target.language for target in targets):
        charts[lang] = out_dir / f"digest-{commune.id}-{kind}-{period.start}-{lang}.png"
        # Off the event loop, so chats keep flowing meanwhile.
        await asyncio.to_thread(_write_chart, charts[lang], data, lang)
    if not await digests.record_run(
        session=session, commune_id=commune.id, kind=kind, period=period, now=now, late=late_note
    ):
        return None  # another worker got there first
    for target in targets:
        lang = target.language
        text = render_text(data, lang, kind)
        if late_note:
            text = t(lang, "digest.late_note") + "\n" + text
        row = await enqueue(
            session,
            channel=target.channel,
            chat_id=target.chat_id,
            text=text,
            purpose="digest",
            commune_id=commune.id,
            now=now,
        )
        row.media_kind, row.media_path = "photo", str(charts[lang])
    return len(targets)
