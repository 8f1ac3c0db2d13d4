"""The administration commands behind `binhyen`: each opens the database, acts, prints."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from locales import available_languages, t
from locales.text import strip_diacritics
from storage import admin
from storage.db import downgrade, make_engine, make_sessionmaker, upgrade
from storage.demo import demo_exists, seed_demo
from storage.enums import Role, TeamKind
from storage.identity import clean_code, pretty_invite
from storage.types import utcnow


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = make_engine(settings.resolved_database_url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


def _fail(message: str) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return 1


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken

    from bot.app import run_bot

    workers = getattr(args, "workers", 1)
    if workers > 1 and not settings.resolved_database_url.startswith("postgresql"):
        return _fail("--workers needs PostgreSQL (set DATABASE_URL): SQLite takes one process")
    if workers > 1 and not (settings.telegram_bot_token or settings.zalo_bot_token):
        return _fail("--workers needs TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN: nothing to share")
    if workers > 1 and args.console:
        return _fail("--workers serves Telegram and Zalo: the console chat is one process")
    try:
        if workers <= 1:
            return await run_bot(
                settings,
                console=args.console,
                person_id=args.person,
                worker=getattr(args, "worker", False),
            )
        from bot.workers import Workers

        others = Workers(workers)
        supervising = asyncio.create_task(others.supervise())
        try:
            return await run_bot(settings)
        finally:
            await others.stop()
            supervising.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervising
    except InvalidToken:
        return _fail(
            "Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather, then set it in .env"
        )


async def db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import migration_keys

    engine = make_engine(settings.resolved_database_url)
    try:
        if args.db_command == "upgrade":
            await upgrade(engine, keys=migration_keys(settings))
            print("Database schema is up to date.")
        else:
            await downgrade(engine, args.revision, keys=migration_keys(settings))
            print(f"Database schema downgraded to {args.revision}.")
    finally:
        await engine.dispose()
    return 0


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        if await demo_exists(session):
            print("The database already has a commune; the demo is seeded only into an empty one.")
            return 0
        commune = await seed_demo(session)
        print(
            f"Seeded {commune.display_name}. 'binhyen list' shows it; 'binhyen run' opens a chat."
        )
    return 0


async def listing(settings: Settings, args: argparse.Namespace) -> int:
    from storage.alerts import unreachable_communes

    async with _session(settings) as session:
        print("\n".join(await admin.describe(session)))
        lang = settings.default_language
        for commune in await unreachable_communes(session=session, language=lang):
            print(t(lang, "alert.unreachable_commune", commune=commune.display_name))
    return 0


async def commune_add(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        try:
            commune = await admin.create_commune(
                session,
                province=args.province,
                name=args.name,
                label=args.label,
                hamlets=args.hamlet,
                hamlet_label=args.hamlet_label,
                district=args.district,
                timezone=args.timezone or settings.timezone,
            )
        except admin.AdminError as exc:
            return _fail(str(exc))
        print(f"Created [{commune.id}] {commune.display_name} with {len(args.hamlet)} hamlets.")
    return 0


async def hamlet_add(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        hamlet = await admin.add_hamlet(session, commune, args.name, args.label, args.households)
        print(f"Created hamlet [{hamlet.id}] {hamlet.display_name} in {commune.display_name}.")
    return 0


async def team_add(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        hamlet = admin.find_hamlet(commune, args.hamlet)
        if hamlet is None:
            return _fail(f"no hamlet {args.hamlet!r} in {commune.display_name}")
        team = await admin.add_team(session, hamlet, args.name, TeamKind(args.kind))
        print(f"Created team [{team.id}] {team.name} in {hamlet.display_name}.")
    return 0


async def person(settings: Settings, args: argparse.Namespace) -> int:
    if args.sub == "deactivate":
        from storage import access

        async with _session(settings) as session:
            revoked = await access.deactivate(session=session, person_id=args.id)
        if revoked is None:
            return _fail(f"no person with id {args.id}")
        print(
            f"{revoked.person.full_name or revoked.person.id} is deactivated: "
            f"{revoked.accounts} chat account(s) unlinked, {revoked.invites} invite(s) revoked."
        )
        return 0
    if args.sub == "show":
        from storage.privacy import stored_about

        async with _session(settings) as session:
            lines = await stored_about(session, args.id, with_tips=False)
        if not lines:
            return _fail(f"no person with id {args.id}")
        for what, value in lines:
            print(f"{what:<24} {value}")
        print("(Whether this person sent tips is not shown: only they can see it, with /dulieu.)")
        return 0
    return await person_add(settings, args)


async def person_add(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        try:
            commune = await admin.find_commune(session, args.commune)
            hamlet = admin.find_hamlet(commune, args.hamlet) if args.hamlet else None
            if args.hamlet and hamlet is None:
                raise admin.AdminError(f"no hamlet {args.hamlet!r} in {commune.display_name}")
            team = (
                await admin.get_team(session=session, team_id=int(args.team)) if args.team else None
            )
            if args.team and (team is None or hamlet is None or team.hamlet_id != hamlet.id):
                raise admin.AdminError(f"no team {args.team} in that hamlet")
            language = args.language or settings.default_language
            if language not in available_languages():
                raise admin.AdminError(f"no catalogue for language {language!r}")
            person = await admin.add_person(
                session,
                commune=commune,
                full_name=args.name,
                role=Role(args.role),
                hamlet=hamlet,
                team=team,
                phone=args.phone,
                title=args.title,
                language=language,
            )
        except admin.AdminError as exc:
            return _fail(str(exc))
        print(
            f"Added person [{person.id}] {person.full_name} ({person.role}). "
            f"'binhyen invite --person {person.id}' gives them a link."
        )
    return 0


async def roster_import(settings: Settings, args: argparse.Namespace) -> int:
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}")
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        result = admin.parse_roster(commune, raw, set(available_languages()))
        if result.errors:
            print(
                f"Nothing imported from {args.file}: fix these rows and import again.",
                file=sys.stderr,
            )
            for error in result.errors:
                print(f"  {error}", file=sys.stderr)
            return 1
        count = await admin.import_roster(session, commune, result)
        print(f"Imported {count} people into {commune.display_name}.")
    return 0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", strip_diacritics(text)).strip("-") or "person"


def invite_link(settings: Settings, code: str) -> str:
    bot = settings.telegram_bot_username.lstrip("@") or "YOUR_BOT"
    return f"https://t.me/{bot}?start={code}"


async def identity(settings: Settings, args: argparse.Namespace) -> int:
    from storage import access

    async with _session(settings) as session:
        count = await access.unlink_accounts(
            session=session, person_id=args.person, channel=args.channel
        )
    print(f"{count} chat account(s) of person {args.person} unlinked.")
    return 0


async def duty(settings: Settings, args: argparse.Namespace) -> int:
    from storage import access

    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune) if args.commune else None
        if args.sub == "unlink":
            assert commune is not None
            count = await access.unlink_duty(
                session=session, commune_id=commune.id, channel=args.channel
            )
            print(f"{commune.display_name}: {count} duty chat(s) unlinked.")
            return 0
        names = await admin.commune_names(session=session)
        chats = await access.duty_chats(session=session, commune_id=commune.id if commune else None)
        for chat in chats:
            print(f"{names[chat.commune_id]:<20} {chat.channel:<9} {chat.chat_id}")
        if not chats:
            print("No duty chat is linked.")
    return 0


async def invite(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "revoke":
        from storage import access

        async with _session(settings) as session:
            if args.commune:
                return _fail("revoke takes --person or --code")
            code = clean_code(args.code) if args.code else None
            count = 0
            for person_id in args.person or [None]:
                count += await access.revoke_invites(
                    session=session, person_id=person_id, code=code
                )
        print(f"{count} unused invite(s) revoked.")
        return 0
    if args.code:
        return _fail("--code goes with revoke: binhyen invite revoke --code ABCD-EFGH-JKMN")
    out: Path = args.out or settings.data_dir / "invites"
    out.mkdir(parents=True, exist_ok=True)
    async with _session(settings) as session:
        if args.person:
            people = [
                p
                for pid in args.person
                if (p := await admin.get_person(session=session, person_id=pid))
            ]
            missing = set(args.person) - {p.id for p in people}
            if missing:
                return _fail(f"no person with id {', '.join(map(str, sorted(missing)))}")
        else:
            commune = await admin.find_commune(session, args.commune)
            people = await admin.people_to_invite(session=session, commune_id=commune.id)
        if not settings.telegram_bot_username:
            print("Note: set TELEGRAM_BOT_USERNAME so the links name your bot.", file=sys.stderr)
        for person in people:
            inv = await admin.issue_invite(session, person, settings.invite_ttl_days)
            link = invite_link(settings, inv.code)
            png = out / f"invite-{person.id}-{_slug(person.full_name or '')}.png"
            segno.make(link, error="m").save(str(png), scale=10, border=4)
            print(
                f"{person.full_name} ({person.role}): {link}\n"
                f"  Zalo code: {pretty_invite(inv.code)}  QR: {png}  "
                f"valid until {inv.expires_at:%Y-%m-%d}"
            )
    return 0


async def export(settings: Settings, args: argparse.Namespace) -> int:
    from storage.export import export_csv_zip, export_xlsx
    from storage.periods import containing

    language = args.language or settings.default_language
    if language not in available_languages():
        return _fail(f"no catalogue for language {language!r}")
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        now = utcnow()
        tz = ZoneInfo(commune.timezone)
        period = containing(args.period, args.date or now.astimezone(tz).date())
        make = export_csv_zip if args.format == "csv" else export_xlsx
        name, content = await make(session, commune, period, language, now)
    out: Path = args.out or settings.data_dir / "exports"
    if out.is_dir() or not args.out:
        out.mkdir(parents=True, exist_ok=True)
        out = out / name
    out.write_bytes(content)
    print(f"Wrote {out} ({period.label}, {len(content):,} bytes).")
    return 0


async def digest(settings: Settings, args: argparse.Namespace) -> int:
    """Queue a digest; the running bot's outbox sends it (once, however often this runs)."""
    from scheduler.digest import DIGEST_KINDS, queue_digest
    from storage.periods import last_complete

    async with _session(settings) as session:
        communes = await admin.communes(session=session, name=args.commune)
        now = utcnow()
        for commune in communes:
            tz = ZoneInfo(commune.timezone)
            period = last_complete(DIGEST_KINDS[args.kind], now.astimezone(tz).date())
            queued = await queue_digest(
                session,
                commune,
                args.kind,
                period,
                now,
                settings.data_dir / "digests",
                settings.default_language,
            )
            state = (
                "already queued or sent"
                if queued is None
                else "not queued: no officer chat is linked yet (an invite, or /trucban in the "
                "duty group)"
                if queued == 0
                else f"queued for {queued} chat(s)"
            )
            print(f"{commune.display_name}: {args.kind} digest {period.label} {state}.")
    return 0


