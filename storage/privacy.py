"""Personal data: what is stored about a person, and purging closed tips after a time
(the Personal Data Protection Law, Law 91/2025/QH15, in force since 1 January 2026: collect
what the report needs, keep it for a stated time, answer a person's request)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import way_back
from storage.enums import RecordKind, Status
from storage.identity import pseudonym
from storage.models import (
    Activity,
    Attachment,
    Conversation,
    Identity,
    Incident,
    Invite,
    OutboxMessage,
    Person,
    StatusChange,
    Tip,
    WeeklyReport,
)

# A draft of these is a tip not yet sent: counted only for the person themselves.
TIP_FLOWS = ("tip", "tip_add")


async def purge_closed_tips(
    session: AsyncSession, now: datetime, days: int, commune_id: int | None = None
) -> int:
    """Delete tips closed more than days ago, with their messages, files and history; and the
    way back of any closed tip that still has one."""
    await way_back.forget_closed(session=session)
    closed_before = now - timedelta(days=days)
    last_closed = (
        select(StatusChange.record_id)
        .where(StatusChange.record_kind == RecordKind.TIP, StatusChange.status == Status.CLOSED)
        .group_by(StatusChange.record_id)
        .having(func.max(StatusChange.created_at) < closed_before)
    )
    query = select(Tip.id).where(Tip.status == Status.CLOSED, Tip.id.in_(last_closed))
    if commune_id is not None:
        query = query.where(Tip.commune_id == commune_id)
    ids = list((await session.scalars(query)).all())
    if not ids:
        return 0
    for model in (Attachment, StatusChange):
        await session.execute(
            delete(model).where(model.record_kind == RecordKind.TIP, model.record_id.in_(ids))
        )
    await session.execute(delete(Tip).where(Tip.id.in_(ids)))  # messages go by cascade
    return len(ids)


async def rewrite_conversations(session: AsyncSession) -> int:
    """Write every conversation row again as it is, all in one transaction.

    PostgreSQL keeps on each row the id of the transaction that last wrote it (xmin). A
    tipster's conversation is written in the transaction that stores their tip, so until they
    write again it shares that id with the tip's first history row: a join for whoever can
    read system columns. Rewritten together (nightly, with the purge), every conversation
    shares one id instead. The version is left alone: nothing changed for a worker to redo."""
    result = await session.execute(update(Conversation).values(updated_at=Conversation.updated_at))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def stored_about(
    session: AsyncSession, person_id: int, *, with_tips: bool, secret: bytes | None = None
) -> list[tuple[str, str]]:
    """(what, value) lines of everything kept about a person. Tips are shown only to the
    person themselves (with_tips; found by their pseudonyms, made with secret): nobody else
    may learn that they sent one. Without them, what only a tipster has (a tip half written,
    a message to them as a tipster still waiting) is not counted either, so that a tipster's
    lines read as anyone's."""
    person = await session.get(Person, person_id)
    if person is None:
        return []
    lines = [
        ("name", person.full_name or "–"),
        ("role", person.role),
        ("phone", person.phone or "–"),
        ("language", person.language),
        ("since", f"{person.created_at:%d/%m/%Y}"),
    ]
    identities = (
        await session.scalars(select(Identity).where(Identity.person_id == person_id))
    ).all()
    for identity in identities:
        blocked = " (blocked the bot)" if identity.blocked_at else ""
        lines.append(("chat account", f"{identity.channel} {identity.external_id}{blocked}"))
    for label, model in (
        ("incident reports", Incident),
        ("activity reports", Activity),
        ("weekly reports", WeeklyReport),
    ):
        count = await session.scalar(
            select(func.count()).select_from(model).where(model.reporter_id == person_id)
        )
        lines.append((label, str(count)))
    invites = await session.scalar(
        select(func.count()).select_from(Invite).where(Invite.person_id == person_id)
    )
    lines.append(("invites", str(invites)))
    chats = [i.chat_id for i in identities]
    if chats:
        open_drafts = [Conversation.chat_id.in_(chats), Conversation.flow.is_not(None)]
        to_them = [OutboxMessage.chat_id.in_(chats)]
        if not with_tips:
            open_drafts.append(Conversation.flow.not_in(TIP_FLOWS))
            to_them.append(OutboxMessage.ephemeral.is_(False))
        drafts = await session.scalar(
            select(func.count()).select_from(Conversation).where(*open_drafts)
        )
        queued = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(*to_them)
        )
        lines += [("reports in progress", str(drafts)), ("messages sent or queued", str(queued))]
    if with_tips:
        if secret is None:
            raise ValueError("a person's tips are found with the secret key")
        keys = [pseudonym(secret, i.channel, i.external_id) for i in identities]
        tips = (await session.scalars(select(Tip).where(Tip.reporter_key.in_(keys)))).all()
        lines += [
            ("tip", f"{tip.case_code} {tip.status} {'contact' if tip.contact else 'anonymous'}")
            for tip in tips
        ]
    return lines
