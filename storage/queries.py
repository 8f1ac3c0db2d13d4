"""Lookups the chat handlers need on every update."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    column,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError

from storage.enums import Role
from storage.models import Commune, Conversation, Hamlet, Identity, Person, Province
from storage.raw_sqlite import prepared, sqlite3_of
from storage.types import UTCDateTime, rounded, utcday, utcnow

# How finely times are kept on rows that name a chat, so that none can be matched to a tip's
# (docs/SECURITY.md, "A copy of the database"): update ids to the hour, a conversation to the
# day, or to ten minutes while a draft is open.
UPDATE_GRAIN = timedelta(hours=1)
IDLE_GRAIN = timedelta(days=1)
DRAFT_GRAIN = timedelta(minutes=10)

# Written out rather than built with insert().on_conflict_do_nothing(), which SQLAlchemy
# cannot cache and so compiles again on every update. The same SQL runs on both databases.
_RECORD_UPDATE = text(
    "INSERT INTO processed_updates (channel, update_key, processed_at) "
    "VALUES (:channel, :update_key, :processed_at) "
    "ON CONFLICT (channel, update_key) DO NOTHING"
).bindparams(bindparam("processed_at", type_=UTCDateTime()))


async def seen_before(session: AsyncSession, channel: str, update_key: str) -> bool:
    """Record an update id; True when it was recorded already (a repeated delivery)."""
    values = {
        "channel": channel,
        "update_key": update_key,
        "processed_at": rounded(utcnow(), UPDATE_GRAIN),
    }
    raw = await sqlite3_of(session)
    if raw is not None:
        db, dialect = raw
        statement = prepared(_RECORD_UPDATE, dialect)
        return statement.run(db, values).rowcount == 0
    result = await session.execute(_RECORD_UPDATE, values)
    return result.rowcount == 0  # type: ignore[attr-defined]


# The account-and-conversation read and the conversation's save run on every update: built
# once here, so that SQLAlchemy neither rebuilds them nor works out their cache key again.
# The ORM's loading of the account, its person, hamlet, commune and province cost more than
# all the rest of an update (it sets up its loaders on every query): they are read as plain
# columns and placed in the session as loaded objects (_adopt), or taken from it when an
# earlier update of the same batch brought them. The conversation is read into an object
# outside the session and written back with one UPDATE that checks its version, instead of
# going through the ORM's unit of work.
_CONV = cast(Table, Conversation.__table__)
_CONV_COLUMNS = [c for c in _CONV.c]
_SAVED = [c for c in _CONV_COLUMNS if c.name not in ("id", "channel", "chat_id", "version")]
_ADOPTED = [
    (model, [c for c in cast(Table, model.__table__).c])
    for model in (Identity, Person, Hamlet, Commune, Province)
]
_ACCOUNT = [c for _, columns in _ADOPTED for c in columns]

_T = {model: cast(Table, model.__table__) for model, _ in _ADOPTED}
# Tables, not mapped classes: a statement naming a class goes through the ORM's execution.
_CHAT = (
    select(*_ACCOUNT, *_CONV_COLUMNS)
    .select_from(_T[Identity])
    .join(_T[Person], _T[Person].c.id == _T[Identity].c.person_id)
    .outerjoin(_T[Hamlet], _T[Hamlet].c.id == _T[Person].c.hamlet_id)
    .outerjoin(_T[Commune], _T[Commune].c.id == _T[Person].c.commune_id)
    .outerjoin(_T[Province], _T[Province].c.id == _T[Commune].c.province_id)
    .outerjoin(
        _CONV,
        and_(_CONV.c.channel == bindparam("channel"), _CONV.c.chat_id == bindparam("chat_id")),
    )
    .where(
        _T[Identity].c.channel == bindparam("channel"),
        _T[Identity].c.external_id == bindparam("user_id"),
    )
)
_READ_CONV = select(*_CONV_COLUMNS).where(
    _CONV.c.channel == bindparam("channel"), _CONV.c.chat_id == bindparam("chat_id")
)
_NEW_CONV = (
    insert(_CONV)
    .values({c: bindparam(f"v_{c.name}", type_=c.type) for c in _SAVED})
    .values(channel=bindparam("channel"), chat_id=bindparam("chat_id"), version=1)
    .returning(_CONV.c.id)
)
_SAVE_CONV = (
    update(_CONV)
    .where(_CONV.c.id == bindparam("b_id"), _CONV.c.version == bindparam("b_version"))
    .values({c: bindparam(f"v_{c.name}", type_=c.type) for c in _SAVED})
    .values(version=_CONV.c.version + 1)
)


# On PostgreSQL the update id is recorded in the same statement as the read: one round trip
# fewer on every update. (SQLite has no INSERT inside WITH; there both are in-process.)
_RECORDED = (
    text(
        "INSERT INTO processed_updates (channel, update_key, processed_at) "
        "VALUES (:channel, :update_key, :processed_at) "
        "ON CONFLICT (channel, update_key) DO NOTHING RETURNING 1 AS one"
    )
    .bindparams(bindparam("processed_at", type_=UTCDateTime()))
    .columns(column("one", Integer))
    .cte("recorded")
)
_FOUND = _CHAT.subquery("found")
_ARRIVAL = select(
    select(func.count()).select_from(_RECORDED).scalar_subquery().label("fresh"), *_FOUND.c
).select_from(select(literal(1).label("x")).subquery("one").outerjoin(_FOUND, true()))


async def arrival(
    session: AsyncSession,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    language: str,
    update_key: str | None,
) -> tuple[bool, Identity, bool, Conversation]:
    """An update's id recorded (True first when it was recorded already: a repeat), and
    chat_for's account and conversation."""
    keys = {"channel": channel, "chat_id": chat_id}
    bind = session.bind
    if not update_key or bind is None or bind.dialect.name != "postgresql":
        duplicate = bool(update_key) and await seen_before(session, channel, str(update_key))
        return duplicate, *await chat_for(
            session, channel=channel, user_id=user_id, chat_id=chat_id, language=language
        )
    params = {
        **keys,
        "user_id": user_id,
        "update_key": update_key,
        "processed_at": rounded(utcnow(), UPDATE_GRAIN),
    }
    row = (await session.execute(_ARRIVAL, params)).one()
    found = await _chat_from(session, row[1:], keys, user_id, language)
    return row[0] == 0, *found


