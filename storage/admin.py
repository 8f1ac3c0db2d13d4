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

from locales import FALLBACK, t
from locales import t as tr
from locales.text import (
    canonical,
    clean,
    first_upper,
    fold,
    hamlets_word,
    role_name,
    strip_diacritics,
)
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
    """A request the data does not allow. It carries a catalogue key under ``cli.error`` and
    its values, so the command line says it in the admin's language."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key, values)
        self.key = key
        self.values = values

    def __str__(self) -> str:
        return f"{self.key} {self.values}" if self.values else self.key


def same_name(a: str, b: str) -> bool:
    """Two names an admin means as one: "Ap Phu My" and "Ấp Phú Mỹ", "phú  mỹ" and "Phú Mỹ"."""
    return strip_diacritics(a) == strip_diacritics(b)


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
    existing = (
        await session.scalars(select(Commune.name).where(Commune.province_id == prov.id))
    ).all()
    twin = next((c for c in existing if same_name(c, name)), None)
    if twin is not None:
        raise AdminError("commune_exists", commune=f"{label} {twin}", province=prov.name)
    seen: list[str] = []
    for hamlet in hamlets or []:
        if any(same_name(hamlet, other) for other in seen):
            raise AdminError("hamlet_twice", hamlet=hamlet)
        seen.append(hamlet)
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
    ("Ấp Vĩnh Phú") gives the kind, whatever label says. One already there, also typed
    without diacritics ("Ap Phu My"), is refused."""
    named, bare = hamlet_kinds.split_name(clean(name.strip()))
    if not strip_diacritics(bare):
        raise AdminError("hamlet_name_empty")
    try:
        kind = hamlet_kinds.checked(named or label)
    except hamlet_kinds.UnknownKind as error:
        raise AdminError(
            tr(FALLBACK, "hamlet_kind.unknown", kind=label, kinds=error.kinds)
        ) from None
    existing = (await session.scalars(select(Hamlet).where(Hamlet.commune_id == commune.id))).all()
    typed = (bare, f"{kind} {bare}")
    for other in existing:
        if any(same_name(a, b) for a in typed for b in (other.name, other.display_name)):
            raise AdminError(
                "hamlet_exists",
                hamlet=other.display_name,
                id=other.id,
                commune=commune.display_name,
            )
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
        raise AdminError("no_commune", commune=name_or_id)
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


async def find_team(session: AsyncSession, hamlet: Hamlet, name: str) -> Team | None:
    """The hamlet's team of that name, however its diacritics were typed."""
    existing = (await session.scalars(select(Team).where(Team.hamlet_id == hamlet.id))).all()
    return next((x for x in existing if same_name(x.name, name)), None)


async def add_team(session: AsyncSession, hamlet: Hamlet, name: str, kind: TeamKind) -> Team:
    name = clean(name.strip())
    if not strip_diacritics(name):
        raise AdminError("team_name_empty")
    twin = await find_team(session, hamlet, name)
    if twin is not None:
        raise AdminError("team_exists", team=twin.name, id=twin.id, hamlet=hamlet.display_name)
    team = Team(hamlet_id=hamlet.id, name=name, kind=kind)
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


