"""The outbox: messages that are not immediate replies, written with the change that causes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.types import utcnow


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    text: str,
    buttons: list[list[dict[str, Any]]] | None = None,
    purpose: str = "notice",
    commune_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    now = now or utcnow()
    message = OutboxMessage(
        channel=channel,
        chat_id=chat_id,
        text=text,
        buttons=buttons or [],
        purpose=purpose,
        commune_id=commune_id,
        created_at=now,
        not_before=now,
    )
    session.add(message)
    await session.flush()
    return message
