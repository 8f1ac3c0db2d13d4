"""Administration: communes, hamlets, teams, people, invites, roster import, listings."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from locales import FALLBACK
from locales import t as tr
from locales.text import canonical, clean, strip_diacritics
from storage import hamlet_kinds
from storage.enums import COMMUNE_ROLES, HAMLET_ROLES, Role, TeamKind
from storage.identity import new_invite_code
from storage.models import (
    Commune,
    District,
    Hamlet,
    Identity,
    Invite,
    Person,
    Province,
    Team,
)
from storage.types import utcnow

_E = TypeVar("_E", Role, TeamKind)
_PHONE = re.compile(r"\+?[0-9 ]+")


class AdminError(Exception):
    """A request the data does not allow; the message says what to do."""


async def get_or_create_province(session: AsyncSession, name: str, label: str = "tỉnh") -> Province:
    name = clean(name.strip())
    province = await session.scalar(select(Province).where(Province.name == name))
    if province is None:
        province = Province(name=name, label=label)
        session.add(province)
        await session.flush()
    return province


async def create_commune(
    session: AsyncSession,
    *,
    province: str,
    name: str,
    label: str = "xã",
    hamlets: list[str] | None = None,
    hamlet_label: str = hamlet_kinds.DEFAULT,
    district: str | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> Commune:
    prov = await get_or_create_province(session, province)
    name = clean(name.strip())
    if await session.scalar(
        select(Commune).where(Commune.province_id == prov.id, Commune.name == name)
    ):
        raise AdminError(f"{label} {name} already exists in {prov.name}")
    district_id = None
    if district:
        d = await session.scalar(
            select(District).where(District.province_id == prov.id, District.name == district)
        )
        if d is None:
            d = District(province_id=prov.id, name=clean(district))
            session.add(d)
            await session.flush()
        district_id = d.id
    commune = Commune(
        province_id=prov.id, district_id=district_id, name=name, label=label, timezone=timezone
    )
    session.add(commune)
    await session.flush()
    for hamlet in hamlets or []:
        await add_hamlet(session, commune, hamlet, hamlet_label)
    await session.refresh(commune, ["hamlets", "province"])
    return commune


async def add_hamlet(
    session: AsyncSession,
    commune: Commune,
    name: str,
    label: str = hamlet_kinds.DEFAULT,
    households: int | None = None,
) -> Hamlet:
    """A hamlet of a known kind (storage.hamlet_kinds); a name that starts with its kind
    ("Ấp Vĩnh Phú") gives the kind, whatever label says."""
    named, bare = hamlet_kinds.split_name(clean(name.strip()))
    try:
        kind = hamlet_kinds.checked(named or label)
    except hamlet_kinds.UnknownKind as error:
        raise AdminError(
            tr(FALLBACK, "hamlet_kind.unknown", kind=label, kinds=error.kinds)
        ) from None
    hamlet = Hamlet(commune_id=commune.id, name=bare, label=kind, households=households)
    session.add(hamlet)
    await session.flush()
    return hamlet


async def find_commune(session: AsyncSession, name_or_id: str) -> Commune:
    with_hamlets = selectinload(Commune.hamlets)
    if name_or_id.isdecimal():
        commune = await session.get(Commune, int(name_or_id), options=[with_hamlets])
    else:
        wanted = canonical(name_or_id)
        rows = (await session.scalars(select(Commune).options(with_hamlets))).all()
        matches = [c for c in rows if canonical(c.name) == wanted]
        if not matches:
            stripped = strip_diacritics(name_or_id)
            matches = [c for c in rows if strip_diacritics(c.name) == stripped]
        commune = matches[0] if len(matches) == 1 else None
    if commune is None:
        raise AdminError(f"no commune {name_or_id!r}; 'binhyen list' shows them")
    return commune


async def communes(*, session: AsyncSession, name: str | None = None) -> list[Commune]:
    """The named commune (AdminError when there is none), or every commune."""
    if name:
        return [await find_commune(session, name)]
    return list((await session.scalars(select(Commune).order_by(Commune.id))).all())


async def commune_names(*, session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(select(Commune.id, Commune.name))
    return {commune_id: name for commune_id, name in rows.all()}


def find_hamlet(commune: Commune, name: str) -> Hamlet | None:
    wanted = canonical(name)
    for hamlet in commune.hamlets:
        if wanted in (canonical(hamlet.name), canonical(hamlet.display_name)):
            return hamlet
    stripped = strip_diacritics(name)
    found = [
        h
        for h in commune.hamlets
        if stripped in (strip_diacritics(h.name), strip_diacritics(h.display_name))
    ]
    return found[0] if len(found) == 1 else None


async def add_team(session: AsyncSession, hamlet: Hamlet, name: str, kind: TeamKind) -> Team:
    team = Team(hamlet_id=hamlet.id, name=clean(name.strip()), kind=kind)
    session.add(team)
    await session.flush()
    return team


async def get_team(*, session: AsyncSession, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def get_person(*, session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def staff(*, session: AsyncSession) -> list[Person]:
    """Every active person with a role in the commune's work: everyone but the residents."""
    rows = await session.scalars(
        select(Person).where(Person.role != Role.RESIDENT, Person.active.is_(True))
    )
    return list(rows.all())


