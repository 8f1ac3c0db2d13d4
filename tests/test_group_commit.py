"""Group commit and the lean per-update path: updates ready together share one transaction;
one that fails costs the others nothing; a chat's updates keep their order; a conversation
written by someone else in between is never overwritten."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from conversations.events import Incoming, Reply
from storage.models import Conversation, Incident
from storage.queries import chat_for, save_conversation
from tests.conftest import PG_URL
from tests.helpers import Chat, make_commune, make_router

_keys = itertools.count(900_000)


def event(chat: str, **fields: object) -> Incoming:
    fields.setdefault("update_key", str(next(_keys)))
    return Incoming("telegram", chat, chat, **fields)  # type: ignore[arg-type]


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def flow_of(sessions, chat: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(Conversation.flow).where(Conversation.chat_id == chat))


def failing_for(router, chat: str) -> None:
    """A fault in the handling of one chat's updates (a bug, say): it raises."""
    handle = router.engine.handle

    async def broken(ctx, conv, incoming):
        if ctx.event.chat_id == chat:
            raise RuntimeError("a fault in one update")
        return await handle(ctx, conv, incoming)

    router.engine.handle = broken


async def test_a_failing_update_in_a_batch_costs_the_others_nothing(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    for chat in ("head", "member", "officer"):
        await Chat(router, chat).command("start")
    failing_for(router, "member")

    head, member, officer = await router.handle_batch(
        [
            event("head", callback="m:incident"),
            event("member", callback="m:incident"),
            event("officer", command="start"),
        ]
    )

    assert "Vụ việc thuộc loại nào?" in texts(head)
    assert "có lỗi khi xử lý tin vừa rồi" in texts(member)  # told, and asked to send it again
    assert officer and "có lỗi" not in texts(officer)
    assert all(r.chat_id == c for rs, c in ((head, "head"), (officer, "officer")) for r in rs)
    assert await flow_of(sessions, "head") == "incident"  # its answer kept
    assert await flow_of(sessions, "member") is None  # nothing half-written


async def test_a_batch_whose_transaction_fails_is_replayed_and_keeps_each_report_once(
    sessions, clock
):
    """A report submitted in the same batch as an update whose database work fails: the
    whole batch is rolled back, then replayed update by update, so the report is kept once."""
    await make_commune(sessions)
    router = make_router(sessions, clock)
    member = Chat(router, "member")
    await member.command("start")
    for label in ("Báo vụ việc", "Trộm cắp", "Vừa xong", "Tại Thôn"):
        await member.tap(label)
    await member.say("Mất xe đạp")
    await member.tap("Không có ảnh")
    await member.tap("Bình thường")
    await Chat(router, "head").command("start")
    handle = router.engine.handle

    async def breaks_the_transaction(ctx, conv, incoming):
        if ctx.event.chat_id == "head":
            ctx.session.add(Incident())  # no commune, no category: the database refuses it
            await ctx.session.flush()
        return await handle(ctx, conv, incoming)

    router.engine.handle = breaks_the_transaction
    submitted, head = await router.handle_batch(
        [event("member", callback=member.button("Gửi").data), event("head", text="xin chào")]
    )
    assert "Vụ việc thuộc loại nào?" not in texts(submitted) and submitted[-1].buttons
    assert "bận" in texts(head)  # told it was not kept, and to send it again
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Incident)) == 1
    assert await flow_of(sessions, "member") is None  # the report is in, the draft closed


async def test_a_chats_updates_in_one_batch_are_answered_in_order(sessions, clock):
    await make_commune(sessions)
    await make_commune(sessions, name="Tân Phú", prefix="b")
    router = make_router(sessions, clock)
    steps = [
        {"command": "start"},
        {"callback": "m:incident"},
        {"callback": "o:category:theft"},
        {"callback": "o:when:now"},
    ]
    one_by_one = [texts(await router.handle(event("bmember", **s))) for s in steps]
    batch = [event("member", **s) for s in steps]
    batch.insert(2, event("head", command="start"))  # another chat's update among them
    together = await router.handle_batch(batch)
    del together[2]
    assert [texts(r) for r in together] == one_by_one
    async with sessions() as session:
        step = await session.scalar(
            select(Conversation.step).where(Conversation.chat_id == "member")
        )
    assert step == "where"


async def test_replies_come_once_their_answers_are_committed(sessions, clock):
    """Through group commit, updates sent at once by many chats: each reply arrives only
    when its answer is in the database, whatever batch it went in."""
    await make_commune(sessions)
    router = make_router(sessions, clock)
    failing_for(router, "officer")

    async def send(chat: str, **fields: object) -> tuple[list[Reply], str | None]:
        replies = await router.group.handle(event(chat, **fields))
        return replies, await flow_of(sessions, chat)  # read the moment the reply is back

    results = await asyncio.gather(
        send("head", command="start"),
        send("member", command="start"),
        send("officer", command="start"),
    )
    results += await asyncio.gather(
        send("head", callback="m:weekly"),
        send("member", callback="m:incident"),
        send("officer", callback="m:incident"),
    )
    *_, (_, head_flow), (member, member_flow), (officer, _) = results
    assert head_flow == "weekly" and member_flow == "incident"
    assert "Vụ việc thuộc loại nào?" in texts(member)
    assert "có lỗi khi xử lý tin vừa rồi" in texts(officer)
    assert await flow_of(sessions, "officer") is None