async def remind(settings: Settings, args: argparse.Namespace) -> int:
    """This week's reminder now, to the hamlets still missing a report (once per week)."""
    from scheduler.jobs import run_job

    job = "remind_again" if args.again else "remind"
    async with _session(settings) as session:
        communes = await admin.communes(session=session, name=args.commune)
        now = utcnow()
        for commune in communes:
            print(
                await run_job(
                    session,
                    commune,
                    job,
                    now,
                    now,
                    settings.data_dir / "digests",
                    settings.default_language,
                )
            )
    return 0


CRONTAB_FORM = 'crontab: minute hour day month weekday, 0 and 7 = Sunday, e.g. "0 16 * * 5"'


async def schedule(settings: Settings, args: argparse.Namespace) -> int:
    from scheduler.crontab import CronError, parse
    from storage.schedules import ensure_defaults, schedules_of, set_schedule

    async with _session(settings) as session:
        await ensure_defaults(session)
        if args.sub == "set":
            try:
                commune = await admin.find_commune(session, args.commune)
                if args.cron:
                    parse(args.cron, ZoneInfo(commune.timezone), utcnow())
                enabled = True if args.on else False if args.off else None
                row = await set_schedule(session, commune.id, args.job, args.cron, enabled)
            except CronError as exc:
                reason = t(settings.default_language, f"schedule.error.{exc.reason}")
                return _fail(f"{reason} ({CRONTAB_FORM})")
            except (admin.AdminError, ValueError) as exc:
                return _fail(f"{exc} ({CRONTAB_FORM})")
            print(
                f"{commune.display_name}: {row.job} = {row.cron}"
                f"{'' if row.enabled else ' (off)'}. Running bots pick it up within a minute."
            )
            return 0
        names = await admin.commune_names(session=session)
        for row in await schedules_of(session):
            state = "" if row.enabled else "  (off)"
            print(f"{names[row.commune_id]:<20} {row.job:<18} {row.cron}{state}")
    return 0


async def outbox(settings: Settings, args: argparse.Namespace) -> int:
    from storage import outbox as messages
    from storage.enums import OutboxStatus

    async with _session(settings) as session:
        if args.retry:
            count = await messages.retry_failed(session=session, now=utcnow())
            print(f"{count} failed message(s) will be sent again.")
        overview = await messages.overview(session=session)
        print("  ".join(f"{status}: {overview.counts[status]}" for status in OutboxStatus))
        for row in overview.failed:
            # Chat ids are shortened: a tipster's chat must not be readable here either.
            print(
                f"  #{row.id} {row.channel} …{row.chat_id[-3:]} {row.purpose} "
                f"attempts={row.attempts} {row.last_error}"
            )
    return 0
