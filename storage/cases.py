"""Cases: incidents and tips as the commune police handle them.

The one API of a case for every interface (the chat, the command line, the web desk, the
scheduler): fetch with the access check, codes, status changes, assignment, notes, closing,
the queue, the history and files, and who hears about a commune's cases. Functions take a
session, the acting person (or a commune id) and the time, and return data: the caller
decides what to say and queues it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import way_back
from storage.enums import (
    COMMUNE_ROLES,
    OPEN_STATUSES,
    REPORTED_CATEGORIES,
    HistoryEntry,
    RecordKind,
    Role,
    Severity,
    Status,
)
from storage.identity import clean_code
from storage.keyring import Keyring
from storage.models import (
    Attachment,
    DutyChat,
    Identity,
    Incident,
    Person,
    StatusChange,
    Tip,
    TipMessage,
)

Case = Incident | Tip
INCIDENT_PREFIX = "VV-"
TIP_PREFIX = "TB-"
MAX_ID = 2**31 - 1  # an integer column on every database: larger ids name no case
_INCIDENT_CODE = re.compile(r"^\s*VV[-\s]?(\d{1,10})\s*$", re.IGNORECASE)
_OPEN = [s.value for s in OPEN_STATUSES]


# --- codes ----------------------------------------------------------------------------


def incident_code(incident_id: int) -> str:
    return f"{INCIDENT_PREFIX}{incident_id}"


def case_code(record: Case) -> str:
    """The code officers and reporters see: VV-21 for an incident, TB-7K3M9Q for a tip."""
    return record.case_code if isinstance(record, Tip) else incident_code(record.id)


@dataclass(frozen=True)
class CaseRef:
    """Which case a code names: an incident by id, a tip by its stored code."""

    kind: RecordKind
    incident_id: int | None = None
    tip_code: str | None = None


def parse_case_code(text: str) -> CaseRef | None:
    """Read a typed code: "VV-21", "vv 21", "tb-7k3m9q", "TB7K3M9Q"; None when it is none."""
    found = _INCIDENT_CODE.match(text)
    if found:
        number = int(found.group(1))
        return CaseRef(RecordKind.INCIDENT, incident_id=number) if 0 < number <= MAX_ID else None
    cleaned = clean_code(text)
    if cleaned.startswith("TB") and len(cleaned) == 8:
        return CaseRef(RecordKind.TIP, tip_code=f"{TIP_PREFIX}{cleaned[2:]}")
    return None


def kind_of(record: Case) -> RecordKind:
    return RecordKind.TIP if isinstance(record, Tip) else RecordKind.INCIDENT


# --- who may act ----------------------------------------------------------------------


def may_handle_cases(person: Person) -> bool:
    """An active officer or admin of a commune: the only people who act on cases."""
    return person.active and person.role in COMMUNE_ROLES and person.commune_id is not None


async def get(
    *, session: AsyncSession, person: Person, kind: RecordKind, case_id: int
) -> Case | None:
    """The case, if person may act on it: an active officer or admin of its commune."""
    model: type[Incident] | type[Tip]
    if kind == RecordKind.INCIDENT:
        model = Incident
    elif kind == RecordKind.TIP:
        model = Tip
    else:
        return None
    if not may_handle_cases(person) or not 0 < case_id <= MAX_ID:
        return None
    record: Case | None = await session.get(model, case_id)
    if record is None or record.commune_id != person.commune_id:
        return None
    return record


async def get_by_code(*, session: AsyncSession, person: Person, code: str) -> Case | None:
    ref = parse_case_code(code)
    if ref is None:
        return None
    if ref.kind == RecordKind.INCIDENT and ref.incident_id is not None:
        return await get(
            session=session, person=person, kind=RecordKind.INCIDENT, case_id=ref.incident_id
        )
    if not may_handle_cases(person):
        return None
    tip = await session.scalar(select(Tip).where(Tip.case_code == ref.tip_code))
    return tip if tip is not None and tip.commune_id == person.commune_id else None


async def own_tip(*, session: AsyncSession, tip_id: int, reporter_key: str) -> Tip | None:
    """A tip, if the pseudonym given is its sender's: how a tipster answers a question."""
    if not 0 < tip_id <= MAX_ID:
        return None
    tip = await session.get(Tip, tip_id)
    return tip if tip is not None and tip.reporter_key == reporter_key else None


# --- where messages go ----------------------------------------------------------------


class Chat(NamedTuple):
    """A chat to tell something, in the language to tell it in."""

    channel: str
    chat_id: str
    language: str


