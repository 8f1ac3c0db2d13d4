"""Signing in to the web desk: one-time links sent in a chat, and browser sessions.

Only the SHA-256 of a token is stored, so a copy of the database opens no session. A link
is used once and lasts LINK_TTL; a session ends on sign-out, after the idle timeout, and at
once when its person is deactivated (checked on every request, and the rows deleted by
storage.access.deactivate)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.cases import may_handle_cases
from storage.enums import Role, Severity, Status
from storage.models import Commune, Identity, Incident, Person, WebLogin, WebSession

LINK_TTL = timedelta(minutes=10)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_link(*, session: AsyncSession, person: Person, now: datetime) -> str | None:
    """A one-time sign-in token for an officer or admin; None for anyone else."""
    if not may_handle_cases(person):
        return None
    token = secrets.token_urlsafe(24)
    session.add(
        WebLogin(
            token_hash=_hash(token), person_id=person.id, created_at=now, expires_at=now + LINK_TTL
        )
    )
    await session.flush()
    return token


async def redeem_link(*, session: AsyncSession, token: str, now: datetime) -> Person | None:
    """The person a link signs in, once, before it expires; None for a used, expired or
    unknown link, or a person who may no longer handle cases."""
    login = await session.scalar(
        select(WebLogin).where(WebLogin.token_hash == _hash(token)).with_for_update()
    )
    if login is None or login.used_at is not None or login.expires_at <= now:
        return None
    login.used_at = now
    person = await session.get(Person, login.person_id)
    return person if person is not None and may_handle_cases(person) else None


async def person_of_telegram_user(*, session: AsyncSession, user_id: str) -> Person | None:
    """The officer or admin a Telegram account is linked to (for the Mini App)."""
    person = await session.scalar(
        select(Person)
        .join(Identity, Identity.person_id == Person.id)
        .where(Identity.channel == "telegram", Identity.external_id == user_id)
    )
    return person if person is not None and may_handle_cases(person) else None


async def open_session(*, session: AsyncSession, person: Person, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(token_hash=_hash(token), person_id=person.id, created_at=now, last_seen_at=now)
    )
    await session.flush()
    return token


async def session_person(
    *, session: AsyncSession, token: str, now: datetime, idle: timedelta
) -> Person | None:
    """The person signed in by a session token, its idle clock reset; None (and the session
    ended) when it was idle too long or its person may no longer handle cases."""
    row = await session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if row is None:
        return None
    person = await session.get(Person, row.person_id)
    if row.last_seen_at + idle <= now or person is None or not may_handle_cases(person):
        await session.delete(row)
        return None
    row.last_seen_at = now
    return person


async def end_session(*, session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


async def end_person_sessions(*, session: AsyncSession, person_id: int) -> int:
    """Every session and unused link of a person ended."""
    await session.execute(delete(WebLogin).where(WebLogin.person_id == person_id))
    result = await session.execute(delete(WebSession).where(WebSession.person_id == person_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- what the desk's pages read -----------------------------------------------------------


async def ping(*, session: AsyncSession) -> bool:
    """Whether the database answers."""
    return await session.scalar(select(literal(1))) == 1


async def commune_with_hamlets(*, session: AsyncSession, commune_id: int) -> Commune | None:
    return await session.get(
        Commune, commune_id, options=[selectinload(Commune.hamlets)], populate_existing=True
    )


async def commune_people(*, session: AsyncSession, commune_id: int) -> list[Person]:
    """Everyone of a commune with a role (residents are not listed), by name."""
    rows = await session.scalars(
        select(Person)
        .where(Person.commune_id == commune_id, Person.role != Role.RESIDENT)
        .order_by(Person.active.desc(), Person.role, Person.full_name, Person.id)
    )
    return list(rows.all())


async def linked_people(*, session: AsyncSession, person_ids: list[int]) -> set[int]:
    """Which of these people have a chat account linked."""
    if not person_ids:
        return set()
    rows = await session.scalars(
        select(Identity.person_id).where(Identity.person_id.in_(person_ids)).distinct()
    )
    return set(rows.all())


async def incidents_between(
    *, session: AsyncSession, commune_id: int, since: datetime, until: datetime
) -> list[Incident]:
    """A commune's incidents that happened in a period (the map's points and its list of
    those without a place); tips are never on the map."""
    rows = await session.scalars(
        select(Incident)
        .where(
            Incident.commune_id == commune_id,
            Incident.occurred_at >= since,
            Incident.occurred_at < until,
        )
        .order_by(Incident.occurred_at.desc(), Incident.id.desc())
    )
    return list(rows.all())


async def oldest_unacknowledged_urgent(*, session: AsyncSession) -> datetime | None:
    """When the oldest urgent or serious incident still waiting to be acknowledged came in."""
    return await session.scalar(
        select(func.min(Incident.received_at)).where(
            Incident.status == Status.NEW, Incident.severity != Severity.ORDINARY
        )
    )


async def first_officer(*, session: AsyncSession) -> Person | None:
    """The first active officer (else admin) of the first commune: the demo's sign-in."""
    rows = await session.scalars(
        select(Person)
        .where(Person.role.in_([Role.OFFICER, Role.ADMIN]), Person.active.is_(True))
        .order_by(Person.commune_id, Person.role.desc(), Person.id)
        .limit(1)
    )
    return rows.first()
