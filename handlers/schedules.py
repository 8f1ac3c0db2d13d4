"""/lich: a commune's schedule in days and hours, and changes typed the way an admin says
them ("/lich nhac thu6 15:30"), or as a standard crontab line."""

from __future__ import annotations

import re

from conversations.context import Ctx
from conversations.events import Reply
from locales import keywords
from locales.text import fold
from scheduler.crontab import DAY_NAMES, CronError, describe, parse
from storage.enums import Role
from storage.schedules import DEFAULTS, OPERATOR_JOBS, ensure_defaults, schedules_of, set_schedule

_TIME = re.compile(r"\b(\d{1,2})\s*(?:h|g|:|gio)\s*(\d{1,2})?\b")
_DAY_OF_MONTH = re.compile(r"\bngay\s+(\d{1,2})\b")


def when_in_words(ctx: Ctx, cron: str) -> str:
    words = describe(cron)
    values = dict(words.values)
    if "days" in values:
        values["days"] = ", ".join(ctx.t(f"day.{name}") for name in values["days"].split(","))
    if "months" in values:
        values["months"] = ", ".join(values["months"].split(","))
    return ctx.t(words.key, **values)


def _job(ctx: Ctx, args: str) -> tuple[str | None, str]:
    """The job named at the start of args, by its key or one of its names in the person's
    language ("nhac", "nhac lai", "tuan"), the longest name first; and the rest of args."""
    head, _, rest = args.partition(" ")
    if head in DEFAULTS:
        return head, rest
    folded = fold(args)
    names = [
        (fold(name), job)
        for job in DEFAULTS
        for name in keywords(ctx.lang, f"schedule.alias.{job}")
    ]
    for name, job in sorted(names, key=lambda pair: -len(pair[0])):
        if folded == name or folded.startswith(name + " "):
            return job, folded[len(name) :].strip()
    return None, rest


def _cron_from_words(ctx: Ctx, text: str) -> str | None:
    """ "thu6 15:30", "thu 2, thu 5 8h", "hang ngay 3h", "ngay 1 7h" as a crontab line."""
    folded = fold(text)
    clock = _TIME.search(folded)
    if clock is None:
        return None
    hour, minute = int(clock.group(1)), int(clock.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    rest = folded[: clock.start()] + " " + folded[clock.end() :]
    day = _DAY_OF_MONTH.search(rest)
    if day is not None:
        return f"{minute} {hour} {int(day.group(1))} * *"
    days = []
    compact = rest.replace(" ", "")
    for number, name in enumerate(DAY_NAMES):
        words = (fold(w).replace(" ", "") for w in keywords(ctx.lang, f"schedule.day_words.{name}"))
        if any(w and w in compact for w in words):
            days.append(str(number))
    if days:
        return f"{minute} {hour} * * {','.join(days)}"
    if any(fold(w) in folded for w in keywords(ctx.lang, "schedule.every_day_words")):
        return f"{minute} {hour} * * *"
    return None


async def schedule_command(ctx: Ctx) -> Reply:
    """/lich lists the commune's schedule; /lich <job> <when> changes one (admins)."""
    person = ctx.person
    if person.role != Role.ADMIN or person.commune_id is None or not person.active:
        return Reply(ctx.t("schedule.only_admins"))
    args = " ".join(ctx.event.args.split())
    if args:
        job, when = _job(ctx, args)
        if job is None:
            names = ", ".join(
                ctx.t(f"schedule.name.{j}") for j in DEFAULTS if j not in OPERATOR_JOBS
            )
            return Reply(ctx.t("schedule.unknown", jobs=names) + "\n" + ctx.t("schedule.how"))
        if job in OPERATOR_JOBS:
            return Reply(ctx.t("schedule.operator_only", job=ctx.t(f"schedule.name.{job}")))
        cron = when.strip() if len(when.split()) == 5 else _cron_from_words(ctx, when)
        if cron is None:
            return Reply(ctx.t("schedule.bad_words") + "\n" + ctx.t("schedule.how"))
        try:
            parse(cron, ctx.tz, ctx.now)
        except CronError as error:
            return Reply(ctx.t(f"schedule.error.{error.reason}") + "\n" + ctx.t("schedule.how"))
        await set_schedule(ctx.session, person.commune_id, job, cron)
    rows = await schedules_of(ctx.session, person.commune_id)
    if not rows:
        await ensure_defaults(ctx.session)
        rows = await schedules_of(ctx.session, person.commune_id)
    lines = [ctx.t("schedule.title")]
    for row in rows:
        state = "" if row.enabled else ctx.t("schedule.off")
        lines.append(
            f"• {ctx.t('schedule.name.' + row.job)}: {when_in_words(ctx, row.cron)}{state}"
        )
    lines.append(ctx.t("schedule.how"))
    return Reply("\n".join(lines))