async def chat_for(
    session: AsyncSession,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    language: str,
) -> tuple[Identity, bool, Conversation]:
    """The sender's account with its person, and the chat's conversation: one round trip.

    The account is created with a resident person on first contact (then True). The
    conversation is outside the session: save_conversation writes it."""
    keys = {"channel": channel, "chat_id": chat_id}
    values = {**keys, "user_id": user_id}
    raw = await sqlite3_of(session)
    row: Any
    if raw is not None:
        db, dialect = raw
        statement = prepared(_CHAT, dialect)
        row = statement.row(statement.run(db, values).fetchone())
    else:
        row = (await session.execute(_CHAT, values)).first()
    return await _chat_from(session, row, keys, user_id, language)


async def _chat_from(
    session: AsyncSession, row: Any, keys: dict[str, str], user_id: str, language: str
) -> tuple[Identity, bool, Conversation]:
    if row is None or row[0] is None:
        channel, chat_id = keys["channel"], keys["chat_id"]
        identity = await _new_identity(session, channel, user_id, chat_id, language)
        found = (await session.execute(_READ_CONV, keys)).first()
        conv = _as_conversation(found) if found else await _new_conversation(session, keys)
        return identity, True, conv
    identity = _account(session, row)
    if identity.blocked_at is not None:
        identity.blocked_at = None  # they wrote to us again: they unblocked the bot
    values = row[len(_ACCOUNT) :]
    if values[0] is None:  # the first update in this chat (a group, or an account linked anew)
        return identity, False, await _new_conversation(session, keys)
    return identity, False, _as_conversation(values)


def _account(session: AsyncSession, row: Any) -> Identity:
    """The account, person, hamlet, commune and province of a row of _CHAT, as the ORM
    would have loaded them (joined eagerly), each taken from the session if already there."""
    found: dict[type, Any] = {}
    at = 0
    for model, columns in _ADOPTED:
        values = row[at : at + len(columns)]
        at += len(columns)
        found[model] = None if values[0] is None else (model, columns, values)
    province = _adopt(session, found[Province], {})
    commune = _adopt(session, found[Commune], {"province": province})
    hamlet = _adopt(session, found[Hamlet], {})
    person = _adopt(session, found[Person], {"hamlet": hamlet, "commune": commune})
    return cast(Identity, _adopt(session, found[Identity], {"person": person}))


