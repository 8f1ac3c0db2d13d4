"""The web desk's audit log: every view of a tip, every export and every change, with who,
when and what. Entries are only ever added; nothing here deletes or edits one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Person


async def record(
    *,
    session: AsyncSession,
    person: Person,
    action: str,
    now: datetime,
    target: str = "",
    detail: str = "",
) -> None:
    session.add(
        AuditEntry(
            at=now,
            commune_id=person.commune_id,
            person_id=person.id,
            actor=person.full_name or str(person.id),
            action=action,
            target=target[:64],
            detail=detail,
        )
    )


async def entries(
    *, session: AsyncSession, commune_id: int, limit: int = 200, offset: int = 0
) -> list[AuditEntry]:
    """A commune's log, the newest first."""
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.commune_id == commune_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all())
