"""Storage services called directly: who hears about cases, who is reminded, what runs once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from storage import admin, digests, duty, invites, tips
from storage.cases import Chat, officer_chats
from storage.enums import Role, Status
from storage.models import Commune, Hamlet, OutboxMessage, Person, Tip
from storage.outbox import enqueue
from storage.periods import containing
from storage.reminders import HeadChat, hamlet_head_chats, missing_hamlets
from storage.reports import save_weekly_report
from storage.schedules import (
    claim_run,
    commune_schedule,
    enabled_schedules,
    enabled_timings,
    ensure_defaults,
    set_schedule,
)
from tests.helpers import link, make_commune

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 in Vietnam
WEEK = date(2026, 11, 16)
LAST_WEEK = WEEK - timedelta(days=7)


async def _person(session, commune_id: int, chat: str, role: Role, **fields) -> Person:
    person = Person(full_name=chat, role=role, commune_id=commune_id, **fields)
    session.add(person)
    await session.flush()
    await link(session, person, chat)
    return person


async def _officer_chats(sessions, commune_id: int, duty_first: bool, language: str = "vi"):
    async with sessions() as session:
        return await officer_chats(
            session=session, commune_id=commune_id, duty_first=duty_first, language=language
        )


async def test_officer_chats_are_the_duty_chats_first_else_each_active_officer(sessions):
    c = await make_commune(sessions)
    other = await make_commune(sessions, name="Phước An", prefix="b-")
    async with sessions() as session, session.begin():
        await _person(session, c.id, "chief", Role.ADMIN, language="en")
        await _person(session, c.id, "retired", Role.OFFICER, active=False)
        officer = await session.get(Person, c.officer)
        blocked = await link(session, officer, "officer-zalo", channel="zalo")
        blocked.blocked_at = NOW
    officers = [Chat("telegram", "officer", "vi"), Chat("telegram", "chief", "en")]
    # No duty chat yet: every active officer and admin, in their own language.
    assert await _officer_chats(sessions, c.id, duty_first=True) == officers
    assert await _officer_chats(sessions, c.id, duty_first=False) == officers

    async with sessions() as session, session.begin():
        for commune_id, channel, chat_id in (
            (c.id, "telegram", "-100duty"),
            (c.id, "zalo", "zalo-duty"),
            (other.id, "telegram", "-100other"),
        ):
            await duty.link(
                session=session,
                commune_id=commune_id,
                channel=channel,
                chat_id=chat_id,
                person_id=c.officer,
                now=NOW,
            )
    assert await _officer_chats(sessions, c.id, duty_first=True, language="en") == [
        Chat("telegram", "-100duty", "en"),
        Chat("zalo", "zalo-duty", "en"),
    ]
    assert await _officer_chats(sessions, c.id, duty_first=False) == officers
    assert await _officer_chats(sessions, other.id, duty_first=False) == [
        Chat("telegram", "b-officer", "vi")
    ]


async def test_linking_a_duty_chat_replaces_the_one_before_on_that_channel(sessions):
    c = await make_commune(sessions)
    for chat_id, at in (("-100old", NOW), ("-100new", NOW + timedelta(hours=1))):
        async with sessions() as session, session.begin():
            linked, _ = await duty.link(
                session=session,
                commune_id=c.id,
                channel="telegram",
                chat_id=chat_id,
                person_id=c.officer,
                now=at,
            )
    assert (linked.chat_id, linked.linked_by, linked.linked_at) == (
        "-100new",
        c.officer,
        NOW + timedelta(hours=1),
    )
    assert await _officer_chats(sessions, c.id, duty_first=True) == [
        Chat("telegram", "-100new", "vi")
    ]


async def _hamlets(session, commune_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Hamlet.name, Hamlet.id).where(Hamlet.commune_id == commune_id)
    )
    return dict(rows.all())


async def test_missing_hamlets_are_those_without_a_report_for_that_week(sessions):
    c = await make_commune(sessions)
    await make_commune(sessions, name="Phước An", prefix="b-")  # its hamlets report nothing
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        await admin.add_hamlet(session, commune, "Bình An")
        ids = await _hamlets(session, c.id)
        for hamlet, monday in (("Phú Mỹ", WEEK), ("An Lạc", LAST_WEEK)):
            await save_weekly_report(
                session,
                hamlet_id=ids[hamlet],
                commune_id=c.id,
                monday=monday,
                reporter_id=None,
                figures={"quiet": True},
                tz=TZ,
                now=NOW,
            )
    async with sessions() as session:
        this_week = await missing_hamlets(session=session, commune_id=c.id, monday=WEEK)
        last_week = await missing_hamlets(session=session, commune_id=c.id, monday=LAST_WEEK)
        before = await missing_hamlets(
            session=session, commune_id=c.id, monday=LAST_WEEK - timedelta(days=7)
        )
    assert [h.name for h in this_week] == ["An Lạc", "Bình An"]
    assert [h.name for h in last_week] == ["Bình An", "Phú Mỹ"]
    assert [h.name for h in before] == ["An Lạc", "Bình An", "Phú Mỹ"]


async def test_reminders_reach_only_the_active_heads_of_the_hamlets_asked_for(sessions):
    c = await make_commune(sessions)  # Phú Mỹ's head is on "head", a team member on "member"
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        binh_an = await admin.add_hamlet(session, commune, "Bình An")
        ids = await _hamlets(session, c.id)
        an_lac = await _person(
            session, c.id, "head-an-lac", Role.HAMLET_HEAD, hamlet_id=ids["An Lạc"], language="en"
        )
        blocked = await link(session, an_lac, "head-an-lac-zalo", channel="zalo")
        blocked.blocked_at = NOW
        await _person(
            session, c.id, "head-binh-an", Role.HAMLET_HEAD, hamlet_id=binh_an.id, active=False
        )
    async with sessions() as session:
        both = await hamlet_head_chats(session=session, hamlet_ids=[ids["Phú Mỹ"], ids["An Lạc"]])
        one = await hamlet_head_chats(session=session, hamlet_ids=[ids["An Lạc"]])
        inactive = await hamlet_head_chats(session=session, hamlet_ids=[binh_an.id])
        none = await hamlet_head_chats(session=session, hamlet_ids=[])
    assert both == [
        HeadChat("telegram", "head", "vi", ids["Phú Mỹ"]),
        HeadChat("telegram", "head-an-lac", "en", ids["An Lạc"]),
    ]
    assert one == [HeadChat("telegram", "head-an-lac", "en", ids["An Lạc"])]
    assert inactive == [] and none == []


async def _outbox_count(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_job_runs_once_per_occasion_and_a_second_claim_keeps_the_first_work(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        assert await claim_run(
            session=session, commune_id=c.id, job="remind", run_key=WEEK.isoformat(), now=NOW
        )
        await enqueue(session, channel="telegram", chat_id="head", text="nhắc", now=NOW)
        # The same occasion again in the same transaction: refused, and the reminder stays.
        assert not await claim_run(
            session=session, commune_id=c.id, job="remind", run_key=WEEK.isoformat(), now=NOW
        )
        assert await claim_run(
            session=session, commune_id=c.id, job="remind_again", run_key=WEEK.isoformat(), now=NOW
        )
        assert await claim_run(
            session=session, commune_id=c.id, job="remind", run_key="2026-11-23", now=NOW
        )
    async with sessions() as session, session.begin():  # a restart, or another worker
        assert not await claim_run(
            session=session, commune_id=c.id, job="remind", run_key=WEEK.isoformat(), now=NOW
        )
    assert await _outbox_count(sessions) == 1


async def test_a_digest_is_recorded_once_per_commune_kind_and_period(sessions):
    c = await make_commune(sessions)
    week = containing("week", WEEK)
    async with sessions() as session, session.begin():
        assert not await digests.queued_before(
            session=session, commune_id=c.id, kind="weekly", period_start=week.start
        )
        assert await digests.record_run(
            session=session, commune_id=c.id, kind="weekly", period=week, now=NOW, late=True
        )
        assert await digests.queued_before(
            session=session, commune_id=c.id, kind="weekly", period_start=week.start
        )
    async with sessions() as session, session.begin():
        assert not await digests.record_run(
            session=session, commune_id=c.id, kind="weekly", period=week, now=NOW
        )
        assert await digests.record_run(
            session=session,
            commune_id=c.id,
            kind="monthly",
            period=containing("month", WEEK),
            now=NOW,
        )
        assert not await digests.queued_before(
            session=session,
            commune_id=c.id,
            kind="weekly",
            period_start=week.start + timedelta(days=7),
        )


async def test_disabled_schedules_are_left_out_and_lookups_of_what_is_gone_find_nothing(
    sessions,
):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        await ensure_defaults(session)
        await set_schedule(session, c.id, "purge", None, enabled=False)
    async with sessions() as session:
        timings = await enabled_timings(session=session)
        schedules = await enabled_schedules(session=session)
        found = await commune_schedule(session=session, commune_id=c.id, job="remind")
        unknown_job = await commune_schedule(session=session, commune_id=c.id, job="nothing")
        unknown_commune = await commune_schedule(session=session, commune_id=c.id + 1, job="remind")
    jobs = {(t.commune_id, t.job) for t in timings}
    assert (c.id, "purge") not in jobs and (c.id, "remind") in jobs and len(jobs) == 6
    remind = next(t for t in timings if t.job == "remind")
    assert (remind.cron, remind.timezone) == ("0 16 * * fri", "Asia/Ho_Chi_Minh")
    assert {(s.commune_id, s.job) for s, _ in schedules} == jobs
    assert all(commune.id == c.id for _, commune in schedules)
    assert found is not None and found[0].id == c.id and found[1].cron == "0 16 * * fri"
    assert unknown_job is None and unknown_commune is None


async def test_a_sender_sees_only_their_open_tips_newest_first(sessions):
    c = await make_commune(sessions)
    other = await make_commune(sessions, name="Phước An", prefix="b-")
    async with sessions() as session, session.begin():
        for day in range(1, 11):
            session.add(
                Tip(
                    case_code=f"TB-MINE{day:02d}",
                    commune_id=c.id,
                    reporter_key="me",
                    received_at=NOW - timedelta(days=day),
                    status=Status.CLOSED if day == 1 else Status.NEW,
                )
            )
        session.add(Tip(case_code="TB-THEIRS", commune_id=c.id, reporter_key="someone"))
    async with sessions() as session:
        mine = await tips.open_tips_of(session=session, reporter_key="me")
        closed = await tips.tip_of(session=session, code="TB-MINE01", reporter_key="me")
        theirs = await tips.tip_of(session=session, code="TB-THEIRS", reporter_key="me")
        communes = await tips.communes(session=session)
    assert [t.case_code for t in mine] == [f"TB-MINE{day:02d}" for day in range(2, 10)]
    assert closed is not None and closed.status == Status.CLOSED
    assert theirs is None
    assert [x.id for x in communes] == [other.id, c.id]  # by name: Phước An, Tân Hòa


async def test_an_invite_is_found_by_its_stored_code(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        officer = await session.get(Person, c.officer)
        invite = await admin.issue_invite(session, officer, ttl_days=7)
    async with sessions() as session:
        found = await invites.by_code(session=session, code=invite.code)
        missing = await invites.by_code(session=session, code="0" * 12)
    assert found is not None and found.person_id == c.officer
    assert missing is None
