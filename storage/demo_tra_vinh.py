"""A second demo commune, where many people speak Khmer: `binhyen demo --commune tra-vinh`.

Xã Sóc Tre is made up, like the first demo, but laid out as a commune of the Mekong delta
where Khmer people live: in tỉnh Vĩnh Long, which since 1 July 2025 takes in the former
tỉnh Trà Vinh (people there still say Trà Vinh). Its hamlets are ấp, several named after
the Khmer sóc and the pagoda; the Khmer-speaking heads, team members and residents are
written in Khmer script, with `language = "km"`, and report partly in Khmer.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.admin import add_hamlet, add_person, add_team, create_commune
from storage.enums import ActivityKind, IncidentCategory, Role, Severity, TeamKind
from storage.identity import random_code
from storage.models import Commune, Province
from storage.reports import add_activity, add_incident, add_tip, save_weekly_report, week_start

COMMUNE = "Sóc Tre"
PROVINCE = "Vĩnh Long"
FORMER_PROVINCE = "Trà Vinh"
HAMLET_LABEL = "ấp"
KM, VI = "km", "vi"
# (ấp, households, head, head's title, head's language)
HAMLETS = [
    ("Sóc Chùa", 386, "ថាច់ សុភា", "លោក", KM),
    ("Ô Rồm", 412, "Nguyễn Văn Tư", "ông", VI),
    ("Chông Bát", 298, "គីម ស្រីពៅ", "លោកស្រី", KM),
    ("Ba Se", 355, "សឺន សុខា", "លោក", KM),
    ("Bến Có", 267, "Trần Thị Mỹ", "bà", VI),
    ("Trà Kim", 330, "ដាញ់ ភារម្យ", "លោក", KM),
    ("Sóc Ruộng", 290, "ឡាំ សុផល", "លោក", KM),
    ("Chợ", 445, "Lê Văn Hòa", "ông", VI),
]
# A team lead and a member per ấp, speaking its head's language.
MEMBERS = {
    KM: [
        "ថាច់ វណ្ណា",
        "គីម សុវណ្ណ",
        "សឺន រតនា",
        "ចៅ សំណាង",
        "ដាញ់ សុភ័ក្រ",
        "ឡាំ ពិសិដ្ឋ",
        "ថាច់ បូរ៉ា",
        "គីម ចន្ធូ",
        "សឺន ម៉ារ៉ា",
        "ចៅ សុជាតិ",
    ],
    VI: [
        "Trần Văn Long",
        "Lý Thị Hoa",
        "Nguyễn Minh Tâm",
        "Huỳnh Văn Đạt",
        "Võ Thị Ngân",
        "Phạm Văn Lực",
    ],
}
STAFF = [
    ("Thạch Văn Minh", Role.ADMIN, "anh"),
    ("Sơn Thị Bích", Role.OFFICER, "chị"),
    ("Kim Văn Hoàng", Role.OFFICER, "anh"),
]
# Residents who write to the police in Khmer (tips are sent by residents).
RESIDENTS = [("ថាច់ ស្រីនាង", "លោកស្រី", "Sóc Chùa"), ("ចៅ ម៉ៅ", "លោក", "Trà Kim")]
# (category, ấp, days before this week, description, place): Khmer where a Khmer head wrote it.
INCIDENTS = [
    (IncidentCategory.THEFT, "Sóc Chùa", 3, "គោមួយក្បាលត្រូវបានលួចពីក្រោលពេលយប់។", "ជិតវត្ត"),
    (IncidentCategory.DISPUTE, "Ô Rồm", 6, "Hai hộ tranh chấp bờ ranh ruộng lúa.", "cánh đồng"),
    (IncidentCategory.ONLINE_FRAUD, "Chông Bát", 9, "មានគេហៅទូរស័ព្ទក្លែងជាប៉ូលិស សុំផ្ទេរប្រាក់។", None),
    (IncidentCategory.TRAFFIC, "Chợ", 12, "Xe máy va chạm xe ba gác trước chợ.", "trước chợ"),
    (IncidentCategory.DISORDER, "Ba Se", 16, "ក្មេងទំនើងវាយគ្នាក្រោយពិធីបុណ្យ។", "សាលាឆាន់"),
    (IncidentCategory.FIRE, "Trà Kim", 20, "ឆេះគំនរចំបើងក្រោយផ្ទះ ពន្លត់បានហើយ។", "ក្រោយផ្ទះ"),
]
TIPS = [
    ("មានមនុស្សចម្លែកចេញចូលផ្ទះចុងភូមិពេលយប់ជ្រៅ។", "ចុងភូមិ Sóc Ruộng"),
    ("Nghi có người cho vay nặng lãi ở ấp Chợ, đe dọa người vay.", None),
]


async def tra_vinh_demo_exists(session: AsyncSession) -> bool:
    found = await session.scalar(
        select(Commune.id)
        .join(Province, Commune.province_id == Province.id)
        .where(Commune.name == COMMUNE, Province.name == PROVINCE)
    )
    return found is not None


async def seed_tra_vinh_demo(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    weeks: int = 4,
    rng: random.Random | None = None,
) -> Commune:
    """Xã Sóc Tre with its people and a month of reports, beside any other commune."""
    rng = rng or random.Random(2025_07_01)
    now = now or datetime.now(UTC)
    commune = await create_commune(session, province=PROVINCE, name=COMMUNE)
    tz = ZoneInfo(commune.timezone)
    for name, role, title in STAFF:
        await add_person(session, commune=commune, full_name=name, role=role, title=title)
    members = {lang: iter(names) for lang, names in MEMBERS.items()}
    hamlets, reporters = {}, {}
    for name, households, head, title, lang in HAMLETS:
        hamlet = await add_hamlet(
            session, commune, f"{HAMLET_LABEL} {name}", HAMLET_LABEL, households=households
        )
        hamlets[name] = hamlet
        team = await add_team(session, hamlet, f"Tổ bảo vệ ANTT ấp {name}", TeamKind.SECURITY)
        people = [
            await add_person(
                session,
                commune=commune,
                full_name=full_name,
                role=role,
                hamlet=hamlet,
                team=team if role != Role.HAMLET_HEAD else None,
                title=title if role == Role.HAMLET_HEAD else None,
                language=lang,
            )
            for full_name, role in (
                (head, Role.HAMLET_HEAD),
                (next(members[lang]), Role.TEAM_LEAD),
                (next(members[lang]), Role.TEAM_MEMBER),
            )
        ]
        reporters[name] = (people, team)
    for name, title, home in RESIDENTS:
        await add_person(
            session,
            commune=commune,
            full_name=name,
            role=Role.RESIDENT,
            hamlet=hamlets[home],
            title=title,
            language=KM,
        )

    this_monday = week_start(now.astimezone(tz).date())
    week_began = datetime.combine(this_monday, time(0), tz).astimezone(UTC)
    for back in range(1, weeks + 1):
        monday = this_monday - timedelta(weeks=back)
        for name, hamlet in hamlets.items():
            if rng.random() < 0.15:  # an ấp that missed the week
                continue
            quiet = rng.random() < 0.6
            figures: dict[str, bool | int] = {"quiet": quiet}
            if not quiet:
                figures |= {"incidents": rng.randint(1, 2), "patrols": rng.randint(2, 6)}
            report, _ = await save_weekly_report(
                session,
                hamlet_id=hamlet.id,
                commune_id=commune.id,
                monday=monday,
                reporter_id=reporters[name][0][0].id,
                figures=figures,
                tz=tz,
            )
            sent = datetime.combine(monday + timedelta(days=rng.choice([4, 5, 6])), time(18), tz)
            report.received_at = sent.astimezone(UTC)

    for category, name, days, text, place in INCIDENTS:
        occurred = week_began - timedelta(days=days, hours=rng.randint(1, 10))
        people, _ = reporters[name]
        await add_incident(
            session,
            commune_id=commune.id,
            hamlet_id=hamlets[name].id,
            reporter_id=people[rng.randint(0, 2)].id,
            category=category,
            severity=Severity.URGENT if category == IncidentCategory.FIRE else Severity.ORDINARY,
            occurred_at=occurred,
            received_at=occurred + timedelta(minutes=30),
            place_text=f"{place}, {hamlets[name].display_name}" if place else None,
            description=text,
        )

    activities: list[tuple[ActivityKind, str, int, dict[str, int], str | None]] = [
        (ActivityKind.PATROL, "Sóc Chùa", 2, {"shifts": 6, "people_count": 5}, None),
        (
            ActivityKind.OUTREACH,
            "Ba Se",
            5,
            {"sessions": 1, "attendees": 64},
            "ផ្សព្វផ្សាយច្បាប់ជាភាសាខ្មែរ នៅសាលាឆាន់វត្ត។",
        ),
        (ActivityKind.MEDIATION, "Ô Rồm", 8, {"cases": 2, "cases_successful": 1}, None),
        (ActivityKind.MEETING, "Chợ", 11, {"attendees": 14}, None),
    ]
    for kind, name, days, drawn, note in activities:
        people, team = reporters[name]
        held: date = (week_began - timedelta(days=days)).astimezone(tz).date()
        await add_activity(
            session,
            commune_id=commune.id,
            hamlet_id=hamlets[name].id,
            team_id=team.id,
            reporter_id=people[1].id,
            kind=kind,
            held_on=held,
            received_at=now,
            description=note,
            figures=drawn,
        )
    for text, place in TIPS:
        await add_tip(
            session,
            commune_id=commune.id,
            hamlet_id=rng.choice(list(hamlets.values())).id,
            reporter_key=random_code(32),
            description=text,
            place_text=place,
            received_at=now - timedelta(days=rng.uniform(0, 10)),
        )
    await session.flush()
    return commune
