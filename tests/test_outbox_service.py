"""The outbox's storage functions, called as the dispatcher calls them: each in a transaction."""

from __future__ import annotations

import os
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import outbox
from storage.models import Identity, OutboxMessage
from storage.queries import find_identity
from tests.helpers import make_commune

PG = os.environ.get("TEST_DATABASE_URL", "")
T0 = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
STUCK = timedelta(minutes=5)

Sessions = async_sessionmaker[AsyncSession]


async def _write(
    sessions: Sessions, chat_id: str, text: str, channel: str = "telegram", now: datetime = T0
) -> int:
    async with sessions() as session, session.begin():
        row = await outbox.enqueue(session, channel=channel, chat_id=chat_id, text=text, now=now)
        return row.id


async def _claim(
    sessions: Sessions,
    now: datetime = T0,
    *,
    channels: Collection[str] = ("telegram", "zalo"),
    batch: int = 100,
    held_ids: Collection[int] = (),
) -> list[OutboxMessage]:
    async with sessions() as session, session.begin():
        return await outbox.claim(
            session=session,
            now=now,
            channels=channels,
            batch=batch,
            stuck_before=now - STUCK,
            held_ids=held_ids,
        )


async def _sent(sessions: Sessions, rows: list[OutboxMessage], now: datetime = T0) -> list[str]:
    """Mark claimed rows sent, as the dispatcher does after each send; their texts."""
    for row in rows:
        async with sessions() as session, session.begin():
            await outbox.mark_sent(session=session, row_id=row.id, now=now)
    return [row.text for row in rows]


async def _fail(
    sessions: Sessions,
    row: OutboxMessage,
    *,
    final: bool,
    retry_at: datetime = T0,
    blocked: bool = False,
    now: datetime = T0,
) -> None:
    async with sessions() as session, session.begin():
        await outbox.record_failure(
            session=session,
            row_id=row.id,
            now=now,
            final=final,
            not_before=retry_at,
            error="403 Forbidden: bot was blocked by the user" if blocked else "502 Bad Gateway",
            blocked_chat=(row.channel, row.chat_id) if blocked else None,
        )


async def _overview(sessions: Sessions) -> outbox.Overview:
    async with sessions() as session:
        return await outbox.overview(session=session)


async def test_a_claimed_message_is_handed_out_once(sessions):
    await _write(sessions, "100", "tin 1")
    [row] = await _claim(sessions)
    assert (row.text, row.status, row.attempts) == ("tin 1", "sending", 1)
    assert await _claim(sessions) == []  # while it is being sent, nobody else gets it
    await _write(sessions, "100", "tin 2")
    assert await _claim(sessions) == []  # nor the chat's next message: it would overtake
    assert await _sent(sessions, [row]) == ["tin 1"]
    [after] = await _claim(sessions)
    assert await _sent(sessions, [after]) == ["tin 2"]
    assert await _claim(sessions, T0 + STUCK * 3) == []  # sent: never again
    assert (await _overview(sessions)).counts == {
        "pending": 0,
        "sending": 0,
        "sent": 2,
        "failed": 0,
    }


async def test_messages_not_yet_due_or_of_another_channel_wait(sessions):
    await _write(sessions, "100", "later", now=T0 + timedelta(minutes=1))
    await _write(sessions, "200", "zalo", channel="zalo")
    assert await _claim(sessions, channels=["telegram"]) == []
    [row] = await _claim(sessions, T0 + timedelta(minutes=1), channels=["telegram"])
    assert row.text == "later"


async def test_a_batch_takes_the_oldest_first(sessions):
    for n in range(5):
        await _write(sessions, str(100 + n), f"tin {n}")
    assert [r.text for r in await _claim(sessions, batch=3)] == ["tin 0", "tin 1", "tin 2"]
    assert [r.text for r in await _claim(sessions, batch=3)] == ["tin 3", "tin 4"]


async def test_a_chats_later_message_waits_for_an_earlier_one_being_retried(sessions):
    await _write(sessions, "777", "tin 777 #0")
    [first] = await _claim(sessions)
    await _fail(sessions, first, final=False, retry_at=T0 + timedelta(seconds=30))
    await _write(sessions, "777", "tin 777 #1")
    await _write(sessions, "888", "tin 888 #0")
    # The second message is due, but must not overtake the first; other chats go on.
    assert [r.text for r in await _claim(sessions)] == ["tin 888 #0"]
    again = await _claim(sessions, T0 + timedelta(seconds=30))
    assert [(r.text, r.attempts) for r in again] == [("tin 777 #0", 2), ("tin 777 #1", 1)]


