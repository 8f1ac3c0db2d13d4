"""The way back to a tipster: the chat that acknowledgements, closing notices and officers'
questions go to, sealed on the tip with a key that is not in the database.

A tip names no account: its sender is a keyed hash (reporter_key) that only the sender's own
updates reproduce. To write to them unasked, the bot keeps their channel and chat id on the
tip, encrypted with AES-GCM (the `cryptography` library) under the tip key (TIP_KEY, or
data/tip_keys.txt) and bound to the tip's id, so a sealed value moved to another tip opens to
nothing. Without the key, nothing in the database leads from a tip to a chat. The way back
is deleted when the tip is closed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Status
from storage.keyring import Keyring
from storage.models import Tip

# Every sealed chat is padded to this many bytes, so that the length of a sealed value does
# not tell a Telegram id from a Zalo one.
PADDED = 96


@dataclass(frozen=True)
class Back:
    channel: str
    chat_id: str


def _bound(tip_id: int) -> bytes:
    return f"tip:{tip_id}".encode()


def seal(keys: Keyring, tip_id: int, back: Back) -> str:
    plain = json.dumps({"c": back.channel, "i": back.chat_id}, separators=(",", ":")).encode()
    if len(plain) > PADDED:
        raise ValueError("chat id too long to seal")
    return keys.seal(plain.ljust(PADDED), _bound(tip_id))


def unseal(keys: Keyring, tip_id: int, token: str | None) -> Back | None:
    if not token:
        return None
    plain = keys.open(token, _bound(tip_id))
    if plain is None:
        return None
    value = json.loads(plain)
    return Back(str(value["c"]), str(value["i"]))


async def remember(
    *, session: AsyncSession, tip: Tip, channel: str, chat_id: str, keys: Keyring
) -> None:
    """Seal the chat a tip came from onto the tip (it must have its id already)."""
    if tip.id is None:
        await session.flush()
    tip.reply_to = seal(keys, tip.id, Back(channel, chat_id))


def forget(tip: Tip) -> None:
    tip.reply_to = None


async def forget_closed(*, session: AsyncSession) -> int:
    """Delete the way back of every closed tip (closing does it; this catches any other way)."""
    result = await session.execute(
        update(Tip)
        .where(Tip.status == Status.CLOSED, Tip.reply_to.is_not(None))
        .values(reply_to=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Resealed:
    resealed: int  # values now under the current key that were under another
    unreadable: int  # values no key of the ring opens: left as they were


async def reseal(*, session: AsyncSession, keys: Keyring, batch: int = 500) -> Resealed:
    """Seal every way back under the ring's first key; values under it already are left."""
    done = unreadable = 0
    after = 0
    prefix = keys.current_id + ":"
    while True:
        rows = (
            await session.execute(
                select(Tip.id, Tip.reply_to)
                .where(Tip.reply_to.is_not(None), Tip.id > after)
                .order_by(Tip.id)
                .limit(batch)
            )
        ).all()
        if not rows:
            return Resealed(done, unreadable)
        for tip_id, token in rows:
            after = tip_id
            if token.startswith(prefix):
                continue
            back = unseal(keys, tip_id, token)
            if back is None:
                unreadable += 1
                continue
            await session.execute(
                update(Tip).where(Tip.id == tip_id).values(reply_to=seal(keys, tip_id, back))
            )
            done += 1


async def under_other_keys(*, session: AsyncSession, keys: Keyring) -> int:
    """How many ways back are sealed under a key other than the ring's first."""
    count = await session.scalar(
        select(func.count())
        .select_from(Tip)
        .where(Tip.reply_to.is_not(None), Tip.reply_to.not_like(keys.current_id + ":%"))
    )
    return int(count or 0)
