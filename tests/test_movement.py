"""The movement's records (models, commitments, recognitions) rolled up for the digest and
the criteria, against figures computed by hand; on SQLite, and on PostgreSQL with
TEST_DATABASE_URL set."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler.digest import collect, render_criteria, render_text
from storage import movement
from storage.admin import AdminError, add_team
from storage.criteria import Verdict, criteria_view
from storage.models import Commune, Hamlet
from storage.periods import containing
from storage.reports import add_activity, add_incident
from tests.helpers import make_commune

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 in Vietnam


async def _model(session, c, started, hamlet=True, **extra):
    return await movement.add_model(
        session,
        commune_id=c.id,
        hamlet_id=c.hamlet_id if hamlet else None,
        name=extra.pop("name", "Tổ nhân dân tự quản số 1"),
        kind=extra.pop("kind", "self_governing"),
        started_on=started,
        now=NOW,
        **extra,
    )


async def test_models_active_and_new_per_year_from_the_register(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        await _model(session, c, date(2024, 5, 1))  # old, still running
        await _model(session, c, date(2026, 2, 1), kind="security_light")  # new in 2026
        await _model(session, c, date(2026, 10, 1), hamlet=False, kind="camera")  # commune-wide
        stopped = await _model(session, c, date(2025, 3, 1), kind="gong")
        await movement.update_model(session, model=stopped, today=date(2026, 6, 30), now=NOW)
        await movement.update_model(
            session, model=stopped, active=False, today=date(2026, 6, 30), now=NOW
        )
        await _model(session, c, date(2027, 1, 5))  # next year: not yet
    async with sessions() as session:
        year = await movement.models_by_hamlet(session, c.id, containing("year", date(2026, 1, 1)))
        q1 = await movement.models_by_hamlet(session, c.id, containing("quarter", date(2026, 2, 1)))
    # 2026: the old one, the light and the camera run at the year's end; the gong stopped.
    assert year[c.hamlet_id] == movement.ModelCounts(active=2, new=1)
    assert year[None] == movement.ModelCounts(active=1, new=1)
    # At the end of March the gong ran still (it stopped on 30 June): 3 in the hamlet.
    assert q1[c.hamlet_id] == movement.ModelCounts(active=3, new=1)
    assert None not in q1  # the camera began in October


async def test_a_model_is_checked_before_it_is_kept(sessions):
    c = await make_commune(sessions)
    other = await make_commune(sessions, name="Vĩnh Hậu", province="Trà Vinh", prefix="o-")
    async with sessions() as session, session.begin():
        with pytest.raises(AdminError, match="kind"):
            await _model(session, c, date(2026, 1, 1), kind="lantern")
        with pytest.raises(AdminError, match="hamlet"):
            await movement.add_model(
                session,
                commune_id=c.id,
                hamlet_id=other.hamlet_id,
                name="Camera",
                kind="camera",
                started_on=date(2026, 1, 1),
                now=NOW,
            )
        free = await _model(
            session, c, date(2026, 1, 1), kind="other", kind_text="  Tổ  tự quản đường phố "
        )
        assert free.kind_text == "Tổ tự quản đường phố"
        assert await movement.get_model(session, commune_id=other.id, model_id=free.id) is None


async def test_commitments_per_kind_and_households_against_the_communes_threshold(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        an_lac = (await session.get(Hamlet, c.hamlet_id + 1)).id
        await movement.record_commitment(
            session,
            commune_id=c.id,
            hamlet_id=c.hamlet_id,
            year=2026,
            kind="households",
            signed=350,
            total=400,
            now=NOW,
        )
        # A second figure for the same hamlet and year replaces the first.
        await movement.record_commitment(
            session,
            commune_id=c.id,
            hamlet_id=c.hamlet_id,
            year=2026,
            kind="households",
            signed=372,
            total=400,
            now=NOW,
        )
        await movement.record_commitment(
            session,
            commune_id=c.id,
            hamlet_id=an_lac,
            year=2026,
            kind="households",
            signed=1300,
            total=1300,
            now=NOW,
        )
        for kind, signed, total in (("agencies", 6, 6), ("schools", 2, 2), ("conditional", 14, 15)):
            await movement.record_commitment(
                session, commune_id=c.id, year=2026, kind=kind, signed=signed, total=total, now=NOW
            )
        await movement.record_commitment(
            session, commune_id=c.id, year=2025, kind="businesses", signed=1, total=9, now=NOW
        )
        with pytest.raises(AdminError, match="larger"):
            await movement.record_commitment(
                session, commune_id=c.id, year=2026, kind="schools", signed=3, total=2, now=NOW
            )
        with pytest.raises(AdminError, match="per hamlet"):
            await movement.record_commitment(
                session, commune_id=c.id, year=2026, kind="households", signed=1, total=2, now=NOW
            )
    async with sessions() as session:
        totals = await movement.commitment_totals(session, c.id, 2026)
        quarter = containing("quarter", date(2026, 11, 1))
        strict = await criteria_view(session, c.id, quarter, TZ, NOW)
    assert totals == {
        "households": (1672, 1700),
        "agencies": (6, 6),
        "schools": (2, 2),
        "conditional": (14, 15),
    }
    by_name = {h.name: h.verdicts["households"] for h in strict.hamlets}
    # 372/400 is 93%: short of 100%, the standard's default.
    assert by_name == {"Thôn Phú Mỹ": Verdict.NOT_MET, "Thôn An Lạc": Verdict.MET}
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        await movement.set_threshold(session, commune=commune, percent=90)
    async with sessions() as session:
        lenient = await criteria_view(session, c.id, quarter, TZ, NOW)
        lines = render_criteria(lenient, "vi")
    assert all(h.verdicts["households"] == Verdict.MET for h in lenient.hamlets)
    assert "✅ Từ 90% hộ gia đình ký cam kết" in lines
    assert (
        "Ký cam kết năm 2026: 1.672/1.700 hộ gia đình, 6/6 cơ quan, 2/2 trường học, "
        "14/15 cơ sở kinh doanh có điều kiện" in lines
    )


async def test_recognitions_show_as_the_years_result_and_decide_the_safe_commune(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        for unit, recognised, total in (("areas", 2, 2), ("agencies", 6, 6), ("schools", 2, 2)):
            await movement.record_recognition(
                session,
                commune_id=c.id,
                year=2026,
                unit_kind=unit,
                recognised=recognised,
                total=total,
                now=NOW,
            )
        await movement.record_recognition(
            session,
            commune_id=c.id,
            year=2026,
            unit_kind="schools",
            recognised=1,
            total=2,
            now=NOW,
        )  # corrected: one school only
        await _model(session, c, date(2026, 3, 1))
        hamlet = await session.get(Hamlet, c.hamlet_id)
        await add_team(session, hamlet, "Tổ hòa giải Phú Mỹ", "mediation")
        for kind, figures in (
            ("dialogue", {"sessions": 2, "attendees": 60}),
            ("commendation", {"commended": 3}),
        ):
            await add_activity(
                session,
                commune_id=c.id,
                hamlet_id=c.hamlet_id,
                reporter_id=None,
                kind=kind,
                held_on=date(2026, 11, 18),
                received_at=NOW,
                figures=figures,
            )
    async with sessions() as session:
        year = containing("year", date(2026, 6, 1))
        view = await criteria_view(session, c.id, year, TZ, NOW)
        commune = await session.get(Commune, c.id)
        data = await collect(session, commune, containing("week", date(2026, 11, 16)), NOW)
    lines = render_criteria(view, "vi")
    assert (
        "Đạt chuẩn an toàn về ANTT năm 2026: 2/2 khu dân cư, 6/6 cơ quan, 1/2 trường học" in lines
    )
    assert view.commune["safe_areas"] == Verdict.MET  # 2 of 2 areas recognised
    # Said as decided by the recognitions, beside the figures' own count, which differs.
    assert "✅ Từ 70% khu dân cư đạt tiêu chí (theo công nhận năm 2026: 2/2 khu dân cư)" in lines
    assert view.commune["models"] == Verdict.MET
    text = render_text(data, "vi", "weekly")
    assert "Mô hình tự quản: 1 đang hoạt động, 1 mô hình mới trong năm 2026" in text
    assert "Đạt chuẩn an toàn về ANTT năm 2026: 2/2 khu dân cư, 6/6 cơ quan, 1/2 trường học" in text
    assert "Tổ hòa giải: 1" in text
    # Only what happened: no movement day that week.
    assert (
        "Hoạt động phong trào: đối thoại với nhân dân 2 buổi · khen thưởng 3 tập thể, cá nhân"
        in text
    )
    assert "Ký cam kết năm 2026: chưa có số liệu" in text


async def test_a_complex_spot_of_disorder_fails_the_hamlet_and_lawful_complaints_do_not(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        for category in ("hotspot", "lawful_complaint"):
            await add_incident(
                session,
                commune_id=c.id,
                hamlet_id=c.hamlet_id,
                reporter_id=None,
                category=category,
                severity="ordinary",
                occurred_at=datetime(2026, 11, 5, 12, tzinfo=TZ),
                received_at=NOW,
            )
    async with sessions() as session:
        view = await criteria_view(session, c.id, containing("quarter", date(2026, 11, 1)), TZ, NOW)
    phu_my = next(h for h in view.hamlets if h.name == "Thôn Phú Mỹ")
    assert phu_my.verdicts["hotspots"] == Verdict.NOT_MET
    assert phu_my.verdicts["mass_complaints"] == Verdict.MET
    assert view.commune["hotspots"] == Verdict.NOT_MET
    # Nothing in the register of models: no knowing, not a failure.
    assert phu_my.verdicts["models"] == Verdict.NO_DATA