async def named_residents(*, session: AsyncSession) -> list[Person]:
    """Active residents known by name (a roster's or the demo's), for the console's chooser."""
    rows = await session.scalars(
        select(Person).where(
            Person.role == Role.RESIDENT,
            Person.active.is_(True),
            Person.full_name.is_not(None),
            Person.full_name != "",
        )
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
        raise AdminError("needs_hamlet", role=role.value)
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


# --- roles typed as words, roster import ---------------------------------------------------

# Folded (strip_diacritics) words an admin types for a role, besides the codes themselves:
# the titles each kind of hamlet gives its head, and the English words.
ROLE_WORDS: dict[str, Role] = {
    **{
        f"truong {kind}": Role.HAMLET_HEAD
        for kind in ("thon", "ap", "ban", "xom", "khom", "buon", "lang", "phum", "soc", "khu pho")
    },
    "to truong to dan pho": Role.HAMLET_HEAD,
    "hamlet head": Role.HAMLET_HEAD,
    "to truong": Role.TEAM_LEAD,
    "doi truong": Role.TEAM_LEAD,
    "team lead": Role.TEAM_LEAD,
    "to vien": Role.TEAM_MEMBER,
    "thanh vien": Role.TEAM_MEMBER,
    "to pho": Role.TEAM_MEMBER,
    "team member": Role.TEAM_MEMBER,
    "can bo": Role.OFFICER,
    "can bo cong an": Role.OFFICER,
    "cong an": Role.OFFICER,
    "cong an xa": Role.OFFICER,
    "quan tri": Role.ADMIN,
    "quan tri vien": Role.ADMIN,
    "nguoi dan": Role.RESIDENT,
    "dan": Role.RESIDENT,
}
TEAM_WORDS: dict[str, TeamKind] = {
    "to bao ve an ninh trat tu": TeamKind.SECURITY,
    "bao ve an ninh trat tu": TeamKind.SECURITY,
    "an ninh": TeamKind.SECURITY,
    "antt": TeamKind.SECURITY,
    "tu quan": TeamKind.SELF_GOVERNING,
    "lien gia an toan pccc": TeamKind.FIRE_SAFETY,
    "pccc": TeamKind.FIRE_SAFETY,
    "hoa giai": TeamKind.MEDIATION,
    "khac": TeamKind.OTHER,
}
ROSTER_COLUMNS = ("full_name", "role", "hamlet", "team", "team_kind", "phone", "title", "language")


def _parse_choice(value: str, codes: type[_E], words: dict[str, _E]) -> _E | None:
    folded = strip_diacritics(value)
    try:
        return codes(folded.replace(" ", "_"))
    except ValueError:
        return words.get(folded)


def parse_role(text: str) -> Role | None:
    """A role from its code ("hamlet_head") or its words, with or without diacritics
    ("trưởng ấp", "truong thon", "cán bộ", "người dân")."""
    return _parse_choice(text, Role, ROLE_WORDS)


def parse_team_kind(text: str) -> TeamKind | None:
    return _parse_choice(text, TeamKind, TEAM_WORDS)


def phone_key(phone: str | None) -> str | None:
    """One form for a phone number however it was written: "+84 912 345 678" = "0912345678"."""
    if not phone:
        return None
    digits = re.sub(r"[^0-9]", "", phone)
    if phone.strip().startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        digits = "0" + digits[2:]
    return digits or None


@dataclass(frozen=True)
class Problem:
    """What is wrong with a roster line: a catalogue key under ``cli.roster`` and its values."""

    key: str
    values: dict[str, str | int] = field(default_factory=dict)


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
    language: str | None


@dataclass
class RosterResult:
    rows: list[RosterRow] = field(default_factory=list)
    # (line, what is wrong with it); line 0 is the whole file.
    errors: list[tuple[int, list[Problem]]] = field(default_factory=list)


def roster_errors(language: str, result: RosterResult) -> list[str]:
    """What is wrong with a roster, a line each ("Dòng 3: …"), in the admin's language: the
    command line and the desk say it alike."""
    lines = []
    for line, problems in result.errors:
        text = "; ".join(
            t(
                language,
                f"cli.roster.{p.key}",
                **{k: t(language, f"role.{v}") if k == "role" else v for k, v in p.values.items()},
            )
            for p in problems
        )
        where = t(language, "cli.roster.line", line=line) if line else ""
        lines.append(where + text)
    return lines


def _row_key(name: str, hamlet: Hamlet | None) -> tuple[str, int | None]:
    return strip_diacritics(name), hamlet.id if hamlet else None


def parse_roster(commune: Commune, raw: bytes, languages: set[str]) -> RosterResult:
    """Check every row first; a file with any bad row imports nothing."""
    result = RosterResult()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.errors.append((0, [Problem("not_utf8", {"byte": exc.start})]))
        return result
    reader = csv.DictReader(io.StringIO(clean(text)))
    fields = [(f or "").strip() for f in reader.fieldnames or []]
    reader.fieldnames = fields
    missing = {"full_name", "role"} - set(fields)
    if missing:
        result.errors.append(
            (
                1,
                [
                    Problem(
                        "missing_columns",
                        {
                            "columns": ", ".join(sorted(missing)),
                            "expected": ",".join(ROSTER_COLUMNS),
                        },
                    )
                ],
            )
        )
        return result
    by_phone: dict[str, int] = {}
    by_name: dict[tuple[str, int | None], int] = {}
    for row in reader:
        line = reader.line_num

        def get(key: str, row: dict[str, str | None] = row) -> str:
            return (row.get(key) or "").strip()

        problems = []
        name = get("full_name")
        if not strip_diacritics(name):
            problems.append(Problem("name_empty"))
        role = parse_role(get("role"))
        if role is None:
            problems.append(Problem("unknown_role", {"typed": get("role")}))
        hamlet = find_hamlet(commune, get("hamlet")) if get("hamlet") else None
        if get("hamlet") and hamlet is None:
            problems.append(
                Problem("no_hamlet", {"hamlet": get("hamlet"), "commune": commune.display_name})
            )
        elif role in HAMLET_ROLES and hamlet is None:
            problems.append(Problem("needs_hamlet", {"role": str(role)}))
        kind = parse_team_kind(get("team_kind") or "security")
        if kind is None:
            problems.append(Problem("unknown_team_kind", {"kind": get("team_kind")}))
        if get("team") and hamlet is None:
            problems.append(Problem("team_needs_hamlet"))
        language = get("language") or None
        if language and language not in languages:
            problems.append(Problem("unknown_language", {"language": language}))
        phone = get("phone") or None
        if phone and not _PHONE.fullmatch(phone):
            problems.append(Problem("bad_phone", {"phone": phone}))
        phone_twin = by_phone.get(phone_key(phone) or "")
        if phone_twin:
            problems.append(Problem("same_phone", {"phone": phone or "", "other": phone_twin}))
        name_twin = by_name.get(_row_key(name, hamlet)) if name and not phone_twin else None
        if name_twin:
            problems.append(Problem("same_person", {"name": name, "other": name_twin}))
        if problems:
            result.errors.append((line, problems))
            continue
        assert role is not None and kind is not None
        if phone_key(phone):
            by_phone[phone_key(phone) or ""] = line
        by_name[_row_key(name, hamlet)] = line
        result.rows.append(
            RosterRow(
                line,
                clean(name),
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
        result.errors.append((0, [Problem("no_rows")]))
    return result


def _better_name(stored: str | None, typed: str) -> str:
    """The typed name where it corrects the stored one; the stored one where the two differ
    only by diacritics the typed one lacks ("Le Thi Thu" keeps "Lê Thị Thu")."""
    if stored is None or strip_diacritics(stored) != strip_diacritics(typed):
        return typed
    return typed if stored == fold(stored) and typed != fold(typed) else stored


@dataclass(frozen=True)
class ImportCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    inactive: int = 0  # matched a deactivated person, who stays as they are


async def import_roster(
    session: AsyncSession, commune: Commune, result: RosterResult, default_language: str = "vi"
) -> ImportCounts:
    """Add or update each row's person, so that importing the same file again changes
    nothing: a row is the person of the commune with its phone number, else with its name in
    its hamlet. Empty columns leave what is stored as it is."""
    people = list(
        (await session.scalars(select(Person).where(Person.commune_id == commune.id))).all()
    )
    by_phone = {phone_key(p.phone): p for p in people if phone_key(p.phone)}
    by_name = {_row_key(p.full_name or "", p.hamlet): p for p in people}
    added = updated = unchanged = inactive = 0
    for row in result.rows:
        team = None
        if row.team_name and row.hamlet:
            team = await find_team(session, row.hamlet, row.team_name)
            team = team or await add_team(session, row.hamlet, row.team_name, row.team_kind)
        person = by_phone.get(phone_key(row.phone)) if row.phone else None
        person = person or by_name.get(_row_key(row.full_name, row.hamlet))
        if person is None:
            person = await add_person(
                session,
                commune=commune,
                full_name=row.full_name,
                role=row.role,
                hamlet=row.hamlet,
                team=team,
                phone=row.phone,
                title=row.title,
                language=row.language or default_language,
            )
            people.append(person)
            by_name[_row_key(row.full_name, row.hamlet)] = person
            if phone_key(row.phone):
                by_phone[phone_key(row.phone)] = person
            added += 1
            continue
        if not person.active:
            inactive += 1
            continue
        wanted: dict[str, object] = {
            "full_name": _better_name(person.full_name, row.full_name),
            "role": row.role.value,
            "hamlet_id": row.hamlet.id if row.hamlet and row.role not in COMMUNE_ROLES else None,
        }
        if team is not None:
            wanted["team_id"] = team.id
        for column, given in (
            ("phone", row.phone),
            ("title", row.title),
            ("language", row.language),
        ):
            if given is not None:
                wanted[column] = given
        if row.phone and phone_key(row.phone) == phone_key(person.phone):
            wanted.pop("phone")  # the same number, written another way
        changed = {k: v for k, v in wanted.items() if getattr(person, k) != v}
        if changed:
            for column, new in changed.items():
                setattr(person, column, new)
            updated += 1
        else:
            unchanged += 1
    await session.flush()
    return ImportCounts(added, updated, unchanged, inactive)


async def find_twin(
    session: AsyncSession,
    *,
    commune: Commune,
    full_name: str,
    hamlet: Hamlet | None,
    phone: str | None,
) -> Person | None:
    """The commune's person this one would repeat: the same phone number, else the same name
    (diacritics aside) in the same hamlet."""
    people = (await session.scalars(select(Person).where(Person.commune_id == commune.id))).all()
    key = phone_key(phone)
    by_phone = next((p for p in people if key and phone_key(p.phone) == key), None)
    wanted = _row_key(full_name, hamlet)
    return by_phone or next(
        (p for p in people if _row_key(p.full_name or "", p.hamlet) == wanted), None
    )


# --- listing ------------------------------------------------------------------------------


async def describe(session: AsyncSession, language: str = "vi") -> list[str]:
    """Every commune with its hamlets, teams and people, as lines of text in language."""
    lines: list[str] = []
    communes = (
        await session.scalars(
            select(Commune).options(selectinload(Commune.hamlets)).order_by(Commune.id)
        )
    ).all()
    if not communes:
        return [t(language, "cli.list.empty")]
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
            t(
                language,
                "cli.list.commune",
                id=commune.id,
                commune=commune.display_name,
                province=f"{commune.province.label} {commune.province.name}",
                hamlets=len(commune.hamlets),
                hamlet_word=hamlets_word(language, (h.label for h in commune.hamlets)),
                teams=len(teams),
                people=len(people),
            )
        )
        for person in people:
            if person.hamlet_id is None and person.role != Role.RESIDENT:
                lines.append(_person_line(person, linked, "  ", language))
        for hamlet in commune.hamlets:
            households = (
                t(language, "cli.list.households", count=hamlet.households)
                if hamlet.households
                else ""
            )
            lines.append(f"  [{hamlet.id}] {first_upper(hamlet.display_name)}{households}")
            for team in (x for x in teams if x.hamlet_id == hamlet.id):
                kind = t(language, f"cli.team_kind.{team.kind}")
                lines.append(t(language, "cli.list.team", id=team.id, team=team.name, kind=kind))
            for person in (p for p in people if p.hamlet_id == hamlet.id):
                lines.append(_person_line(person, linked, "      ", language, hamlet.label))
        residents = sum(1 for p in people if p.role == Role.RESIDENT)
        if residents:
            lines.append(t(language, "cli.list.residents", count=residents))
    return lines


def _person_line(
    person: Person, linked: dict[int, int], indent: str, language: str, kind: str | None = None
) -> str:
    chat = t(language, "cli.list.linked" if linked.get(person.id) else "cli.list.no_chat")
    return indent + t(
        language,
        "cli.list.person",
        id=person.id,
        name=person.full_name or "-",
        role=role_name(language, person.role, kind),
        chat=chat,
    )
