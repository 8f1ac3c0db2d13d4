"""Exports of a commune's period: an XLSX workbook (a summary laid out like a periodic report
and a sheet per kind of report) and the same sheets as CSV files in a zip.

Tips carry no reporter: only what the tipster wrote, and a contact only if they left one.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from locales import t
from locales.text import first_upper, hamlets_word, period_words, strip_diacritics
from storage import hamlet_kinds
from storage.cases import incident_code, queue
from storage.enums import ACTIVITY_FIGURES, FIGURES, ActivityKind
from storage.models import Activity, Commune, Hamlet, Incident, Person, Tip, WeeklyReport
from storage.periods import Period
from storage.rollups import (
    WEEKLY_FIGURES,
    activity_figures,
    change,
    compliance,
    flags,
    incidents_by_category,
    weekly_figures,
)

Sheet = tuple[str, list[str], list[list[Any]]]


def _local(value: datetime | None, tz: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(tz).strftime("%d/%m/%Y %H:%M")


async def sheets(
    session: AsyncSession, commune: Commune, period: Period, lang: str, now: datetime
) -> list[Sheet]:
    """The summary and one table per kind of report, as (title, header, rows)."""
    tz = ZoneInfo(commune.timezone)
    start, end = period.utc(tz)

    def tr(key: str, **values: Any) -> str:
        return t(lang, key, **values)

    hamlets = await _hamlet_names(session, commune)
    word = hamlets_word(lang, await hamlet_kinds.kinds_of(session, commune.id))

    def col(name: str) -> str:
        return first_upper(word) if name == "hamlet" else tr(f"export.col.{name}")

    # Looked up by reporter_id, which is None for a report with no known reporter.
    people: dict[int | None, str | None] = dict(
        (
            await session.execute(
                select(Person.id, Person.full_name).where(Person.commune_id == commune.id)
            )
        )
        .tuples()
        .all()
    )

    incidents = (
        await session.scalars(
            select(Incident)
            .where(
                Incident.commune_id == commune.id,
                Incident.occurred_at >= start,
                Incident.occurred_at < end,
            )
            .order_by(Incident.occurred_at, Incident.id)
        )
    ).all()
    incident_rows = [
        [
            incident_code(i.id),
            _local(i.occurred_at, tz),
            _local(i.received_at, tz),
            hamlets.get(i.hamlet_id, ""),
            tr(f"category.{i.category}"),
            tr(f"export.severity.{i.severity}"),
            i.place_text or "",
            "" if i.latitude is None else f"{i.latitude:.5f}, {i.longitude:.5f}",
            i.description or "",
            tr(f"status.{i.status}"),
            i.outcome or "",
            people.get(i.reporter_id, ""),
        ]
        for i in incidents
    ]

    activities = (
        await session.scalars(
            select(Activity)
            .where(
                Activity.commune_id == commune.id,
                Activity.held_on >= period.start,
                Activity.held_on < period.end,
            )
            .order_by(Activity.held_on, Activity.id)
        )
    ).all()
    activity_rows = [
        [
            a.held_on.strftime("%d/%m/%Y"),
            hamlets.get(a.hamlet_id, ""),
            tr(f"activity_kind.{a.kind}"),
            *(
                getattr(a, f) if f in ACTIVITY_FIGURES[ActivityKind(a.kind)] else None
                for f in FIGURES
            ),
            a.description or "",
            people.get(a.reporter_id, ""),
        ]
        for a in activities
    ]

    weekly = (
        await session.scalars(
            select(WeeklyReport)
            .where(
                WeeklyReport.commune_id == commune.id,
                WeeklyReport.week_start >= period.start,
                WeeklyReport.week_start < period.end,
            )
            .order_by(WeeklyReport.week_start, WeeklyReport.id)
        )
    ).all()
    weekly_rows = [
        [
            w.week_start.strftime("%d/%m/%Y"),
            hamlets.get(w.hamlet_id, ""),
            tr("weekly.quiet_yes") if w.quiet else tr("weekly.quiet_no"),
            w.incidents,
            w.disputes,
            w.complaints,
            w.strangers,
            w.patrols,
            w.outreach_sessions,
            w.mediations,
            w.mediations_successful,
            w.meetings,
            w.fire_safety or "",
            w.proposals or "",
            _local(w.received_at, tz),
            tr("export.on_time") if w.due_at and w.received_at <= w.due_at else tr("export.late"),
        ]
        for w in weekly
    ]

    tips = (
        await session.scalars(
            select(Tip)
            .where(Tip.commune_id == commune.id, Tip.received_at >= start, Tip.received_at < end)
            .order_by(Tip.received_at, Tip.id)
        )
    ).all()
    tip_rows = [
        [
            tp.case_code,
            _local(tp.received_at, tz),
            hamlets.get(tp.hamlet_id, "") if tp.hamlet_id else "",
            tp.description or "",
            tp.place_text or "",
            tr(f"status.{tp.status}"),
            tp.contact or "",
            tp.outcome or "",
        ]
        for tp in tips
    ]

    return [
        (tr("export.sheet_summary"), [], await _summary(session, commune, period, lang, now)),
        (
            tr("export.sheet_incidents"),
            [
                col(c)
                for c in (
                    "code",
                    "occurred",
                    "received",
                    "hamlet",
                    "category",
                    "severity",
                    "place",
                    "coordinates",
                    "description",
                    "status",
                    "outcome",
                    "reporter",
                )
            ],
            incident_rows,
        ),
        (
            tr("export.sheet_activities"),
            [col(c) for c in ("day", "hamlet", "activity")]
            + [tr(f"figure.{f}") for f in FIGURES]
            + [col(c) for c in ("note", "reporter")],
            activity_rows,
        ),
        (
            tr("export.sheet_weekly"),
            [col(c) for c in ("week", "hamlet", "situation")]
            + [
                tr(f"weekly.figure.{c}")
                for c in (
                    "incidents",
                    "disputes",
                    "complaints",
                    "strangers",
                    "patrols",
                    "outreach_sessions",
                    "mediations",
                    "mediations_successful",
                    "meetings",
                    "fire_safety",
                    "proposals",
                )
            ]
            + [tr("export.col.received"), tr("export.col.on_time")],
            weekly_rows,
        ),
        (
            tr("export.sheet_tips"),
            [
                col(c)
                for c in (
                    "code",
                    "received",
                    "hamlet",
                    "description",
                    "place",
                    "status",
                    "contact",
                    "outcome",
                )
            ],
            tip_rows,
        ),
    ]


async def _hamlet_names(session: AsyncSession, commune: Commune) -> dict[int, str]:
    """Each hamlet as a cell shows it: its name alone where all are of one kind (the column
    says which), else with its kind ("Tổ dân phố 3", "Thôn Đông")."""
    rows = (
        await session.execute(
            select(Hamlet.id, Hamlet.label, Hamlet.name).where(Hamlet.commune_id == commune.id)
        )
    ).all()
    one_kind = len({label for _, label, _ in rows}) == 1
    return {i: name if one_kind else f"{first_upper(label)} {name}" for i, label, name in rows}


async def _summary(
    session: AsyncSession, commune: Commune, period: Period, lang: str, now: datetime
) -> list[list[Any]]:
    tz = ZoneInfo(commune.timezone)

    def tr(key: str, **values: Any) -> str:
        return t(lang, key, **values)

    categories = await incidents_by_category(session, commune.id, period, tz)
    found = await flags(session, commune.id, period, tz, now)
    acts = await activity_figures(session, commune.id, period)
    weekly = await weekly_figures(session, commune.id, period)
    reporting = await compliance(session, commune.id, period, tz, until=now)
    word = hamlets_word(lang, [r.kind for r in reporting])
    _, open_total = await queue(session=session, commune_id=commune.id, limit=1)
    total, before = sum(r.count for r in categories), sum(r.last_year for r in categories)
    total_change = change(total, before)
    rows: list[list[Any]] = [
        [tr("export.summary_title", commune=commune.display_name)],
        [tr("export.summary_period", period=period_words(lang, period.kind, period.label))],
        [tr("export.summary_made", at=_local(now, tz))],
        [],
        [
            tr("export.section_incidents"),
            tr("export.col.count"),
            tr("export.col.last_year"),
            tr("export.col.change"),
        ],
        *[
            [
                tr(f"category.{r.category}"),
                r.count,
                r.last_year,
                "" if r.change is None else r.change / 100,
            ]
            for r in categories
        ],
        [
            tr("export.total"),
            total,
            before,
            "" if total_change is None else total_change / 100,
        ],
        [],
        [tr("export.section_flags"), tr("export.col.count")],
        [tr("export.flag.serious"), found.serious_crimes],
        [tr("export.flag.mass"), found.mass_complaints],
        [tr("export.flag.mass_weekly"), weekly.get("complaints")],
        [tr("export.flag.disputes"), found.prolonged_disputes],
        [tr("export.flag.hotspots"), found.hotspots],
        [],
        [
            tr("export.section_activities"),
            tr("export.col.count"),
            tr("export.col.figure"),
            tr("export.col.value"),
        ],
    ]
    for kind in ActivityKind:
        if acts.get(kind):
            shown = [f for f in ACTIVITY_FIGURES[kind] if f in acts.by_kind[kind.value]]
            first = [tr(f"figure.{shown[0]}"), acts.get(kind, shown[0])] if shown else []
            rows.append([tr(f"activity_kind.{kind}"), acts.get(kind), *first])
            rows += [["", "", tr(f"figure.{f}"), acts.get(kind, f)] for f in shown[1:]]
    rows += [
        [],
        [
            tr("export.section_weekly", reports=weekly.reports, hamlet_word=word.upper()),
            tr("export.col.total"),
        ],
        *[[tr(f"weekly.figure.{f}"), weekly.get(f)] for f in WEEKLY_FIGURES],
        [tr("export.sources")],
    ]
    good = acts.get(ActivityKind.MEDIATION, "cases_successful") + weekly.get(
        "mediations_successful"
    )
    mediated = acts.get(ActivityKind.MEDIATION, "cases") + weekly.get("mediations")
    if mediated:
        rows.append([tr("export.mediation_rate"), good / mediated])
    rows += [
        [],
        [
            tr("export.section_reporting", hamlet_word=word.upper()),
            tr("chart.on_time"),
            tr("chart.late"),
            tr("chart.missing"),
        ],
    ]
    rows += [[r.name, r.on_time, r.late, r.missing] for r in reporting]
    rows += [[], [tr("export.open_cases"), open_total]]
    return rows


async def export_xlsx(
    session: AsyncSession, commune: Commune, period: Period, lang: str, now: datetime
) -> tuple[str, bytes]:
    book = Workbook()
    book.remove(book.worksheets[0])  # the empty sheet a new workbook starts with
    for title, header, rows in await sheets(session, commune, period, lang, now):
        sheet = book.create_sheet(title[:31])
        if header:
            sheet.append(header)
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.freeze_panes = "A2"
        for row in rows:
            # Text saved before control characters were dropped on arrival.
            sheet.append(
                [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]
            )
            for cell in sheet[sheet.max_row]:
                if cell.data_type == "f":  # text a person typed, never a formula to run
                    cell.data_type = "s"
                    cell.quotePrefix = True
        _print_on_a4(sheet, repeat_header=bool(header))
        if not header:  # the summary: a title, and percentages shown as such
            sheet["A1"].font = Font(bold=True, size=14)
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, float):
                        cell.number_format = "0.0%"
        _widths(sheet, [header, *rows])
    out = io.BytesIO()
    book.save(out)
    return _file_name(commune, period, "xlsx"), out.getvalue()


def _print_on_a4(sheet: Any, *, repeat_header: bool) -> None:
    """A4, landscape for the wide tables, fitted to the page's width, header on each page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if sheet.max_column > 6 else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if repeat_header:
        sheet.print_title_rows = "1:1"


