"""Duty chats: the group chat of a commune's police on each channel, where alerts go."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DutyChat


async def link(
    *,
    session: AsyncSession,
    commune_id: int,
    channel: str,
    chat_id: str,
    person_id: int,
    now: datetime,
) -> tuple[DutyChat, str | None]:
    """Make chat_id the commune's duty chat on channel: one per channel, so a chat linked
    before on the same channel is replaced. Returns the link, and that earlier chat if it
    was another one."""
    duty = await session.scalar(
        select(DutyChat).where(DutyChat.commune_id == commune_id, DutyChat.channel == channel)
    )
    previous = None
    if duty is None:
        duty = DutyChat(commune_id=commune_id, channel=channel, chat_id=chat_id)
        session.add(duty)
    elif duty.chat_id != chat_id:
        previous = duty.chat_id
    duty.chat_id, duty.linked_by, duty.linked_at = chat_id, person_id, now
    return duty, previous