async def officer_chats(
    *, session: AsyncSession, commune_id: int, duty_first: bool, language: str
) -> list[Chat]:
    """Who hears about a commune's cases and digests.

    The duty chats when there are any and duty_first is set (they speak language); otherwise
    every active officer and admin of the commune privately, in their own language.
    """
    if duty_first:
        duty = (
            await session.scalars(
                select(DutyChat).where(DutyChat.commune_id == commune_id).order_by(DutyChat.id)
            )
        ).all()
        if duty:
            return [Chat(d.channel, d.chat_id, language) for d in duty]
    return await _chats(
        session,
        Person.commune_id == commune_id,
        Person.role.in_([r.value for r in COMMUNE_ROLES]),
        Person.active.is_(True),
    )


async def admin_chats(*, session: AsyncSession, commune_id: int) -> list[Chat]:
    """The private chats of a commune's active admins."""
    return await _chats(
        session,
        Person.commune_id == commune_id,
        Person.role == Role.ADMIN,
        Person.active.is_(True),
    )


async def person_chats(*, session: AsyncSession, person_id: int) -> list[Chat]:
    """Every chat account of a person that has not blocked the bot."""
    return await _chats(session, Identity.person_id == person_id)


async def _chats(session: AsyncSession, *where: ColumnElement[bool]) -> list[Chat]:
    """The chats of the accounts that match, and have not blocked the bot, in their order."""
    rows = await session.execute(
        select(Identity.channel, Identity.chat_id, Person.language)
        .join(Person)
        .where(Identity.blocked_at.is_(None), *where)
        .order_by(Identity.id)
    )
    return [Chat(c, chat, lang) for c, chat, lang in rows.all()]


async def reporter_chats(*, session: AsyncSession, record: Case, keys: Keyring) -> list[Chat]:
    """Where the reporter hears back: their chats, found by person or, for a tip, by its way
    back, which only the tip keys open (the tip stores no person). A tipster's chat is told
    only while its account is linked and has not blocked the bot, in its current language."""
    if isinstance(record, Tip):
        back = way_back.unseal(keys, record.id, record.reply_to)
        if back is None:
            return []
        row = (
            await session.execute(
                select(Identity.blocked_at, Person.language)
                .join(Person)
                .where(Identity.channel == back.channel, Identity.chat_id == back.chat_id)
                .order_by(Identity.id)
                .limit(1)
            )
        ).first()
        if row is None or row.blocked_at is not None:
            return []
        return [Chat(back.channel, back.chat_id, row.language)]
    if record.reporter_id is None:
        return []
    return await person_chats(session=session, person_id=record.reporter_id)


# --- changes --------------------------------------------------------------------------

# The statuses whose change the reporter hears of.
TOLD_REPORTER = (Status.ACKNOWLEDGED, Status.CLOSED)


def _entry(
    record: Case,
    person: Person,
    now: datetime,
    entry: HistoryEntry,
    *,
    note: str | None = None,
    assignee_id: int | None = None,
) -> StatusChange:
    return StatusChange(
        record_kind=kind_of(record),
        record_id=record.id,
        entry=entry,
        status=record.status,
        actor_id=person.id,
        assignee_id=assignee_id,
        note=note,
        created_at=now,
    )


async def change_status(
    *,
    session: AsyncSession,
    person: Person,
    record: Case,
    status: Status,
    now: datetime,
    keys: Keyring,
    note: str | None = None,
) -> list[Chat]:
    """Set the status and write it in the history; the reporter's chats when they are to be
    told (acknowledged and closed), else nothing. Closing a tip deletes its way back: the
    chats returned are the last it leads to."""
    record.status = status
    session.add(_entry(record, person, now, HistoryEntry.STATUS, note=note))
    if status not in TOLD_REPORTER:
        return []
    chats = await reporter_chats(session=session, record=record, keys=keys)
    if status == Status.CLOSED and isinstance(record, Tip):
        way_back.forget(record)
    return chats


async def acknowledge(
    *, session: AsyncSession, person: Person, record: Case, now: datetime, keys: Keyring
) -> list[Chat] | None:
    """Acknowledge a new case; None when someone already did (it is not new any more)."""
    if record.status != Status.NEW:
        return None
    return await change_status(
        session=session,
        person=person,
        record=record,
        status=Status.ACKNOWLEDGED,
        now=now,
        keys=keys,
    )


async def close(
    *,
    session: AsyncSession,
    person: Person,
    record: Case,
    outcome: str,
    now: datetime,
    keys: Keyring,
) -> list[Chat]:
    """Close with an outcome; the reporter's chats, to tell them (a tip's way back is then
    deleted)."""
    record.outcome = outcome
    return await change_status(
        session=session,
        person=person,
        record=record,
        status=Status.CLOSED,
        now=now,
        keys=keys,
        note=outcome,
    )