async def people_to_invite(*, session: AsyncSession, commune_id: int) -> list[Person]:
    """The commune's active people with a role but no chat linked yet, oldest first."""
    rows = await session.scalars(
        select(Person)
        .where(
            Person.commune_id == commune_id,
            Person.active.is_(True),
            Person.role != Role.RESIDENT,
            Person.id.not_in(select(Identity.person_id)),
        )
        .order_by(Person.id)
    )
    return list(rows.all())


async def add_person(
    session: AsyncSession,
    *,
    commune: Commune,
    full_name: str,
    role: Role,
    hamlet: Hamlet | None = None,
    team: Team | None = None,
    phone: str | None = None,
    title: str | None = None,
    language: str = "vi",
) -> Person:
    if role in HAMLET_ROLES and hamlet is None:
        raise AdminError(f"a {role} belongs to a hamlet: name the hamlet")
    person = Person(
        full_name=clean(full_name.strip()),
        role=role,
        commune_id=commune.id,
        hamlet_id=hamlet.id if hamlet and role not in COMMUNE_ROLES else None,
        team_id=team.id if team else None,
        phone=phone,
        title=title,
        language=language,
    )
    session.add(person)
    await session.flush()
    return person


async def issue_invite(session: AsyncSession, person: Person, ttl_days: int) -> Invite:
    invite = Invite(
        code=new_invite_code(), person_id=person.id, expires_at=utcnow() + timedelta(days=ttl_days)
    )
    session.add(invite)
    await session.flush()
    return invite


# --- roster import ----------------------------------------------------------------------

ROLE_WORDS: dict[str, Role] = {
    "truong thon": Role.HAMLET_HEAD,
    "truong ap": Role.HAMLET_HEAD,
    "truong ban": Role.HAMLET_HEAD,
    "truong xom": Role.HAMLET_HEAD,
    "to truong to dan pho": Role.HAMLET_HEAD,
    "to vien": Role.TEAM_MEMBER,
    "thanh vien": Role.TEAM_MEMBER,
    "to pho": Role.TEAM_MEMBER,
    "to truong": Role.TEAM_LEAD,
    "can bo cong an": Role.OFFICER,
    "cong an": Role.OFFICER,
    "quan tri": Role.ADMIN,
    "nguoi dan": Role.RESIDENT,
}
TEAM_WORDS: dict[str, TeamKind] = {
    "to bao ve an ninh trat tu": TeamKind.SECURITY,
    "an ninh": TeamKind.SECURITY,
    "tu quan": TeamKind.SELF_GOVERNING,
    "lien gia an toan pccc": TeamKind.FIRE_SAFETY,
    "pccc": TeamKind.FIRE_SAFETY,
    "hoa giai": TeamKind.MEDIATION,
    "khac": TeamKind.OTHER,
}
ROSTER_COLUMNS = ("full_name", "role", "hamlet", "team", "team_kind", "phone", "title", "language")


def _parse_choice(value: str, codes: type[_E], words: dict[str, _E]) -> _E | None:
    value = value.strip()
    try:
        return codes(value.lower())
    except ValueError:
        return words.get(strip_diacritics(value))


@dataclass
class RosterRow:
    line: int
    full_name: str
    role: Role
    hamlet: Hamlet | None
    team_name: str | None
    team_kind: TeamKind
    phone: str | None
    title: str | None
    language: str


