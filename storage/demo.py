"""A realistic demo commune, so the product can be tried at once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.admin import add_hamlet, add_person, add_team, create_commune
from storage.enums import ACTIVITY_FIGURES, ActivityKind, IncidentCategory, Role, Severity, TeamKind
from storage.identity import random_code
from storage.models import Commune
from storage.reports import add_activity, add_incident, add_tip, save_weekly_report, week_start

DEMO_COMMUNE = "Tân Hòa"
DEMO_PROVINCE = "Đồng Nai"
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
    IncidentCategory.MASS_COMPLAINT: "Nhóm hộ dân kéo lên xã khiếu nại về đền bù.",
    IncidentCategory.SOCIAL_EVIL: "Quán karaoke hoạt động quá giờ, gây ồn.",
    IncidentCategory.OTHER: "Trâu thả rông đi vào đường liên thôn.",
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
        hamlet = await add_hamlet(session, commune, name, households=households)
        hamlets.append(hamlet)
        team = await add_team(session, hamlet, f"Tổ bảo vệ ANTT thôn {name}", TeamKind.SECURITY)
        if rng.random() < 0.4:
            await add_team(
                session, hamlet, f"Tổ liên gia an toàn PCCC số 1 thôn {name}", TeamKind.FIRE_SAFETY
            )
        if rng.random() < 0.4:
            await add_team(session, hamlet, f"Tổ hòa giải thôn {name}", TeamKind.MEDIATION)
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
    categories = list(IncidentCategory)
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

    for i, kind in enumerate(list(ActivityKind) * weeks):
        hamlet = hamlets[i % len(hamlets)]
        drawn = {name: _figure(rng, name) for name in ACTIVITY_FIGURES[kind]}
        if kind == ActivityKind.MEDIATION:
            drawn["cases_successful"] = min(drawn["cases_successful"], drawn["cases"])
        if kind == ActivityKind.COMMITMENT:
            total = hamlet.households
            assert total is not None  # every demo hamlet is made with its households
            drawn["households_total"] = total
            drawn["households_signed"] = rng.randint(total * 8 // 10, total)
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
            else "Dọn vệ sinh, phát quang bụi rậm đường liên thôn.",
            figures=drawn,
        )

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
        "models_active": rng.randint(1, 4),
        "models_new": rng.randint(0, 1),
    }.get(name, 1)