async def add_note(
    *, session: AsyncSession, person: Person, record: Case, text: str, now: datetime
) -> None:
    session.add(_entry(record, person, now, HistoryEntry.NOTE, note=text))


async def classify(
    *, session: AsyncSession, person: Person, record: Incident, category: str, now: datetime
) -> bool:
    """Set an incident's category (a voice-only report's, or a wrong one); the history keeps
    the category chosen. False for a category a reporter could not have chosen."""
    if category not in REPORTED_CATEGORIES:
        return False
    record.category = category
    session.add(_entry(record, person, now, HistoryEntry.CLASSIFY, note=category))
    return True


async def assignable(*, session: AsyncSession, commune_id: int) -> list[Person]:
    """The active officers and admins of a commune, by name: whom a case can go to."""
    return list(
        (
            await session.scalars(
                select(Person)
                .where(
                    Person.commune_id == commune_id,
                    Person.role.in_([r.value for r in COMMUNE_ROLES]),
                    Person.active.is_(True),
                )
                .order_by(Person.full_name, Person.id)
            )
        ).all()
    )


@dataclass(frozen=True)
class Assignment:
    assignee: Person
    chats: list[Chat]  # the assignee's chats; empty when assigning oneself or they have none


async def assign(
    *, session: AsyncSession, person: Person, record: Case, assignee_id: int, now: datetime
) -> Assignment | None:
    """Give the case to an active officer or admin of its commune; None if there is no such
    person. The history records who assigned it to whom."""
    chosen = next(
        (
            p
            for p in await assignable(session=session, commune_id=record.commune_id)
            if p.id == assignee_id
        ),
        None,
    )
    if chosen is None:
        return None
    record.assignee_id = chosen.id
    session.add(_entry(record, person, now, HistoryEntry.ASSIGN, assignee_id=chosen.id))
    chats = (
        [] if chosen.id == person.id else await person_chats(session=session, person_id=chosen.id)
    )
    return Assignment(chosen, chats)


async def ask_tipster(
    *,
    session: AsyncSession,
    person: Person,
    tip: Tip,
    question: str,
    now: datetime,
    keys: Keyring,
) -> list[Chat]:
    """Store an officer's question under a tip; the tipster's chats, to send it to."""
    session.add(
        TipMessage(
            tip_id=tip.id, body=question, from_tipster=False, officer_id=person.id, created_at=now
        )
    )
    await session.flush()
    return await reporter_chats(session=session, record=tip, keys=keys)


# --- reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    entry: str
    status: str
    actor: str | None
    assignee: str | None
    note: str | None


async def history(*, session: AsyncSession, record: Case) -> list[HistoryLine]:
    actor = Person.__table__.alias("actor")
    assignee = Person.__table__.alias("assignee")
    rows = await session.execute(
        select(
            StatusChange.created_at,
            StatusChange.entry,
            StatusChange.status,
            actor.c.full_name,
            assignee.c.full_name,
            StatusChange.note,
        )
        .outerjoin(actor, actor.c.id == StatusChange.actor_id)
        .outerjoin(assignee, assignee.c.id == StatusChange.assignee_id)
        .where(StatusChange.record_kind == kind_of(record), StatusChange.record_id == record.id)
        .order_by(StatusChange.id)
    )
    return [HistoryLine(*row) for row in rows.all()]


@dataclass(frozen=True)
class CaseFile:
    media_type: str
    file_id: str
    channel: str


async def files(*, session: AsyncSession, record: Case) -> list[CaseFile]:
    rows = await session.execute(
        select(Attachment.media_type, Attachment.file_id, Attachment.channel)
        .where(Attachment.record_kind == kind_of(record), Attachment.record_id == record.id)
        .order_by(Attachment.id)
    )
    return [CaseFile(*row) for row in rows.all()]


@dataclass(frozen=True)
class TipLine:
    at: datetime
    from_tipster: bool
    officer: str | None
    body: str


async def tip_messages(*, session: AsyncSession, tip: Tip) -> list[TipLine]:
    rows = await session.execute(
        select(TipMessage.created_at, TipMessage.from_tipster, Person.full_name, TipMessage.body)
        .outerjoin(Person, Person.id == TipMessage.officer_id)
        .where(TipMessage.tip_id == tip.id)
        .order_by(TipMessage.id)
    )
    return [TipLine(*row) for row in rows.all()]


async def assignee(*, session: AsyncSession, record: Case) -> Person | None:
    """Who the case is assigned to, if anyone."""
    if record.assignee_id is None:
        return None
    return await session.get(Person, record.assignee_id)


