"""The weekly situation report: a quiet week in two taps, or the week's figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from conversations.answers import Answer
from conversations.context import Ctx
from conversations.flow import Data, Flow, Kind, Option, Step
from conversations.flows.common import lines, show_day, text_of
from locales import keywords
from storage.cases import case_code
from storage.enums import Role
from storage.reports import incidents_between, save_weekly_report, week_start, weekly_report_for

HEADS = frozenset({Role.HAMLET_HEAD.value})
NUMBERS = (
    "incidents",
    "disputes",
    "complaints",
    "strangers",
    "patrols",
    "outreach_sessions",
    "mediations",
    "mediations_successful",
    "meetings",
)
QUIET_NUMBERS = ("patrols", "meetings")
# One hamlet's week: a figure past this is a slip of the finger ("99999"), answered with the
# range to type within; the larger counts of a commune-wide session go in an activity report.
WEEKLY_MAXIMUM = 500


def _week(ctx: Ctx, data: Data) -> dict[str, str]:
    monday = ctx.local(ctx.now).date() - timedelta(days=ctx.local(ctx.now).weekday())
    hamlet = ctx.person.hamlet
    return {
        "week": f"{show_day(monday)} – {show_day(monday + timedelta(days=6))}",
        "hamlet": hamlet.display_name if hamlet else "",
        "sent_at": data.get("existing_sent", ""),
        "count": len(data.get("week_incidents") or []),
        "incidents": ", ".join(
            f"{code} ({ctx.t('category.' + category).split(',')[0]})"
            for code, category in data.get("week_incidents") or []
        ),
    }


async def _load(ctx: Ctx, data: Data) -> str | None:
    if ctx.person.hamlet is None:
        return ctx.t("weekly.no_hamlet")
    monday = week_start(ctx.local(ctx.now).date())
    existing = await weekly_report_for(ctx.session, ctx.person.hamlet.id, monday)
    data["monday"] = monday.isoformat()
    start = datetime.combine(monday, time(0), ctx.tz)
    filed = await incidents_between(
        session=ctx.session,
        hamlet_id=ctx.person.hamlet.id,
        start=start,
        end=start + timedelta(days=7),
    )
    if filed:
        data["week_incidents"] = [[case_code(i), i.category] for i in filed]
    if existing is not None:
        data["existing_sent"] = ctx.local(existing.amended_at or existing.received_at).strftime(
            "%H:%M %d/%m"
        )
        data["existing_quiet"] = existing.quiet
    return None


def _amend_step() -> Step:
    return Step(
        "amend",
        Kind.CHOICE,
        "weekly.ask_amend",
        when=lambda ctx, d: "existing_sent" in d,
        options=lambda ctx, d: [Option("amend", ctx.t("weekly.amend"))],
    )


async def _save(ctx: Ctx, data: Data, figures: dict[str, object]) -> str:
    person = ctx.person
    assert person.hamlet is not None and person.commune_id is not None

    _, amended = await save_weekly_report(
        ctx.session,
        hamlet_id=person.hamlet.id,
        commune_id=person.commune_id,
        monday=date.fromisoformat(data["monday"]),
        reporter_id=person.id,
        figures=figures,
        tz=ctx.tz,
        now=ctx.now,
    )
    key = "weekly.amended" if amended else "weekly.sent"
    return ctx.t(key, **_week(ctx, data))


async def _submit_quiet(ctx: Ctx, data: Data) -> str:
    return await _save(
        ctx,
        data,
        {"quiet": True, **dict.fromkeys(NUMBERS, 0), "fire_safety": None, "proposals": None},
    )


async def _submit_full(ctx: Ctx, data: Data) -> str:
    quiet = data["quiet"] == "yes"
    figures: dict[str, object] = {"quiet": quiet}
    for name in NUMBERS:
        figures[name] = int(data.get(name) or 0) if (not quiet or name in QUIET_NUMBERS) else 0
    figures["fire_safety"] = text_of(ctx, data.get("fire_safety"))
    figures["proposals"] = text_of(ctx, data.get("proposals"))
    return await _save(ctx, data, figures)


def _full_summary(ctx: Ctx, data: Data) -> str:
    quiet = data["quiet"] == "yes"
    shown = QUIET_NUMBERS if quiet else [n for n in NUMBERS if _asked(n)(ctx, data)]
    return (
        ctx.t("weekly.summary_head", **_week(ctx, data))
        + "\n"
        + lines(
            (ctx.t("field.situation"), ctx.t("weekly.quiet_yes" if quiet else "weekly.quiet_no")),
            *((ctx.t(f"weekly.figure.{n}"), str(data.get(n, 0))) for n in shown),
            (ctx.t("weekly.figure.fire_safety"), text_of(ctx, data.get("fire_safety"))),
            (ctx.t("weekly.figure.proposals"), text_of(ctx, data.get("proposals"))),
        )
    )


def _asked(name: str) -> Callable[[Ctx, Data], bool]:
    def when(ctx: Ctx, d: Data) -> bool:
        if name == "mediations_successful":  # only after some mediation
            return d.get("quiet") == "no" and bool(d.get("mediations"))
        return d.get("quiet") == "no" or name in QUIET_NUMBERS

    return when


def _no_more_than_mediations(ctx: Ctx, data: Data, value: Answer) -> str | None:
    total = data.get("mediations")
    if isinstance(total, int) and isinstance(value, int) and value > total:
        return "weekly.more_than_mediations"
    return None


def _number(name: str) -> Step:
    return Step(
        name,
        Kind.NUMBER,
        f"weekly.ask.{name}",
        maximum=WEEKLY_MAXIMUM,
        summary_label=f"weekly.figure.{name}",
        when=_asked(name),
        hint=_incidents_hint if name == "incidents" else None,
        validate=_no_more_than_mediations if name == "mediations_successful" else None,
    )


def _despite_step() -> Step:
    """A quiet week right after the hamlet reported an incident: asked once, naming it."""
    return Step(
        "despite",
        Kind.CHOICE,
        "weekly.ask_quiet_despite",
        when=lambda ctx, d: bool(d.get("week_incidents")),
        options=lambda ctx, d: [Option("yes", ctx.t("weekly.quiet_despite"))],
    )


def _incidents_hint(ctx: Ctx, data: Data) -> str | None:
    return "weekly.incidents_known" if data.get("week_incidents") else None


QUIET = Flow(
    name="weekly_quiet",
    title="weekly.quiet_title",
    roles=HEADS,
    steps=(_amend_step(), _despite_step()),
    start=_load,
    summary=lambda ctx, data: ctx.t("weekly.quiet_summary", **_week(ctx, data)),
    submit=_submit_quiet,
    confirm_label="weekly.quiet_submit",
    values=_week,
)

FULL = Flow(
    name="weekly",
    title="weekly.title",
    roles=HEADS,
    steps=(
        _amend_step(),
        Step(
            "quiet",
            Kind.CHOICE,
            "weekly.ask_quiet",
            summary_label="field.situation",
            options=lambda ctx, d: [
                Option(
                    "yes", ctx.t("weekly.quiet_yes"), tuple(keywords(ctx.lang, "keyword.quiet"))
                ),
                Option("no", ctx.t("weekly.quiet_no")),
            ],
        ),
        *(_number(name) for name in NUMBERS),
        Step(
            "fire_safety",
            Kind.TEXT,
            "weekly.ask.fire_safety",
            optional=True,
            summary_label="weekly.figure.fire_safety",
        ),
        Step(
            "proposals",
            Kind.TEXT,
            "weekly.ask.proposals",
            optional=True,
            voice_ok=True,
            summary_label="weekly.figure.proposals",
        ),
    ),
    start=_load,
    summary=_full_summary,
    submit=_submit_full,
    values=_week,
)
