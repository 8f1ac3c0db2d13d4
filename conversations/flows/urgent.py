"""🚨 Báo khẩn: the alert goes as soon as the kind and the place are known (three taps from
the menu); what happened and photos are asked afterwards and added to the same case."""

from __future__ import annotations

from conversations.context import Ctx
from conversations.flow import Data, Flow, Kind, Step
from conversations.flows.common import (
    REPORTERS,
    attachments,
    code_options,
    need_location,
    officer_targets,
    place_of,
    text_of,
    tr,
)
from conversations.flows.incident import raise_alert, where_options
from storage.cases import case_code
from storage.enums import IncidentCategory, Severity
from storage.reports import add_incident, add_incident_details, own_incident

# The kinds that are urgent most often come first; every kind can be chosen.
FIRST = (
    IncidentCategory.FIRE,
    IncidentCategory.DISORDER,
    IncidentCategory.TRAFFIC,
    IncidentCategory.DOMESTIC_VIOLENCE,
    IncidentCategory.THEFT,
)


async def _alert(ctx: Ctx, data: Data) -> tuple[str | None, Data]:
    """Raise the alert once the place is known; after a change of mind, the case follows."""
    person = ctx.person
    assert person.hamlet is not None and person.commune_id is not None
    place, lat, lon = place_of(ctx, data.get("where"))
    if "incident_id" in data:
        incident = await own_incident(
            session=ctx.session, incident_id=int(data["incident_id"]), reporter_id=person.id
        )
        if incident is not None:
            incident.category = data["category"]
            incident.place_text, incident.latitude, incident.longitude = place, lat, lon
            return ctx.t("urgent.updated", code=case_code(incident)), {}
    incident = await add_incident(
        ctx.session,
        commune_id=person.commune_id,
        hamlet_id=person.hamlet.id,
        reporter_id=person.id,
        category=data["category"],
        severity=Severity.URGENT,
        occurred_at=ctx.now,
        received_at=ctx.now,
        place_text=place,
        latitude=lat,
        longitude=lon,
    )
    said = await raise_alert(ctx, incident, urgent=True)
    return f"{said}\n\n{ctx.t('urgent.more')}", {"incident_id": incident.id}


async def _submit(ctx: Ctx, data: Data) -> str:
    incident = await own_incident(
        session=ctx.session, incident_id=int(data["incident_id"]), reporter_id=ctx.person.id
    )
    if incident is None:
        return ctx.t("alert.not_found")
    description = text_of(ctx, data.get("description"))
    media = attachments(data.get("description"), data.get("media"))
    await add_incident_details(
        session=ctx.session, incident=incident, description=description, media=media
    )
    if description or media:
        code = case_code(incident)
        for chat in await officer_targets(ctx, incident.commune_id, duty_first=True):
            text = tr(chat.language, "urgent.officer_more", code=code, count=len(media))
            if description:
                text += "\n" + description
            await ctx.notify(
                chat.channel, chat.chat_id, text, purpose="alert", commune_id=incident.commune_id
            )
    return ctx.t("urgent.details_sent", code=case_code(incident))


def _cancelled(ctx: Ctx, data: Data) -> str | None:
    if "incident_id" not in data:
        return None
    return ctx.t("urgent.cancelled", code=f"VV-{data['incident_id']}")


FLOW = Flow(
    name="urgent",
    title="urgent.title",
    roles=REPORTERS,
    steps=(
        Step(
            "category",
            Kind.CHOICE,
            "urgent.ask_category",
            options=lambda ctx, d: code_options(
                ctx, "category", [*FIRST, *(c for c in IncidentCategory if c not in FIRST)]
            ),
        ),
        Step(
            "where",
            Kind.LOCATION,
            "urgent.ask_where",
            options=where_options,
            validate=need_location,
            after=_alert,
        ),
        Step("description", Kind.TEXT, "urgent.ask_what", voice_ok=True, optional=True),
        Step("media", Kind.MEDIA, "urgent.ask_media", append_text_to="description"),
    ),
    summary=lambda ctx, d: "",
    submit=_submit,
    confirm=False,
    cancelled=_cancelled,
)
