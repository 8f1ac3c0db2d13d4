"""Incident report: category, when, where, what, media, urgency, summary, submit."""

from __future__ import annotations

import logging

from conversations.alerts import alert_buttons, alert_text, emergency_words
from conversations.context import Ctx
from conversations.flow import Data, Flow, Kind, Option, Step
from conversations.flows.common import (
    REPORTERS,
    attachments,
    code_options,
    lines,
    need_location,
    officer_targets,
    place_of,
    show_media,
    show_place,
    show_when,
    text_of,
)
from locales import keywords
from storage import alerts
from storage.cases import case_code
from storage.enums import REPORTED_CATEGORIES, IncidentCategory, Severity
from storage.models import Incident
from storage.reports import add_incident

log = logging.getLogger(__name__)


def where_options(ctx: Ctx, data: Data) -> list[Option]:
    hamlet = ctx.person.hamlet
    options = (
        [Option("hamlet", ctx.t("place.in_hamlet", hamlet=hamlet.display_name))] if hamlet else []
    )
    return [
        *options,
        Option("share", ctx.t("place.share"), tuple(keywords(ctx.lang, "keyword.location"))),
    ]


def _fire_hint(ctx: Ctx, data: Data) -> str | None:
    return "incident.fire_hint" if data.get("category") == IncidentCategory.FIRE else None


def _severity_hint(ctx: Ctx, data: Data) -> str | None:
    return "incident.severity_hint"


def _summary(ctx: Ctx, data: Data) -> str:
    return lines(
        (ctx.t("field.category"), ctx.t(f"category.{data['category']}")),
        (ctx.t("field.when"), show_when(ctx, data["when"])),
        (ctx.t("field.where"), show_place(ctx, data.get("where"))),
        (ctx.t("field.what"), text_of(ctx, data.get("description"))),
        (
            ctx.t("field.media"),
            show_media(ctx, attachments(data.get("description"), data.get("media"))),
        ),
        (ctx.t("field.severity"), ctx.t(f"severity.{data['severity']}")),
    )


async def _submit(ctx: Ctx, data: Data) -> str:
    person = ctx.person
    assert person.hamlet is not None and person.commune_id is not None
    place, lat, lon = place_of(ctx, data.get("where"))
    incident = await add_incident(
        ctx.session,
        media=attachments(data.get("description"), data.get("media")),
        commune_id=person.commune_id,
        hamlet_id=person.hamlet.id,
        reporter_id=person.id,
        category=data["category"],
        severity=data["severity"],
        occurred_at=data["when"].at,
        occurred_precision=data["when"].precision,
        received_at=ctx.now,
        place_text=place,
        latitude=lat,
        longitude=lon,
        description=text_of(ctx, data.get("description")),
    )
    urgent = data["severity"] != Severity.ORDINARY
    return await raise_alert(ctx, incident, urgent=urgent)


async def raise_alert(ctx: Ctx, incident: Incident, *, urgent: bool) -> str:
    """Alert the officers (the duty chats first when urgent), record where it went, and say
    what happened: if an urgent alert reached nobody, the reporter is told so plainly, with
    the number to call, and the commune's admins are told how to fix it."""
    person = ctx.person
    targets = await officer_targets(ctx, incident.commune_id, duty_first=urgent)
    for chat in targets:
        await ctx.notify(
            chat.channel,
            chat.chat_id,
            alert_text(chat.language, incident, reporter=person, tz=ctx.tz),
            purpose="alert" if urgent else "incident",
            commune_id=incident.commune_id,
            buttons=alert_buttons(chat.language, incident),
        )
    if urgent:
        await alerts.record(
            session=ctx.session, incident_id=incident.id, chats=targets, round=1, now=ctx.now
        )
    numbers = emergency_words(ctx.lang, incident.category)
    if urgent and not targets:
        log.warning(
            "urgent incident %s of commune %s reached no officer", incident.id, incident.commune_id
        )
        return ctx.t("incident.sent_unreachable", code=case_code(incident), numbers=numbers)
    if urgent:
        return ctx.t(
            "incident.sent_urgent", code=case_code(incident), id=incident.id, numbers=numbers
        )
    return ctx.t("incident.sent", code=case_code(incident), id=incident.id)


FLOW = Flow(
    name="incident",
    free_text_step="description",
    title="incident.title",
    roles=REPORTERS,
    steps=(
        Step(
            "category",
            Kind.CHOICE,
            "incident.ask_category",
            options=lambda ctx, d: code_options(ctx, "category", list(REPORTED_CATEGORIES)),
            summary_label="field.category",
        ),
        Step(
            "when", Kind.DATETIME, "incident.ask_when", hint=_fire_hint, summary_label="field.when"
        ),
        Step(
            "where",
            Kind.LOCATION,
            "incident.ask_where",
            options=where_options,
            validate=need_location,
            summary_label="field.where",
        ),
        Step(
            "description", Kind.TEXT, "incident.ask_what", voice_ok=True, summary_label="field.what"
        ),
        Step(
            "media",
            Kind.MEDIA,
            "incident.ask_media",
            append_text_to="description",
            summary_label="field.media",
        ),
        Step(
            "severity",
            Kind.CHOICE,
            "incident.ask_severity",
            hint=_severity_hint,
            options=lambda ctx, d: code_options(ctx, "severity", list(Severity)),
            summary_label="field.severity",
        ),
    ),
    summary=_summary,
    submit=_submit,
)
