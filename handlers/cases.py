"""Officer actions on cases from buttons. Button data is untrusted: rights are checked here."""

from __future__ import annotations

from sqlalchemy import select

from conversations.context import Ctx
from conversations.events import Reply
from conversations.flows.common import tr
from storage.enums import COMMUNE_ROLES, RecordKind, Status
from storage.models import Identity, Incident, Person, StatusChange


def may_act_on(ctx: Ctx, commune_id: int) -> bool:
    person = ctx.person
    return person.active and person.role in COMMUNE_ROLES and person.commune_id == commune_id


async def handle_action(ctx: Ctx, data: str) -> list[Reply]:
    parts = data.split(":")
    if len(parts) == 4 and parts[1] == "ack" and parts[2] == "i" and parts[3].isdigit():
        return [await acknowledge_incident(ctx, int(parts[3]))]
    return [Reply(ctx.t("stale.button"))]


async def acknowledge_incident(ctx: Ctx, incident_id: int) -> Reply:
    incident = await ctx.session.get(Incident, incident_id)
    if incident is None:
        return Reply(ctx.t("alert.not_found"))
    if not may_act_on(ctx, incident.commune_id):
        return Reply(ctx.t("alert.not_yours"))
    if incident.status != Status.NEW:
        return Reply(ctx.t("alert.already", id=incident.id))
    incident.status = Status.ACKNOWLEDGED
    ctx.session.add(
        StatusChange(
            record_kind=RecordKind.INCIDENT,
            record_id=incident.id,
            status=Status.ACKNOWLEDGED,
            actor_id=ctx.person.id,
        )
    )
    if incident.reporter_id is not None:
        reporters = (
            await ctx.session.execute(
                select(Identity.channel, Identity.chat_id, Person.language)
                .join(Person)
                .where(Identity.person_id == incident.reporter_id, Identity.blocked_at.is_(None))
            )
        ).all()
        for channel, chat_id, lang in reporters:
            await ctx.notify(
                channel,
                chat_id,
                tr(lang, "alert.reporter_acked", id=incident.id),
                purpose="case_update",
                commune_id=incident.commune_id,
            )
    return Reply(
        ctx.t(
            "alert.acked",
            id=incident.id,
            officer=ctx.person.full_name or "",
            time=ctx.local(ctx.now).strftime("%H:%M %d/%m"),
        )
    )