# A cell a spreadsheet would run as a formula when it starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    """CSV text that starts like a formula, quoted so a spreadsheet shows it as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _widths(sheet: Any, rows: Iterable[list[Any]]) -> None:
    widths: dict[int, int] = {}
    for row in rows:
        for i, value in enumerate(row, 1):
            widths[i] = min(60, max(widths.get(i, 8), len(str(value)) + 2))
    for i, width in widths.items():
        sheet.column_dimensions[get_column_letter(i)].width = width
        for cell in sheet[get_column_letter(i)]:
            cell.alignment = Alignment(wrap_text=width >= 60, vertical="top")


async def export_csv_zip(
    session: AsyncSession, commune: Commune, period: Period, lang: str, now: datetime
) -> tuple[str, bytes]:
    """One CSV per sheet, UTF-8 with a byte-order mark so spreadsheets keep the diacritics."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for title, header, rows in await sheets(session, commune, period, lang, now):
            text = io.StringIO()
            writer = csv.writer(text)
            if header:
                writer.writerow(header)
            writer.writerows([[_inert(v) for v in row] for row in rows])
            name = strip_diacritics(title).replace(" ", "-")
            archive.writestr(f"{name}.csv", "\ufeff" + text.getvalue())
    return _file_name(commune, period, "zip"), out.getvalue()


def _file_name(commune: Commune, period: Period, ext: str) -> str:
    slug = strip_diacritics(commune.name).replace(" ", "-")
    return f"binhyen-{slug}-{period.kind}-{period.start:%Y%m%d}.{ext}"