def _adopt(session: AsyncSession, found: Any, related: dict[str, Any]) -> Any:
    if found is None:
        return None
    model, columns, values = found
    known = session.identity_map.get((model, (values[0],), None))
    if known is not None:  # brought by an earlier update of this transaction: keep its changes
        return known
    obj = model.__mapper__.class_manager.new_instance()
    # Straight into the instance's state, as the ORM's loader does; what follows marks it
    # all as loaded (no SQL, no history).
    obj.__dict__.update(zip([c.key for c in columns], values, strict=True), **related)
    make_transient_to_detached(obj)
    session.add(obj)
    # Held for the transaction (the session keeps only weak references), so that the next
    # update of a batch finds its commune, province and hamlet already there.
    session.info.setdefault("adopted", []).append(obj)
    return obj


def _as_conversation(values: Any) -> Conversation:
    return Conversation(**{c.key: v for c, v in zip(_CONV_COLUMNS, values, strict=True)})


def _fields(conv: Conversation) -> dict[str, Any]:
    return {f"v_{c.name}": getattr(conv, c.key) for c in _SAVED}


async def _new_conversation(session: AsyncSession, keys: dict[str, str]) -> Conversation:
    conv = Conversation(
        **keys,
        flow=None,
        step=None,
        data={},
        state={},
        history=[],
        paused=False,
        menu=[],
        updated_at=utcday(),
        failed_codes=0,
        failed_codes_since=None,
        version=1,
    )
    conv.id = (await session.execute(_NEW_CONV, {**keys, **_fields(conv)})).scalar_one()
    return conv


async def save_conversation(session: AsyncSession, conv: Conversation) -> None:
    """Write a conversation read by chat_for; StaleDataError when someone else wrote it since
    (another worker on the same chat): the caller reads again and retries."""
    values = {"b_id": conv.id, "b_version": conv.version, **_fields(conv)}
    raw = await sqlite3_of(session)
    if raw is not None:
        db, dialect = raw
        statement = prepared(_SAVE_CONV, dialect)
        saved = statement.run(db, values).rowcount
    else:
        saved = (await session.execute(_SAVE_CONV, values)).rowcount  # type: ignore[attr-defined]
    if saved != 1:
        raise StaleDataError(f"conversation {conv.id} was written by someone else")
    conv.version += 1


async def _new_identity(
    session: AsyncSession, channel: str, user_id: str, chat_id: str, language: str
) -> Identity:
    person = Person(role=Role.RESIDENT, language=language)
    session.add(person)
    await session.flush()
    identity = Identity(person=person, channel=channel, external_id=user_id, chat_id=chat_id)
    session.add(identity)
    await session.flush()
    return identity


def touch(conv: Conversation, now: datetime) -> None:
    """Note that the chat was active: to the day, or while a draft is open to ten minutes
    rounded up, which is what the engine's "draft gone stale" check needs (it then fires
    between the timeout and ten minutes after it)."""
    conv.updated_at = (
        rounded(now, DRAFT_GRAIN, up=True) if conv.flow is not None else rounded(now, IDLE_GRAIN)
    )


async def load_person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id, populate_existing=True)
    assert person is not None
    return person


async def find_identity(
    *, session: AsyncSession, channel: str, external_id: str
) -> Identity | None:
    return await session.scalar(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    )


async def add_identity(
    *,
    session: AsyncSession,
    person_id: int,
    channel: str,
    external_id: str,
    chat_id: str,
) -> Identity:
    """Link a chat account to an existing person."""
    identity = Identity(
        person_id=person_id, channel=channel, external_id=external_id, chat_id=chat_id
    )
    session.add(identity)
    await session.flush()
    return identity


async def find_conversation(
    *, session: AsyncSession, channel: str, chat_id: str
) -> Conversation | None:
    """The chat's conversation, if it ever had one (chat_for creates it)."""
    return await session.scalar(
        select(Conversation).where(Conversation.channel == channel, Conversation.chat_id == chat_id)
    )