# --- the queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    kind: str  # incident / tip
    id: int
    code: str
    category: str | None
    severity: str
    status: str
    received_at: datetime
    assignee_id: int | None
    hamlet_id: int | None = None

    def age_days(self, now: datetime) -> int:
        return (now - self.received_at).days

    @property
    def urgent(self) -> bool:
        return self.severity != Severity.ORDINARY


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a queue shows; the default is every open case."""

    statuses: tuple[str, ...] = tuple(_OPEN)
    kind: RecordKind | None = None  # incidents or tips only
    category: str | None = None
    hamlet_id: int | None = None
    assignee_id: int | None = None
    urgent: bool | None = None  # True: urgent and serious only; False: ordinary only
    since: datetime | None = None  # received at or after
    until: datetime | None = None  # received before
    search: str | None = None  # words in the description


def _incidents(commune_id: int, f: CaseFilter) -> Select[tuple[Incident]] | None:
    if f.kind not in (None, RecordKind.INCIDENT):
        return None
    query = select(Incident).where(
        Incident.commune_id == commune_id, Incident.status.in_(f.statuses)
    )
    if f.category is not None:
        query = query.where(Incident.category == f.category)
    if f.hamlet_id is not None:
        query = query.where(Incident.hamlet_id == f.hamlet_id)
    if f.assignee_id is not None:
        query = query.where(Incident.assignee_id == f.assignee_id)
    if f.urgent is True:
        query = query.where(Incident.severity != Severity.ORDINARY)
    elif f.urgent is False:
        query = query.where(Incident.severity == Severity.ORDINARY)
    if f.since is not None:
        query = query.where(Incident.received_at >= f.since)
    if f.until is not None:
        query = query.where(Incident.received_at < f.until)
    if f.search:
        query = query.where(Incident.description.icontains(f.search, autoescape=True))
    return query


def _tips(commune_id: int, f: CaseFilter) -> Select[tuple[Tip]] | None:
    if f.kind not in (None, RecordKind.TIP) or f.category is not None or f.urgent is True:
        return None  # tips have no category and are never urgent
    query = select(Tip).where(Tip.commune_id == commune_id, Tip.status.in_(f.statuses))
    if f.hamlet_id is not None:
        query = query.where(Tip.hamlet_id == f.hamlet_id)
    if f.assignee_id is not None:
        query = query.where(Tip.assignee_id == f.assignee_id)
    if f.since is not None:
        query = query.where(Tip.received_at >= f.since)
    if f.until is not None:
        query = query.where(Tip.received_at < f.until)
    if f.search:
        query = query.where(Tip.description.icontains(f.search, autoescape=True))
    return query


async def _count(session: AsyncSession, query: Select[tuple[Incident]] | Select[tuple[Tip]]) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def queue(
    *,
    session: AsyncSession,
    commune_id: int,
    filters: CaseFilter | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[QueueRow], int]:
    """A commune's cases, the urgent first, then the newest; and how many match in all.

    Each kind is read already sorted and cut to the page's reach, then the two are merged.
    """
    f = filters or CaseFilter()
    reach = offset + limit
    merged: list[QueueRow] = []
    total = 0
    incidents = _incidents(commune_id, f)
    if incidents is not None:
        urgency = case((Incident.severity == Severity.ORDINARY, 1), else_=0)
        rows = (
            await session.scalars(
                incidents.order_by(urgency, Incident.received_at.desc(), Incident.id.desc()).limit(
                    reach
                )
            )
        ).all()
        merged += [
            QueueRow(
                RecordKind.INCIDENT,
                i.id,
                incident_code(i.id),
                i.category,
                i.severity,
                i.status,
                i.received_at,
                i.assignee_id,
                i.hamlet_id,
            )
            for i in rows
        ]
        total += await _count(session, incidents)
    tips_query = _tips(commune_id, f)
    if tips_query is not None:
        if set(f.statuses) <= set(_OPEN):
            # Every open tip, sorted here: asked to sort, SQLite walks the commune's tips of
            # all years by date (the index that sorts) instead of reading the few open ones
            # (the index that filters), because it cannot tell that open tips are rare.
            every = (await session.scalars(tips_query)).all()
            tips = sorted(every, key=lambda t: (t.received_at, t.id), reverse=True)[:reach]
            total += len(every)
        else:
            tips = list(
                (
                    await session.scalars(
                        tips_query.order_by(Tip.received_at.desc(), Tip.id.desc()).limit(reach)
                    )
                ).all()
            )
            total += await _count(session, tips_query)
        merged += [
            QueueRow(
                RecordKind.TIP,
                t.id,
                t.case_code,
                None,
                Severity.ORDINARY,
                t.status,
                t.received_at,
                t.assignee_id,
                t.hamlet_id,
            )
            for t in tips
        ]
    merged.sort(key=lambda c: (not c.urgent, -c.received_at.timestamp()))
    return merged[offset:reach], total
