"""storage.cases called directly, with a session and a person and no chat: what a web page,
the command line or a scheduled job sees when it acts on a case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import cases, way_back
from storage.enums import HistoryEntry, RecordKind, Severity, Status
from storage.identity import pseudonym
from storage.keyring import Keyring
from storage.models import Person
from storage.queries import load_person
from storage.reports import add_incident, add_tip
from tests.helpers import SECRET, TIP_KEYS, make_commune

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _incident(session, c, *, severity=Severity.ORDINARY, hours_ago=1, category="theft"):
    return await add_incident(
        session,
        commune_id=c.id,
        hamlet_id=c.hamlet_id,
        reporter_id=c.head,
        category=category,
        severity=severity,
        occurred_at=NOW - timedelta(hours=hours_ago),
        received_at=NOW - timedelta(hours=hours_ago),
        description=f"{category} {hours_ago}",
    )


async def _tip(session, c, *, hours_ago=2, chat="tipster"):
    return await add_tip(
        session,
        commune_id=c.id,
        hamlet_id=None,
        reporter_key=pseudonym(SECRET, "telegram", chat),
        description="có người lạ",
        received_at=NOW - timedelta(hours=hours_ago),
    )


async def test_a_case_is_acknowledged_assigned_noted_and_closed_from_a_shell(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        officer = await load_person(session, c.officer)
        incident = await _incident(session, c)
        record = await cases.get(
            session=session, person=officer, kind=RecordKind.INCIDENT, case_id=incident.id
        )
        assert record is incident

        told = await cases.acknowledge(
            session=session, person=officer, record=record, now=NOW, keys=TIP_KEYS
        )
        assert [chat.chat_id for chat in told or []] == ["head"]  # the reporter hears of it
        again = await cases.acknowledge(
            session=session, person=officer, record=record, now=NOW, keys=TIP_KEYS
        )
        assert again is None  # already acknowledged: nobody is told twice

        member = await load_person(session, c.member)
        officer2 = Person(full_name="Phạm Văn Bình", role="officer", commune_id=c.id)
        session.add(officer2)
        await session.flush()
        refused = await cases.assign(
            session=session, person=officer, record=record, assignee_id=member.id, now=NOW
        )
        assert refused is None  # a team member is not an officer of the commune
        done = await cases.assign(
            session=session, person=officer, record=record, assignee_id=officer2.id, now=NOW
        )
        assert done is not None and done.assignee.id == officer2.id and done.chats == []
        assert record.assignee_id == officer2.id

        await cases.add_note(
            session=session, person=officer, record=record, text="đã gọi điện", now=NOW
        )
        in_progress = await cases.change_status(
            session=session,
            person=officer,
            record=record,
            status=Status.IN_PROGRESS,
            now=NOW,
            keys=TIP_KEYS,
        )
        assert in_progress == []  # the reporter is not told of every step
        told = await cases.close(
            session=session,
            person=officer,
            record=record,
            outcome="hòa giải thành",
            now=NOW,
            keys=TIP_KEYS,
        )
        assert [chat.chat_id for chat in told] == ["head"]
        assert record.status == Status.CLOSED and record.outcome == "hòa giải thành"

        history = await cases.history(session=session, record=record)
    assert [(h.entry, h.status) for h in history] == [
        (HistoryEntry.STATUS, Status.NEW),
        (HistoryEntry.STATUS, Status.ACKNOWLEDGED),
        (HistoryEntry.ASSIGN, Status.ACKNOWLEDGED),
        (HistoryEntry.NOTE, Status.ACKNOWLEDGED),
        (HistoryEntry.STATUS, Status.IN_PROGRESS),
        (HistoryEntry.STATUS, Status.CLOSED),
    ]
    assert history[2].assignee == "Phạm Văn Bình" and history[2].actor == "Trần Quốc Tuấn"
    assert history[3].note == "đã gọi điện"
    assert history[5].note == "hòa giải thành"


async def test_another_communes_officer_and_a_deactivated_officer_get_nothing(sessions):
    a = await make_commune(sessions)
    b = await make_commune(sessions, name="Bình Minh", prefix="b-")
    async with sessions() as session, session.begin():
        incident = await _incident(session, a)
        tip = await _tip(session, a)
        outsider = await load_person(session, b.officer)
        for kind, case_id in ((RecordKind.INCIDENT, incident.id), (RecordKind.TIP, tip.id)):
            assert (
                await cases.get(session=session, person=outsider, kind=kind, case_id=case_id)
                is None
            )
        assert await cases.get_by_code(session=session, person=outsider, code=tip.case_code) is None
        head = await load_person(session, a.head)  # a hamlet head of the same commune
        assert (
            await cases.get(
                session=session, person=head, kind=RecordKind.INCIDENT, case_id=incident.id
            )
            is None
        )
        officer = await load_person(session, a.officer)
        officer.active = False
        assert (
            await cases.get(
                session=session, person=officer, kind=RecordKind.INCIDENT, case_id=incident.id
            )
            is None
        )
        assert (
            await cases.get(
                session=session, person=officer, kind=RecordKind.INCIDENT, case_id=2**40
            )
            is None
        )


async def test_case_codes_are_read_as_people_type_them(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        officer = await load_person(session, c.officer)
        incident = await _incident(session, c)
        tip = await _tip(session, c)
        code = tip.case_code
        assert cases.case_code(incident) == f"VV-{incident.id}"
        for typed in (f"VV-{incident.id}", f"vv {incident.id}", f"vv{incident.id}"):
            found = await cases.get_by_code(session=session, person=officer, code=typed)
            assert found is incident, typed
        for typed in (code, code.lower(), code.replace("-", ""), f" {code.lower()} "):
            found = await cases.get_by_code(session=session, person=officer, code=typed)
            assert found is tip, typed
    for junk in ("", "VV-", "VV-0", "hello", "TB-12", "VV-99999999999"):
        assert cases.parse_case_code(junk) is None, junk


async def test_the_queue_filters_by_status_kind_hamlet_assignee_urgency_and_period(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        officer = await load_person(session, c.officer)
        old = await _incident(session, c, hours_ago=48, category="dispute")
        urgent = await _incident(session, c, severity=Severity.URGENT, hours_ago=30)
        recent = await _incident(session, c, hours_ago=1)
        tip = await _tip(session, c, hours_ago=3)
        closed = await _incident(session, c, hours_ago=5)
        await cases.close(
            session=session, person=officer, record=closed, outcome="xong", now=NOW, keys=TIP_KEYS
        )
        await cases.assign(
            session=session, person=officer, record=recent, assignee_id=officer.id, now=NOW
        )

        async def codes(**filters):
            rows, total = await cases.queue(
                session=session, commune_id=c.id, filters=cases.CaseFilter(**filters)
            )
            assert total == len(rows)
            return [r.code for r in rows]

        vv = cases.case_code
        # Open cases: urgent first, then the newest.
        assert await codes() == [vv(urgent), vv(recent), tip.case_code, vv(old)]
        assert await codes(statuses=(Status.CLOSED,)) == [vv(closed)]
        assert await codes(kind=RecordKind.TIP) == [tip.case_code]
        assert await codes(kind=RecordKind.INCIDENT, urgent=False) == [vv(recent), vv(old)]
        assert await codes(urgent=True) == [vv(urgent)]
        assert await codes(assignee_id=officer.id) == [vv(recent)]
        assert await codes(category="dispute") == [vv(old)]
        assert await codes(hamlet_id=c.hamlet_id, kind=RecordKind.INCIDENT) == [
            vv(urgent),
            vv(recent),
            vv(old),
        ]
        assert await codes(since=NOW - timedelta(hours=4)) == [vv(recent), tip.case_code]
        assert await codes(until=NOW - timedelta(hours=24)) == [vv(urgent), vv(old)]
        assert await codes(search="dispute") == [vv(old)]

        page, total = await cases.queue(session=session, commune_id=c.id, limit=2, offset=2)
        assert [r.code for r in page] == [tip.case_code, vv(old)] and total == 4


async def test_a_question_reaches_the_tipster_by_the_sealed_way_back_only(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        officer = await load_person(session, c.officer)
        tip = await _tip(session, c, chat="head")  # the hamlet head's account sent it
        await way_back.remember(
            session=session, tip=tip, channel="telegram", chat_id="head", keys=TIP_KEYS
        )
        assert "head" not in (tip.reply_to or "")
        chats = await cases.ask_tipster(
            session=session,
            person=officer,
            tip=tip,
            question="Lúc mấy giờ?",
            now=NOW,
            keys=TIP_KEYS,
        )
        assert [chat.chat_id for chat in chats] == ["head"]
        lines = await cases.tip_messages(session=session, tip=tip)
        assert [(m.from_tipster, m.officer, m.body) for m in lines] == [
            (False, "Trần Quốc Tuấn", "Lúc mấy giờ?")
        ]
        assert (
            await cases.own_tip(session=session, tip_id=tip.id, reporter_key=tip.reporter_key)
            is tip
        )
        other = pseudonym(SECRET, "telegram", "someone-else")
        assert await cases.own_tip(session=session, tip_id=tip.id, reporter_key=other) is None

        # Another key, or the sealed value moved to another tip, leads nowhere.
        stranger = Keyring.generate()
        assert await cases.reporter_chats(session=session, record=tip, keys=stranger) == []
        second = await _tip(session, c, chat="member")
        second.reply_to = tip.reply_to
        assert await cases.reporter_chats(session=session, record=second, keys=TIP_KEYS) == []

        told = await cases.close(
            session=session, person=officer, record=tip, outcome="xong", now=NOW, keys=TIP_KEYS
        )
        assert [chat.chat_id for chat in told] == ["head"]  # told once more, then forgotten
        assert tip.reply_to is None
        assert await cases.reporter_chats(session=session, record=tip, keys=TIP_KEYS) == []