async def test_a_conversation_written_by_someone_else_meanwhile_is_not_overwritten(sessions):
    """Two writers on one chat (two workers, say): the one that read first and saves last
    is refused, so that it reads again instead of undoing the other's answer."""
    await make_commune(sessions)
    keys = {"channel": "telegram", "user_id": "member", "chat_id": "member", "language": "vi"}
    async with sessions() as session, session.begin():
        await chat_for(session, **keys)  # the conversation, made once
    async with sessions() as late, late.begin():
        _, _, stale = await chat_for(late, **keys)
        async with sessions() as first, first.begin():
            _, _, fresh = await chat_for(first, **keys)
            fresh.flow, fresh.step = "incident", "category"
            await save_conversation(first, fresh)
        stale.flow = "weekly"
        with pytest.raises(StaleDataError):
            await save_conversation(late, stale)
    assert await flow_of(sessions, "member") == "incident"


@pytest.mark.skipif(
    not PG_URL, reason="SQLite has one writer: a second cannot write while the first works"
)
async def test_a_reader_again_after_a_conflict_continues_from_the_others_answer(sessions, clock):
    """The router's side of the version check: a save refused is retried on a fresh read."""
    await make_commune(sessions)
    router = make_router(sessions, clock)
    member = Chat(router, "member")
    await member.command("start")
    handle = router.engine.handle
    interfered = False

    async def meanwhile(ctx, conv, incoming):
        nonlocal interfered
        if not interfered:  # another worker answers for this chat while this one works
            interfered = True
            other = make_router(sessions, clock)
            await other.handle(event("member", callback="m:incident"))
        return await handle(ctx, conv, incoming)

    router.engine.handle = meanwhile
    replies = await member.send(callback="o:category:theft")
    assert "Xảy ra lúc nào?" in texts(replies)  # the theft answered the other's question
    async with sessions() as session:
        conv = await session.scalar(select(Conversation).where(Conversation.chat_id == "member"))
    assert conv is not None and conv.flow == "incident" and conv.step == "when"


async def test_an_update_delivered_twice_in_one_batch_is_acted_on_once(sessions, clock):
    await make_commune(sessions)
    router = make_router(sessions, clock)
    await Chat(router, "member").command("start")
    twice = event("member", callback="m:incident")
    first, again = await router.handle_batch([twice, twice])
    assert texts(first) == texts(again)  # the repeat is answered with where the chat stands
    async with sessions() as session:
        conv = await session.scalar(select(Conversation).where(Conversation.chat_id == "member"))
    assert conv is not None and conv.flow == "incident" and conv.step == "category"


@pytest.mark.skipif(not PG_URL, reason="server-side connections are PostgreSQL's")
async def test_after_the_database_dropped_idle_connections_the_next_update_is_answered(
    sessions, clock
):
    """No ping before each update: a pooled connection found dead is replaced, and the
    update run again on a new one, so the person never sees the restart."""
    from sqlalchemy import text

    from storage.db import make_engine

    await make_commune(sessions)
    router = make_router(sessions, clock)
    member = Chat(router, "member")
    await member.command("start")
    async with router.sessions() as session:  # the one connection the bot's pool holds
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
    killer = make_engine(PG_URL)  # from outside, as a database restart would
    async with killer.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await killer.dispose()
    replies = await member.tap("Báo vụ việc")
    assert "Vụ việc thuộc loại nào?" in texts(replies)


async def test_an_officers_statistics_among_a_batch_are_answered_in_their_place(sessions, clock):
    """A long read (statistics, criteria, an export) goes alone, off the batch, and the
    updates around it keep their order."""
    await make_commune(sessions)
    router = make_router(sessions, clock)
    for chat in ("member", "officer"):
        await Chat(router, chat).command("start")
    member_start, stats, member_incident, officer_menu = await router.handle_batch(
        [
            event("member", callback="m:incident"),
            event("officer", command="thongke", args="thang"),
            event("member", callback="o:category:theft"),
            event("officer", command="menu"),
        ]
    )
    assert "Vụ việc thuộc loại nào?" in texts(member_start)
    assert "BÁO CÁO THÁNG 11/2026" in stats[0].text and stats[0].photo
    assert "Xảy ra lúc nào?" in texts(member_incident)
    assert officer_menu and officer_menu[-1].buttons


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's one write lock")
async def test_while_another_connection_holds_the_write_lock_the_update_waits_and_is_answered(
    sessions, clock
):
    """The outbox or the scheduler writing at that moment on SQLite: the update waits for
    the lock (the bot answering other chats meanwhile) instead of failing."""
    from sqlalchemy import text

    await make_commune(sessions)
    router = make_router(sessions, clock)
    member = Chat(router, "member")
    await member.command("start")
    locked = asyncio.Event()

    async def hold() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE communes SET name = name"))
            locked.set()
            await asyncio.sleep(1.0)

    holder = asyncio.create_task(hold())
    await locked.wait()
    replies = await member.tap("Báo vụ việc")
    await holder
    assert "Vụ việc thuộc loại nào?" in texts(replies)