@dataclass
class RosterResult:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_roster(commune: Commune, raw: bytes, languages: set[str]) -> RosterResult:
    """Check every row first; a file with any bad row imports nothing."""
    result = RosterResult()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.errors.append(f"the file is not UTF-8 (byte {exc.start}): save it as CSV UTF-8")
        return result
    reader = csv.DictReader(io.StringIO(clean(text)))
    missing = {"full_name", "role"} - set(reader.fieldnames or [])
    if missing:
        result.errors.append(
            f"line 1: missing column(s) {', '.join(sorted(missing))}; "
            f"expected {', '.join(ROSTER_COLUMNS)}"
        )
        return result
    for row in reader:
        line = reader.line_num

        def get(key: str, row: dict[str, str | None] = row) -> str:
            return (row.get(key) or "").strip()

        problems = []
        name = get("full_name")
        if not name:
            problems.append("full_name is empty")
        role = _parse_choice(get("role"), Role, ROLE_WORDS)
        if role is None:
            problems.append(
                f"unknown role {get('role')!r} (use {', '.join(r.value for r in Role)})"
            )
        hamlet = find_hamlet(commune, get("hamlet")) if get("hamlet") else None
        if get("hamlet") and hamlet is None:
            problems.append(f"no hamlet {get('hamlet')!r} in {commune.display_name}")
        elif role in HAMLET_ROLES and hamlet is None:
            problems.append(f"role {role} needs a hamlet")
        kind = _parse_choice(get("team_kind") or "security", TeamKind, TEAM_WORDS)
        if kind is None:
            problems.append(f"unknown team_kind {get('team_kind')!r}")
        if get("team") and hamlet is None:
            problems.append("a team needs a hamlet")
        language = get("language") or "vi"
        if language not in languages:
            problems.append(f"no catalogue for language {language!r}")
        phone = get("phone") or None
        if phone and not _PHONE.fullmatch(phone):
            problems.append(f"phone {phone!r} is not a number")
        if problems:
            result.errors.append(f"line {line}: " + "; ".join(problems))
            continue
        assert role is not None and kind is not None
        result.rows.append(
            RosterRow(
                line,
                name,
                role,
                hamlet,
                get("team") or None,
                kind,
                phone,
                get("title") or None,
                language,
            )
        )
    if not result.rows and not result.errors:
        result.errors.append("the file has no rows")
    return result


async def import_roster(session: AsyncSession, commune: Commune, result: RosterResult) -> int:
    teams: dict[tuple[int, str], Team] = {}
    for row in result.rows:
        team = None
        if row.team_name and row.hamlet:
            key = (row.hamlet.id, canonical(row.team_name))
            team = teams.get(key)
            if team is None:
                existing = (
                    await session.scalars(select(Team).where(Team.hamlet_id == row.hamlet.id))
                ).all()
                team = next((t for t in existing if canonical(t.name) == key[1]), None)
                team = team or await add_team(session, row.hamlet, row.team_name, row.team_kind)
                teams[key] = team
        await add_person(
            session,
            commune=commune,
            full_name=row.full_name,
            role=row.role,
            hamlet=row.hamlet,
            team=team,
            phone=row.phone,
            title=row.title,
            language=row.language,
        )
    return len(result.rows)


# --- listing ------------------------------------------------------------------------------


async def describe(session: AsyncSession) -> list[str]:
    """Every commune with its hamlets, teams and people, as lines of text."""
    lines: list[str] = []
    communes = (
        await session.scalars(
            select(Commune).options(selectinload(Commune.hamlets)).order_by(Commune.id)
        )
    ).all()
    if not communes:
        return ["No commune yet. 'binhyen demo' seeds one; 'binhyen commune add' creates one."]
    for commune in communes:
        people = (
            await session.scalars(
                select(Person)
                .where(Person.commune_id == commune.id, Person.active.is_(True))
                .order_by(Person.hamlet_id.nulls_first(), Person.role, Person.full_name)
            )
        ).all()
        teams = (
            await session.scalars(select(Team).join(Hamlet).where(Hamlet.commune_id == commune.id))
        ).all()
        linked = dict(
            (
                await session.execute(
                    select(Person.id, func.count())
                    .select_from(Person)
                    .join(Person.identities)
                    .where(Person.commune_id == commune.id)
                    .group_by(Person.id)
                )
            )
            .tuples()
            .all()
        )
        lines.append(
            f"[{commune.id}] {commune.display_name}, {commune.province.label} "
            f"{commune.province.name} — {len(commune.hamlets)} hamlets, "
            f"{len(teams)} teams, {len(people)} people"
        )
        for person in people:
            if person.hamlet_id is None and person.role != Role.RESIDENT:
                lines.append(_person_line(person, linked, "  "))
        for hamlet in commune.hamlets:
            households = f", {hamlet.households} households" if hamlet.households else ""
            lines.append(f"  [{hamlet.id}] {hamlet.display_name}{households}")
            for team in (t for t in teams if t.hamlet_id == hamlet.id):
                lines.append(f"      team [{team.id}] {team.name} ({team.kind})")
            for person in (p for p in people if p.hamlet_id == hamlet.id):
                lines.append(_person_line(person, linked, "      "))
        residents = sum(1 for p in people if p.role == Role.RESIDENT)
        if residents:
            lines.append(f"  + {residents} residents registered for tips")
    return lines


def _person_line(person: Person, linked: dict[int, int], indent: str) -> str:
    chat = "linked" if linked.get(person.id) else "no chat yet"
    return f"{indent}person [{person.id}] {person.full_name or '-'} — {person.role} ({chat})"
