"""Taking access back: deactivating a person, unlinking chat accounts, revoking invites and
duty chats. What a person may do is decided in one place (handlers.router); these make
sure a revoked person has nothing left to do it with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.desk import end_person_sessions
from storage.models import DutyChat, Identity, Invite, Person


@dataclass(frozen=True)
class Revoked:
    person: Person
    accounts: int  # chat accounts unlinked
    invites: int  # unused invites revoked


async def unlink_accounts(
    *, session: AsyncSession, person_id: int, channel: str | None = None
) -> int:
    """Unlink a person's chat accounts (on one channel, or all). A later message from such
    an account starts afresh, as a resident nobody knows."""
    query = delete(Identity).where(Identity.person_id == person_id)
    if channel is not None:
        query = query.where(Identity.channel == channel)
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def revoke_invites(
    *, session: AsyncSession, person_id: int | None = None, code: str | None = None
) -> int:
    """Delete unused invites of a person, or one invite by its code."""
    query = delete(Invite).where(Invite.redeemed_at.is_(None))
    if person_id is not None:
        query = query.where(Invite.person_id == person_id)
    if code is not None:
        query = query.where(Invite.code == code)
    if person_id is None and code is None:
        return 0
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def deactivate(*, session: AsyncSession, person_id: int) -> Revoked | None:
    """The person can do nothing more: inactive, no chat account, no invite, no web session."""
    person = await session.get(Person, person_id)
    if person is None:
        return None
    person.active = False
    accounts = await unlink_accounts(session=session, person_id=person_id)
    invites = await revoke_invites(session=session, person_id=person_id)
    await end_person_sessions(session=session, person_id=person_id)
    return Revoked(person, accounts, invites)


async def duty_chats(*, session: AsyncSession, commune_id: int | None = None) -> list[DutyChat]:
    query = select(DutyChat).order_by(DutyChat.commune_id, DutyChat.channel)
    if commune_id is not None:
        query = query.where(DutyChat.commune_id == commune_id)
    return list((await session.scalars(query)).all())


async def unlink_duty(*, session: AsyncSession, commune_id: int, channel: str | None = None) -> int:
    query = delete(DutyChat).where(DutyChat.commune_id == commune_id)
    if channel is not None:
        query = query.where(DutyChat.channel == channel)
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
