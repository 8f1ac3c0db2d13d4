"""Retention of what the bot keeps for itself, and of old incidents' names: each kind of row
is kept for a stated time (the notice on personal data says how long), then deleted or made
nameless by the nightly purge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import OutboxStatus, Status
from storage.models import Conversation, Incident, OutboxMessage, ProcessedUpdate


@dataclass(frozen=True)
class Retention:
    sent_messages_days: int = 7
    drafts_days: int = 30
    update_ids_days: int = 2
    incident_names_days: int = 3 * 365
    digest_images_days: int = 90  # files, deleted by the scheduler


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_bot_state(
    *, session: AsyncSession, now: datetime, keep: Retention
) -> dict[str, int]:
    """Delete sent messages, paused drafts and update ids past their time, and take the
    people off closed incidents past theirs; how many of each."""
    sent = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at < now - timedelta(days=keep.sent_messages_days),
        )
    )
    drafts = await session.execute(
        update(Conversation)
        .where(
            Conversation.flow.is_not(None),
            Conversation.updated_at < now - timedelta(days=keep.drafts_days),
        )
        .values(flow=None, step=None, data={}, state={}, history=[], paused=False)
    )
    updates = await session.execute(
        delete(ProcessedUpdate).where(
            ProcessedUpdate.processed_at < now - timedelta(days=keep.update_ids_days)
        )
    )
    nameless = await session.execute(
        update(Incident)
        .where(
            Incident.status == Status.CLOSED,
            Incident.received_at < now - timedelta(days=keep.incident_names_days),
            (Incident.reporter_id.is_not(None)) | (Incident.assignee_id.is_not(None)),
        )
        .values(reporter_id=None, assignee_id=None)
    )
    return {
        "sent_messages": _count(sent),
        "drafts": _count(drafts),
        "update_ids": _count(updates),
        "incidents_made_nameless": _count(nameless),
    }
