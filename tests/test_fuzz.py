"""Random sequences of updates at random conversation states: every message answered, no
internal error, the database consistent afterwards."""

from __future__ import annotations

import asyncio
import itertools
import os
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from conversations.events import Incoming, MediaIn
from locales import t
from storage.db import make_engine, make_sessionmaker
from tests.helpers import make_commune, make_router

CHATS = ["head", "member", "officer", "stranger"]
JUNK = [
    "1",
    "2",
    "9",
    "0",
    "-3",
    "quay lai",
    "huy",
    "HỦY",
    "xong",
    "chay",
    "khong",
    "/start",
    "/menu",
    "/huy",
    "/cases",
    "/stats nam",
    "/export",
    "/lich",
    "/ngonngu",
    "/nope",
    "x" * 5000,
    "😀🙏🏽",
    unicodedata.normalize("NFD", "Trộm cắp"),
    "ព័ត៌មាន",
    "Tus Hmoob",
    "20/11 19h30",
    "hôm qua",
    "ABCD-EFGH-JKMN",
    "",
]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("press"), st.integers(0, 12)),  # a button shown in the last reply
        st.tuples(st.just("junk"), st.sampled_from(JUNK)),
        st.tuples(st.just("text"), st.text(max_size=80)),
        st.tuples(st.just("callback"), st.text(max_size=70)),
        st.tuples(st.just("media"), st.sampled_from(["photo", "video", "voice", "document"])),
        st.tuples(st.just("location"), st.tuples(st.floats(-90, 90), st.floats(-180, 180))),
        st.tuples(st.just("sticker"), st.none()),
        st.tuples(st.just("stale"), st.none()),  # the same update delivered again
    ),
    min_size=1,
    max_size=30,
)


class World:
    """One database for every example (the test database, SQLite or PostgreSQL, emptied
    first): each example chats in chats of its own."""

    def __init__(self, url: str) -> None:
        from datetime import UTC, datetime

        from tests.conftest import Clock, wipe

        self.loop = asyncio.new_event_loop()
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.loop.run_until_complete(wipe(self.sessions, url))
        self.loop.run_until_complete(make_commune(self.sessions))

        self.clock = Clock(datetime(2026, 11, 19, 12, tzinfo=UTC))
        self.router = make_router(self.sessions, self.clock)
        self.ids = itertools.count(1)


def _event(chat: str, kind: str, value: Any, last: list[Any], key: str) -> Incoming:
    base = {"channel": "telegram", "chat_id": chat, "user_id": chat, "update_key": key}
    if kind == "press":
        buttons = [b for r in last for b in r.flat_buttons()]
        if buttons:
            return Incoming(**base, callback=buttons[value % len(buttons)].data)
        return Incoming(**base, text="menu")
    if kind in ("junk", "text"):
        if value.startswith("/") and len(value) > 1:
            command, _, args = value[1:].partition(" ")
            return Incoming(**base, command=command, args=args)
        return Incoming(**base, text=value)
    if kind == "callback":
        return Incoming(**base, callback=value)
    if kind == "media":
        return Incoming(**base, media=MediaIn(value, f"f-{key}", 1000))
    if kind == "location":
        return Incoming(**base, location=value)
    return Incoming(**base)  # a sticker: nothing the bot reads


async def _consistent(world: World) -> None:
    """No orphans: every report has its hamlet in its commune, every file its record."""
    async with world.sessions() as session:
        checks = {
            "incident outside its commune": "SELECT count(*) FROM incidents i JOIN hamlets h "
            "ON h.id = i.hamlet_id WHERE h.commune_id <> i.commune_id",
            "activity outside its commune": "SELECT count(*) FROM activities a JOIN hamlets h "
            "ON h.id = a.hamlet_id WHERE h.commune_id <> a.commune_id",
            "orphan attachment": "SELECT count(*) FROM attachments f WHERE NOT EXISTS ("
            "SELECT 1 FROM incidents WHERE f.record_kind = 'incident' AND id = f.record_id "
            "UNION ALL SELECT 1 FROM activities WHERE f.record_kind = 'activity' "
            "AND id = f.record_id UNION ALL SELECT 1 FROM tips WHERE f.record_kind = 'tip' "
            "AND id = f.record_id)",
            "record without history": "SELECT count(*) FROM incidents i WHERE NOT EXISTS ("
            "SELECT 1 FROM status_history s WHERE s.record_kind = 'incident' "
            "AND s.record_id = i.id)",
            "two weekly reports for one week": "SELECT count(*) FROM (SELECT hamlet_id, "
            "week_start FROM weekly_reports GROUP BY hamlet_id, week_start "
            "HAVING count(*) > 1) d",
            "identity without a person": "SELECT count(*) FROM identities i LEFT JOIN people p "
            "ON p.id = i.person_id WHERE p.id IS NULL",
        }
        for what, sql in checks.items():
            assert (await session.scalar(text(sql))) == 0, what


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(chat=st.sampled_from(CHATS), sequence=steps)
def test_random_updates_are_always_answered_and_leave_the_database_consistent(
    world: World, chat: str, sequence: list[tuple[str, Any]]
) -> None:
    unexpected = t("vi", "error.unexpected")

    async def run() -> None:
        last: list[Any] = []
        previous = None
        for kind, value in sequence:
            if kind == "stale" and previous is not None:
                event = previous
            else:
                event = _event(chat, kind, value, last, f"{chat}-{next(world.ids)}")
            replies = await world.router.handle(event)
            assert replies, f"silence after {event}"
            assert all(r.text for r in replies)
            assert not any(unexpected in r.text for r in replies), f"internal error at {event}"
            last, previous = replies, event
            world.clock.advance(minutes=7)  # now and then past the draft timeout
        await _consistent(world)

    world.loop.run_until_complete(run())