async def test_a_message_left_sending_by_a_dead_process_is_sent_again(sessions):
    await _write(sessions, "100", "tin 1")
    [row] = await _claim(sessions)  # ... and the process dies before the send is recorded
    assert await _claim(sessions, T0 + STUCK) == []  # not yet: it may still be under way
    # A dispatcher waiting for a send slot still holds it, however long that takes.
    assert await _claim(sessions, T0 + STUCK * 2, held_ids=[row.id]) == []
    [again] = await _claim(sessions, T0 + STUCK * 2)
    assert (again.id, again.text, again.attempts) == (row.id, "tin 1", 2)


async def test_deferred_messages_come_back_later_in_order_without_an_attempt_counted(sessions):
    await _write(sessions, "100", "tin 1")
    await _write(sessions, "100", "tin 2")
    rows = await _claim(sessions)
    assert [r.text for r in rows] == ["tin 1", "tin 2"]
    async with sessions() as session, session.begin():  # the rate limit: not now
        await outbox.defer(
            session=session, row_ids=[r.id for r in rows], until=T0 + timedelta(seconds=3)
        )
    assert await _claim(sessions, T0 + timedelta(seconds=2)) == []
    again = await _claim(sessions, T0 + timedelta(seconds=3))
    assert [(r.text, r.attempts) for r in again] == [("tin 1", 1), ("tin 2", 1)]


async def test_a_final_failure_is_not_sent_again_and_is_listed(sessions):
    await _write(sessions, "12345678", "tin 1")
    [row] = await _claim(sessions)
    await _fail(sessions, row, final=True)
    assert await _claim(sessions, T0 + timedelta(days=1)) == []
    listed = await _overview(sessions)
    assert listed.counts["failed"] == 1
    assert [(r.text, r.last_error) for r in listed.failed] == [("tin 1", "502 Bad Gateway")]


async def test_a_chat_that_blocked_the_bot_gets_nothing_more(sessions):
    await make_commune(sessions)  # links the chats "head", "member" and "officer"
    await _write(sessions, "head", "head #0")
    await _write(sessions, "member", "member #0")
    first = await _claim(sessions)
    assert [r.text for r in first] == ["head #0", "member #0"]
    await _fail(sessions, first[0], final=True, blocked=True)
    await _sent(sessions, first[1:])
    async with sessions() as session:
        head = await find_identity(session=session, channel="telegram", external_id="head")
        member = await find_identity(session=session, channel="telegram", external_id="member")
    # Noted to the day: the time of a failed message to a tipster would name its tip.
    assert isinstance(head, Identity) and head.blocked_at == T0.replace(hour=0, minute=0)
    assert isinstance(member, Identity) and member.blocked_at is None
    for message in ("head #1", "member #1", "head #2"):
        await _write(sessions, message.split()[0], message)
    assert [r.text for r in await _claim(sessions)] == ["member #1"]
    listed = await _overview(sessions)
    assert listed.counts == {"pending": 0, "sending": 1, "sent": 1, "failed": 3}
    assert [(r.text, r.attempts) for r in listed.failed] == [
        ("head #2", 0),
        ("head #1", 0),
        ("head #0", 1),
    ]
    assert [r.last_error for r in listed.failed[:2]] == [outbox.BLOCKED] * 2


async def test_given_up_messages_fail_without_being_tried(sessions):
    await _write(sessions, "100", "tin 1")
    rows = await _claim(sessions)
    async with sessions() as session, session.begin():
        await outbox.give_up(session=session, row_ids=[r.id for r in rows], reason=outbox.BLOCKED)
    assert await _claim(sessions, T0 + timedelta(days=1)) == []
    [row] = (await _overview(sessions)).failed
    assert (row.attempts, row.last_error) == (1, outbox.BLOCKED)


