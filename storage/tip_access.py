"""A tipster's access code: what lets them, and only them, continue a tip from any chat.

The code is shown once: four characters that find the tip (the locator) and twelve secret
ones (60 bits), typed in groups of four, in any case, with or without dashes. The database
keeps the locator and a hash keyed with the secret key, which is not in the database: a copy
of the database cannot open a tip. Wrong guesses are limited per tip and for all tips at
once, so neither many chats nor many tips help a guesser.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import guesses
from storage.identity import clean_code, random_code
from storage.models import Tip

LOCATOR, SECRET = 4, 12
WINDOW = timedelta(hours=1)
PER_TIP = 5  # wrong guesses an hour at one tip
OVERALL = 100  # wrong guesses an hour at all tips together


def _hash(key: bytes, code: str) -> str:
    return hmac.new(key, f"tip-access:{code}".encode(), hashlib.sha256).hexdigest()


def pretty(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


_TYPED = re.compile(r"^\s*[0-9A-Za-z]{4}(?:[-\s.]?[0-9A-Za-z]{4}){3}\s*$")


def looks_like_code(text: str) -> bool:
    """Four groups of four letters or digits, as the code is shown (dashes optional)."""
    return _TYPED.match(text) is not None


async def issue(*, session: AsyncSession, tip: Tip, key: bytes) -> str:
    """Give the tip a new access code; returns it, as it is to be shown (once)."""
    code = random_code(LOCATOR + SECRET)
    tip.access_locator = code[:LOCATOR]
    tip.access_hash = _hash(key, code)
    await session.flush()
    return pretty(code)


async def open_tip(*, session: AsyncSession, typed: str, key: bytes, now: datetime) -> Tip | str:
    """The tip a typed code opens; otherwise "wrong" or "limited" (too many wrong guesses,
    for this tip or for all)."""
    code = clean_code(typed)
    if len(code) != LOCATOR + SECRET:
        return "wrong"
    locator = code[:LOCATOR]
    limited = await guesses.exhausted(
        session=session, scope="tip_all", key="all", now=now, limit=OVERALL, window=WINDOW
    ) or await guesses.exhausted(
        session=session, scope="tip", key=locator, now=now, limit=PER_TIP, window=WINDOW
    )
    if limited:
        return "limited"
    digest = _hash(key, code)
    for tip in (await session.scalars(select(Tip).where(Tip.access_locator == locator))).all():
        if tip.access_hash is not None and hmac.compare_digest(tip.access_hash, digest):
            return tip
    await guesses.wrong(session=session, scope="tip", key=locator, now=now, window=WINDOW)
    await guesses.wrong(session=session, scope="tip_all", key="all", now=now, window=WINDOW)
    return "wrong"
