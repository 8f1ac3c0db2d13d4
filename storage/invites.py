"""Invites: the codes that bind a chat to a person entered by an administrator."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite


async def by_code(*, session: AsyncSession, code: str) -> Invite | None:
    """The invite with this stored code (see storage.identity.clean_code), used or not."""
    return await session.scalar(select(Invite).where(Invite.code == code))