async def test_failed_messages_are_sent_again_on_request(sessions):
    for n in range(3):
        await _write(sessions, str(100 + n), f"tin {n}")
    rows = await _claim(sessions)
    await _fail(sessions, rows[0], final=True)
    await _fail(sessions, rows[2], final=True)
    await _sent(sessions, rows[1:2])
    async with sessions() as session, session.begin():
        count = await outbox.retry_failed(session=session, now=T0 + timedelta(hours=1))
    assert count == 2
    assert (await _overview(sessions)).counts == {
        "pending": 2,
        "sending": 0,
        "sent": 1,
        "failed": 0,
    }
    again = await _claim(sessions, T0 + timedelta(hours=1))
    assert [(r.text, r.attempts) for r in again] == [("tin 0", 1), ("tin 2", 1)]


async def test_the_listing_counts_every_state_and_shows_the_latest_failures(sessions):
    for n in range(6):
        await _write(sessions, str(100 + n), f"tin {n}")
    rows = await _claim(sessions, batch=5)  # tin 5 stays pending
    await _sent(sessions, rows[:1])
    for row in rows[1:3]:
        await _fail(sessions, row, final=True)
    # tin 3 and tin 4 are still being sent
    async with sessions() as session:
        listed = await outbox.overview(session=session, failed_limit=1)
    assert listed.counts == {"pending": 1, "sending": 2, "sent": 1, "failed": 2}
    assert [r.text for r in listed.failed] == ["tin 2"]


@pytest.mark.skipif(not PG, reason="row locks are PostgreSQL's: set TEST_DATABASE_URL")
async def test_two_claims_at_once_share_out_the_messages(sessions):
    for n in range(4):
        await _write(sessions, str(100 + n), f"tin {n}")
    async with sessions() as first, first.begin(), sessions() as second, second.begin():
        kwargs = {"now": T0, "channels": ["telegram"], "batch": 2, "stuck_before": T0 - STUCK}
        mine = await outbox.claim(session=first, **kwargs)
        await second.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail rather than hang
        theirs = await outbox.claim(session=second, **kwargs)  # skips the rows locked above
    assert [r.text for r in mine] == ["tin 0", "tin 1"]
    assert [r.text for r in theirs] == ["tin 2", "tin 3"]


async def test_a_message_to_a_tipster_leaves_no_row_once_sent_or_given_up(sessions):
    """Ephemeral rows: deleted when sent, when they fail for good, when given up and when
    their chat blocked the bot; a retry keeps them until then. Other rows stay as they were."""
    await make_commune(sessions)

    async def write(chat_id: str, text: str, ephemeral: bool = True) -> None:
        async with sessions() as session, session.begin():
            await outbox.enqueue(
                session, channel="telegram", chat_id=chat_id, text=text, now=T0, ephemeral=ephemeral
            )

    async def texts() -> list[str]:
        async with sessions() as session:
            return list((await session.scalars(select(OutboxMessage.text))).all())

    await write("t-1", "question, sent")
    await write("t-2", "question, failing")
    await write("t-3", "question, given up")
    await write("officer", "tip for officers", ephemeral=False)
    sent, failing, given_up, kept = await _claim(sessions)
    await _sent(sessions, [sent, kept])
    await _fail(sessions, failing, final=False, retry_at=T0)
    async with sessions() as session, session.begin():
        await outbox.give_up(session=session, row_ids=[given_up.id], reason="stopping")
    assert sorted(await texts()) == ["question, failing", "tip for officers"]
    [again] = await _claim(sessions)
    await _fail(sessions, again, final=True)
    assert await texts() == ["tip for officers"]
    await write("head", "to a chat that blocked the bot")
    [blocked] = await _claim(sessions)
    await _fail(sessions, blocked, final=True, blocked=True)
    await write("head", "one more")
    assert await _claim(sessions) == []
    assert await texts() == ["tip for officers"]
    assert (await _overview(sessions)).counts["sent"] == 1


async def test_only_a_channels_sender_takes_back_its_rows_left_sending(sessions):
    """The worker sending the console must not take the Telegram sender's rows as left by a
    dead process, however long they wait for a send slot."""
    await _write(sessions, "100", "tin 1")
    [row] = await _claim(sessions, channels=["telegram"])
    late = T0 + STUCK * 2
    assert await _claim(sessions, late, channels=["console"]) == []
    # Still its sender's: not handed out again while that sender holds it.
    assert await _claim(sessions, late, channels=["telegram"], held_ids=[row.id]) == []
    [again] = await _claim(sessions, late, channels=["telegram"])  # its sender died
    assert (again.id, again.attempts) == (row.id, 2)
