"""A realistic demo commune, so the product can be tried at once."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import movement
from storage.admin import add_hamlet, add_person, add_team, create_commune
from storage.enums import (
    ACTIVITY_FIGURES,
    REPORTED_CATEGORIES,
    REPORTED_KINDS,
    ActivityKind,
    CommitmentKind,
    IncidentCategory,
    ModelKind,
    Role,
    Severity,
    TeamKind,
    UnitKind,
)
from storage.identity import random_code
from storage.models import Commune, Hamlet
from storage.reports import add_activity, add_incident, add_tip, save_weekly_report, week_start

DEMO_COMMUNE = "Tân Hòa"
DEMO_PROVINCE = "Đồng Nai"
HAMLET_KIND = "ấp"  # as in every commune of Đồng Nai
HAMLETS = [
    ("Phú Mỹ", 412),
    ("An Lạc", 356),
    ("Hòa Bình", 298),
    ("Tân Lập", 520),
    ("Bình An", 275),
    ("Phước Hải", 330),
    ("Xuân Sơn", 244),
    ("Long Thạnh", 389),
    ("Mỹ Hưng", 301),
    ("Thạnh Phú", 267),
    ("Đông Hòa", 455),
    ("Suối Tre", 198),
]
HEADS = [
    ("Nguyễn Văn Hùng", "ông"),
    ("Trần Thị Lan", "bà"),
    ("Lê Văn Phúc", "ông"),
    ("Phạm Văn Thành", "ông"),
    ("Võ Thị Hạnh", "bà"),
    ("Huỳnh Văn Tâm", "ông"),
    ("Đặng Văn Lợi", "ông"),
    ("Bùi Thị Mai", "bà"),
    ("Đỗ Văn Sáu", "ông"),
    ("Ngô Văn Bảy", "ông"),
    ("Dương Thị Hoa", "bà"),
    ("Lý Văn Toàn", "ông"),
]
MEMBERS = [
    "Nguyễn Minh Tuấn",
    "Trần Văn Khánh",
    "Lê Thị Thu",
    "Phạm Quốc Bảo",
    "Hoàng Văn Nam",
    "Vũ Thị Ngọc",
    "Phan Văn Đức",
    "Trương Văn Hải",
    "Đinh Thị Yến",
    "Mai Văn Lộc",
    "Cao Văn Thắng",
    "Tạ Thị Hương",
    "Hồ Văn Quang",
    "Châu Văn Tài",
    "Lâm Thị Kim",
    "Kiều Văn Sơn",
    "Quách Văn Hiếu",
    "La Thị Diễm",
    "Từ Văn Nhân",
    "Mạc Văn Trí",
    "Tô Thị Ánh",
    "Thái Văn Lực",
    "Âu Văn Định",
    "Giang Thị Nhung",
]
DEMO_CENTRE = (10.9500, 106.8200)  # the demo commune, in Đồng Nai


def _spot(rng: random.Random, centre: tuple[float, float], i: int) -> tuple[float | None, ...]:
    if i % 3 == 0:
        return (None, None)  # a typed place only: the map's "no location" list
    return (
        round(centre[0] + rng.uniform(-0.004, 0.004), 5),
        round(centre[1] + rng.uniform(-0.005, 0.005), 5),
    )


PLACES = ["gần chợ", "đầu hẻm", "cạnh trường tiểu học", "ven suối", "gần nhà văn hóa", "ngã ba"]
DESCRIPTIONS = {
    IncidentCategory.THEFT: "Mất trộm xe máy để trước nhà ban đêm.",
    IncidentCategory.DRUGS: "Nghi có nhóm thanh niên tụ tập sử dụng ma túy.",
    IncidentCategory.GAMBLING: "Có nhóm người tụ tập đánh bài ăn tiền.",
    IncidentCategory.DISORDER: "Hai nhóm thanh niên cãi nhau, xô xát sau đám tiệc.",
    IncidentCategory.TRAFFIC: "Va chạm giữa xe máy và xe đạp, một người bị thương nhẹ.",
    IncidentCategory.FIRE: "Cháy đống rơm sau nhà, đã dập tắt.",
    IncidentCategory.DISPUTE: "Hai hộ tranh chấp ranh giới đất vườn.",
    IncidentCategory.DOMESTIC_VIOLENCE: "Chồng say rượu đánh vợ, hàng xóm can ngăn.",
    IncidentCategory.LOAN_SHARK: "Người lạ dán quảng cáo cho vay lãi nặng.",
    IncidentCategory.ONLINE_FRAUD: "Người dân bị gọi điện giả danh công an đòi chuyển tiền.",
    IncidentCategory.SUSPICIOUS: "Hai người lạ đi xe không biển số hỏi thăm nhà vắng chủ.",
    IncidentCategory.MASS_COMPLAINT: "Nhóm hộ dân kéo lên tỉnh khiếu kiện vượt cấp về đền bù.",
    IncidentCategory.LAWFUL_COMPLAINT: "Nhiều hộ cùng gửi đơn kiến nghị về đường ngập nước.",
    IncidentCategory.POLITICAL: "Người lạ đến phát tài liệu tôn giáo trái phép.",
    IncidentCategory.HOTSPOT: "Nhóm thanh niên tụ tập đua xe ở đoạn đường mới.",
    IncidentCategory.SOCIAL_EVIL: "Quán karaoke hoạt động quá giờ, gây ồn.",
    IncidentCategory.OTHER: "Trâu thả rông đi vào đường liên ấp.",
}


async def demo_exists(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Commune)))


async def seed_demo(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    weeks: int = 4,
    rng: random.Random | None = None,
) -> Commune:
    rng = rng or random.Random(19_08)
    now = now or datetime.now(UTC)
    commune = await create_commune(session, province=DEMO_PROVINCE, name=DEMO_COMMUNE)
    tz = ZoneInfo(commune.timezone)
    await add_person(
        session, commune=commune, full_name="Lê Minh Đức", role=Role.ADMIN, title="anh"
    )
    await add_person(
        session, commune=commune, full_name="Trần Quốc Tuấn", role=Role.OFFICER, title="anh"
    )
    await add_person(
        session, commune=commune, full_name="Nguyễn Thị Thảo", role=Role.OFFICER, title="chị"
    )
    members = iter(MEMBERS)
    hamlets, reporters = [], {}
    for (name, households), (head, title) in zip(HAMLETS, HEADS, strict=True):
        hamlet = await add_hamlet(session, commune, name, HAMLET_KIND, households=households)
        hamlets.append(hamlet)
        team = await add_team(
            session, hamlet, f"Tổ bảo vệ ANTT {hamlet.label} {name}", TeamKind.SECURITY
        )
        if rng.random() < 0.4:
            await add_team(
                session,
                hamlet,
                f"Tổ liên gia an toàn PCCC số 1 {hamlet.label} {name}",
                TeamKind.FIRE_SAFETY,
            )
        if rng.random() < 0.4:
            await add_team(
                session, hamlet, f"Tổ hòa giải {hamlet.label} {name}", TeamKind.MEDIATION
            )
        head_p = await add_person(
            session,
            commune=commune,
            full_name=head,
            role=Role.HAMLET_HEAD,
            hamlet=hamlet,
            title=title,
        )
        lead = await add_person(
            session,
            commune=commune,
            full_name=next(members),
            role=Role.TEAM_LEAD,
            hamlet=hamlet,
            team=team,
        )
        member = await add_person(
            session,
            commune=commune,
            full_name=next(members),
            role=Role.TEAM_MEMBER,
            hamlet=hamlet,
            team=team,
        )
        reporters[hamlet.id] = (head_p.id, lead.id, member.id, team.id)

    this_monday = week_start(now.astimezone(tz).date())
    for back in range(1, weeks + 1):
        monday = this_monday - timedelta(weeks=back)
        for hamlet in hamlets:
            if rng.random() < 0.15:  # some hamlets miss a week, as in real life
                continue
            quiet = rng.random() < 0.55
            figures: dict[str, bool | int] = {"quiet": quiet}
            if not quiet:
                figures |= {
                    "incidents": rng.randint(1, 3),
                    "disputes": rng.randint(0, 2),
                    "strangers": rng.randint(0, 2),
                    "patrols": rng.randint(2, 7),
                    "meetings": rng.randint(0, 1),
                    "mediations": rng.randint(0, 2),
                    "outreach_sessions": rng.randint(0, 1),
                }
                mediated = int(figures["mediations"])
                figures["mediations_successful"] = mediated - mediated // 2
            report, _ = await save_weekly_report(
                session,
                hamlet_id=hamlet.id,
                commune_id=commune.id,
                monday=monday,
                reporter_id=reporters[hamlet.id][0],
                figures=figures,
                tz=tz,
            )
            sent = datetime.combine(
                monday + timedelta(days=rng.choice([4, 5, 6, 7])),
                time(rng.randint(7, 20), rng.randint(0, 59)),
                tz,
            )
            report.received_at = sent.astimezone(UTC)

    # Incidents and activities fill the weeks already over, like the weekly reports: this week is
    # the reader's own to report, so a quiet week there takes its two taps.
    week_began = datetime.combine(this_monday, time(0), tz).astimezone(UTC)
    categories = list(REPORTED_CATEGORIES)
    # Two incidents in three carry a shared location, near their hamlet (the desk's map);
    # drawn from a generator of their own, so the rest of the demo stays as it was.
    spots = random.Random(7)
    centres = {
        h.id: (DEMO_CENTRE[0] + 0.012 * (n // 4 - 1), DEMO_CENTRE[1] + 0.014 * (n % 4 - 1.5))
        for n, h in enumerate(hamlets)
    }
    for i in range(weeks * 5):
        hamlet = rng.choice(hamlets)
        spot = _spot(spots, centres[hamlet.id], i)
        category = categories[i % len(categories)]
        occurred = week_began - timedelta(
            days=rng.uniform(0.1, weeks * 7), hours=rng.randint(0, 12)
        )
        severity = (
            Severity.URGENT
            if category == IncidentCategory.FIRE
            else (
                Severity.SERIOUS
                if category == IncidentCategory.DRUGS and i % 2
                else Severity.ORDINARY
            )
        )
        await add_incident(
            session,
            commune_id=commune.id,
            hamlet_id=hamlet.id,
            reporter_id=reporters[hamlet.id][rng.randint(0, 2)],
            category=category,
            severity=severity,
            occurred_at=occurred,
            received_at=occurred + timedelta(minutes=40),
            place_text=f"{rng.choice(PLACES)}, {hamlet.display_name}",
            description=DESCRIPTIONS[category],
            latitude=spot[0],
            longitude=spot[1],
        )

    for i, kind in enumerate(list(REPORTED_KINDS) * weeks):
        hamlet = hamlets[i % len(hamlets)]
        drawn = {name: _figure(rng, name) for name in ACTIVITY_FIGURES[kind]}
        if kind == ActivityKind.MEDIATION:
            drawn["cases_successful"] = min(drawn["cases_successful"], drawn["cases"])
        held = (week_began - timedelta(days=rng.uniform(0.1, weeks * 7))).astimezone(tz).date()
        await add_activity(
            session,
            commune_id=commune.id,
            hamlet_id=hamlet.id,
            team_id=reporters[hamlet.id][3],
            reporter_id=reporters[hamlet.id][1],
            kind=kind,
            held_on=held,
            received_at=now,
            description=None
            if kind != ActivityKind.OTHER
            else "Dọn vệ sinh, phát quang bụi rậm đường liên ấp.",
            figures=drawn,
        )

    await _seed_records(session, commune, hamlets, now.astimezone(tz).date(), now, rng)

    tips = [
        ("Có người lạ thường xuyên ra vào căn nhà cuối hẻm lúc nửa đêm.", "hẻm 3"),
        ("Nghi có điểm bán ma túy gần bãi đất trống.", "bãi đất trống cạnh cầu"),
        ("Có đường dây cho vay nặng lãi, đe dọa người vay.", None),
    ]
    for text, place in tips:
        await add_tip(
            session,
            commune_id=commune.id,
            hamlet_id=rng.choice(hamlets).id,
            reporter_key=random_code(32),
            description=text,
            place_text=place,
            received_at=now - timedelta(days=rng.uniform(0, 10)),
        )
    await session.flush()
    return commune


# The demo's register: a model or two per hamlet and a few for the whole commune.
MODELS = [
    (ModelKind.SELF_GOVERNING, "Tổ nhân dân tự quản về ANTT {hamlet}"),
    (ModelKind.SECURITY_LIGHT, "Bóng đèn an ninh {hamlet}"),
    (ModelKind.CAMERA, "Camera an ninh {hamlet}"),
    (ModelKind.GONG, "Tiếng kẻng an ninh {hamlet}"),
    (ModelKind.FIRE_SAFETY, "Tổ liên gia an toàn PCCC {hamlet}"),
    (ModelKind.CRIME_FREE_CLAN, "Dòng họ Nguyễn không có tội phạm, {hamlet}"),
]
COMMUNE_MODELS = [
    (ModelKind.WOMEN_LAW_CLUB, "CLB Phụ nữ với pháp luật xã Tân Hòa"),
    (ModelKind.DIGITAL_TEAM, "Tổ công nghệ số cộng đồng xã Tân Hòa"),
    (ModelKind.TWO_PLUS_ONE, "Mô hình 2+1 giúp người lầm lỗi"),
    (ModelKind.THREE_GOOD, "CLB Ba tốt, ba giảm"),
]
# Agencies, businesses, schools and conditional businesses of the commune: (signed, total).
UNIT_COMMITMENTS = {
    CommitmentKind.AGENCIES: (6, 6),
    CommitmentKind.BUSINESSES: (23, 27),
    CommitmentKind.SCHOOLS: (3, 3),
    CommitmentKind.CONDITIONAL: (14, 15),
}


async def _seed_records(
    session: AsyncSession,
    commune: Commune,
    hamlets: list[Hamlet],
    today: date,
    now: datetime,
    rng: random.Random,
) -> None:
    """Models, commitments and recognitions, so an officer sees them in the digest and the
    criteria: last year's recognitions, this year's commitments, models old and new."""
    year = today.year
    for i, hamlet in enumerate(hamlets):
        for kind, name in rng.sample(MODELS, 1 + i % 2):
            started = date(year - rng.randint(0, 3), rng.randint(1, 12), rng.randint(1, 28))
            model = await movement.add_model(
                session,
                commune_id=commune.id,
                hamlet_id=hamlet.id,
                name=name.format(hamlet=hamlet.display_name),
                kind=kind,
                started_on=min(started, today),
                members=rng.randint(5, 25),
                now=now,
            )
            if i == 4:  # one that stopped, as happens
                await movement.update_model(
                    session, model=model, active=False, today=today, now=now
                )
        households = hamlet.households or 0
        signed = households if i % 4 else households - rng.randint(3, 20)
        await movement.record_commitment(
            session,
            commune_id=commune.id,
            hamlet_id=hamlet.id,
            year=year,
            kind=CommitmentKind.HOUSEHOLDS,
            signed=signed,
            total=households,
            now=now,
        )
    for kind, name in COMMUNE_MODELS:
        await movement.add_model(
            session,
            commune_id=commune.id,
            hamlet_id=None,
            name=name,
            kind=kind,
            started_on=date(year - 1, 8, 19),
            members=rng.randint(10, 40),
            now=now,
        )
    for signer, (signed, total) in UNIT_COMMITMENTS.items():
        await movement.record_commitment(
            session,
            commune_id=commune.id,
            year=year,
            kind=signer,
            signed=signed,
            total=total,
            now=now,
        )
    for unit, recognised, total in (
        (UnitKind.AREAS, len(hamlets) - 1, len(hamlets)),
        (UnitKind.AGENCIES, 6, 6),
        (UnitKind.SCHOOLS, 2, 3),
    ):
        for when in (year - 1, year):
            await movement.record_recognition(
                session,
                commune_id=commune.id,
                year=when,
                unit_kind=unit,
                recognised=recognised if when < year else total,
                total=total,
                now=now,
            )


def _figure(rng: random.Random, name: str) -> int:
    return {
        "attendees": rng.randint(15, 80),
        "participants": rng.randint(10, 40),
        "people_count": rng.randint(3, 8),
        "shifts": rng.randint(2, 10),
        "sessions": rng.randint(1, 3),
        "cases": rng.randint(1, 5),
        "cases_successful": rng.randint(1, 5),
        "persons_helped": rng.randint(1, 3),
        "persons_educated": rng.randint(1, 4),
        "commended": rng.randint(1, 6),
    }.get(name, 1)
