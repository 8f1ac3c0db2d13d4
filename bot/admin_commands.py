"""The administration commands behind `binhyen`: each opens the database, acts, prints."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from locales import FALLBACK, available_languages, catalogue, t
from locales.text import first_upper, lower_first, role_name
from storage import admin
from storage.db import downgrade, make_engine, make_sessionmaker, upgrade
from storage.demo import demo_exists, seed_demo
from storage.demo_tra_vinh import seed_tra_vinh_demo, tra_vinh_demo_exists
from storage.identity import clean_code, pretty_invite
from storage.models import Hamlet, Team
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


def say(settings: Settings, key: str, **values: object) -> str:
    """A message of the command line, in DEFAULT_LANGUAGE."""
    return t(settings.default_language, key, **values)


def _fail(settings: Settings, key: str, **values: object) -> int:
    print(say(settings, "cli.error_line", message=say(settings, key, **values)), file=sys.stderr)
    return 1


def admin_error(language: str, exc: admin.AdminError) -> str:
    """An AdminError in words: its key under cli.error, a role value as the role's word."""
    if f"cli.error.{exc.key}" not in catalogue(FALLBACK):
        return exc.key  # a message written out where it was raised
    values = {k: t(language, f"role.{v}") if k == "role" else v for k, v in exc.values.items()}
    return t(language, f"cli.error.{exc.key}", **values)


def _admin_fail(settings: Settings, exc: admin.AdminError) -> int:
    message = admin_error(settings.default_language, exc)
    print(say(settings, "cli.error_line", message=message), file=sys.stderr)
    return 1


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken

    from bot.app import run_bot

    workers = getattr(args, "workers", 1)
    if workers > 1 and not settings.resolved_database_url.startswith("postgresql"):
        return _fail(settings, "cli.workers.needs_postgres")
    if workers > 1 and not (settings.telegram_bot_token or settings.zalo_bot_token):
        return _fail(settings, "cli.workers.needs_token")
    if workers > 1 and args.console:
        return _fail(settings, "cli.workers.no_console")
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
        return _fail(settings, "cli.token_refused")


async def db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import migration_keys

    engine = make_engine(settings.resolved_database_url)
    try:
        if args.db_command == "upgrade":
            await upgrade(engine, keys=migration_keys(settings))
            print(say(settings, "cli.db.upgraded"))
        else:
            await downgrade(engine, args.revision, keys=migration_keys(settings))
            print(say(settings, "cli.db.downgraded", revision=args.revision))
    finally:
        await engine.dispose()
    return 0


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        if args.commune == "tra-vinh":
            if await tra_vinh_demo_exists(session):
                print(say(settings, "cli.demo.tra_vinh_exists"))
                return 0
            commune = await seed_tra_vinh_demo(session)
            print(say(settings, "cli.demo.tra_vinh_seeded", commune=commune.display_name))
            return 0
        if await demo_exists(session):
            print(say(settings, "cli.demo.exists"))
            return 0
        commune = await seed_demo(session)
        print(say(settings, "cli.demo.seeded", commune=commune.display_name))
    return 0


async def listing(settings: Settings, args: argparse.Namespace) -> int:
    from storage.alerts import unreachable_communes

    async with _session(settings) as session:
        lang = settings.default_language
        print("\n".join(await admin.describe(session, lang)))
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
            return _admin_fail(settings, exc)
        print(
            say(
                settings,
                "cli.commune.created",
                id=commune.id,
                commune=commune.display_name,
                count=len(args.hamlet),
            )
        )
    return 0


async def hamlet_add(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        hamlet = await admin.add_hamlet(session, commune, args.name, args.label, args.households)
        print(
            say(
                settings,
                "cli.hamlet.created",
                id=hamlet.id,
                hamlet=hamlet.display_name,
                commune=commune.display_name,
            )
        )
    return 0


async def team_add(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        hamlet = admin.find_hamlet(commune, args.hamlet)
        if hamlet is None:
            raise admin.AdminError("no_hamlet", hamlet=args.hamlet, commune=commune.display_name)
        team = await admin.add_team(session, hamlet, args.name, args.kind)
        print(
            say(
                settings, "cli.team.created", id=team.id, team=team.name, hamlet=hamlet.display_name
            )
        )
    return 0


async def person(settings: Settings, args: argparse.Namespace) -> int:
    if args.sub == "deactivate":
        from storage import access

        async with _session(settings) as session:
            revoked = await access.deactivate(session=session, person_id=args.id)
        if revoked is None:
            return _fail(settings, "cli.error.no_person", ids=args.id)
        print(
            say(
                settings,
                "cli.person.deactivated",
                name=revoked.person.full_name or revoked.person.id,
                accounts=revoked.accounts,
                invites=revoked.invites,
            )
        )
        return 0
    if args.sub == "show":
        from storage.privacy import stored_about

        async with _session(settings) as session:
            lines = await stored_about(session, args.id, with_tips=False)
        if not lines:
            return _fail(settings, "cli.error.no_person", ids=args.id)
        lang = settings.default_language
        for what, value in lines:
            label = t(lang, "data." + what.replace(" ", "_"))
            shown = t(lang, f"role.{value}") if what == "role" else value
            print(f"{label + ':':<28} {shown}")
        print(say(settings, "cli.person.tips_hidden"))
        return 0
    return await person_add(settings, args)


async def person_add(settings: Settings, args: argparse.Namespace) -> int:
    async with _session(settings) as session:
        try:
            commune = await admin.find_commune(session, args.commune)
            hamlet = admin.find_hamlet(commune, args.hamlet) if args.hamlet else None
            if args.hamlet and hamlet is None:
                raise admin.AdminError(
                    "no_hamlet", hamlet=args.hamlet, commune=commune.display_name
                )
            team = await _team(session, hamlet, args.team) if args.team else None
            language = args.language or settings.default_language
            if language not in available_languages():
                raise admin.AdminError(
                    "no_language", language=language, languages=", ".join(available_languages())
                )
            twin = await admin.find_twin(
                session, commune=commune, full_name=args.name, hamlet=hamlet, phone=args.phone
            )
            if twin is not None:
                raise admin.AdminError(
                    "person_exists",
                    name=twin.full_name or "-",
                    id=twin.id,
                    place=twin.hamlet.display_name if twin.hamlet else commune.display_name,
                )
            person = await admin.add_person(
                session,
                commune=commune,
                full_name=args.name,
                role=args.role,
                hamlet=hamlet,
                team=team,
                phone=args.phone,
                title=args.title,
                language=language,
            )
        except admin.AdminError as exc:
            return _admin_fail(settings, exc)
        print(
            say(
                settings,
                "cli.person.added",
                id=person.id,
                name=person.full_name,
                role=t(settings.default_language, f"role.{person.role}"),
            )
        )
    return 0


async def _team(session: AsyncSession, hamlet: Hamlet | None, typed: str) -> Team:
    """A team by its id or its name, in the person's hamlet."""
    team = None
    if typed.isdecimal():
        team = await admin.get_team(session=session, team_id=int(typed))
    elif hamlet is not None:
        team = await admin.find_team(session, hamlet, typed)
    if team is None or hamlet is None or team.hamlet_id != hamlet.id:
        raise admin.AdminError("no_team", team=typed, hamlet=hamlet.display_name if hamlet else "-")
    return team


async def roster_import(settings: Settings, args: argparse.Namespace) -> int:
    lang = settings.default_language
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        return _fail(settings, "cli.roster.unreadable", file=args.file, reason=exc.strerror)
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        result = admin.parse_roster(commune, raw, set(available_languages()))
        if result.errors:
            print(say(settings, "cli.roster.nothing_imported", file=args.file), file=sys.stderr)
            for text in admin.roster_errors(lang, result):
                print(f"  {text}", file=sys.stderr)
            return 1
        counts = await admin.import_roster(session, commune, result, lang)
        print(
            say(
                settings,
                "cli.roster.imported",
                commune=commune.display_name,
                added=counts.added,
                updated=counts.updated,
                unchanged=counts.unchanged,
            )
        )
        if counts.inactive:
            print(say(settings, "cli.roster.inactive", count=counts.inactive))
    return 0


async def identity(settings: Settings, args: argparse.Namespace) -> int:
    from storage import access

    async with _session(settings) as session:
        count = await access.unlink_accounts(
            session=session, person_id=args.person, channel=args.channel
        )
    print(say(settings, "cli.identity.unlinked", count=count, person=args.person))
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
            print(say(settings, "cli.duty.unlinked", commune=commune.display_name, count=count))
            return 0
        names = await admin.commune_names(session=session)
        chats = await access.duty_chats(session=session, commune_id=commune.id if commune else None)
        for chat in chats:
            print(f"{names[chat.commune_id]:<20} {chat.channel:<9} {chat.chat_id}")
        if not chats:
            print(say(settings, "cli.duty.none"))
    return 0


class BotNameError(Exception):
    """No bot name a link can carry; the key under cli.invite says what to set."""


async def bot_username(settings: Settings) -> str | None:
    """The Telegram bot's username, as Telegram says it (getMe) when a token is set, else as
    TELEGRAM_BOT_USERNAME says; None on a Zalo-only install, whose invites are typed codes."""
    if settings.telegram_bot_token:
        url = f"{settings.telegram_api_base_url}/bot{settings.telegram_bot_token}/getMe"
        try:
            async with httpx.AsyncClient(timeout=15) as client:
                answer = await client.get(url)
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            if settings.telegram_bot_username:
                return settings.telegram_bot_username.lstrip("@")
            raise BotNameError("unreachable") from exc
        if answer.status_code in (401, 404) or not body.get("ok"):
            raise BotNameError("token_refused")
        return str(body["result"]["username"])
    if settings.telegram_bot_username.strip().lstrip("@"):
        return settings.telegram_bot_username.strip().lstrip("@")
    if settings.zalo_bot_token:
        return None
    raise BotNameError("no_bot_name")


def invite_link(bot: str, code: str) -> str:
    return f"https://t.me/{bot}?start={code}"


async def invite(settings: Settings, args: argparse.Namespace) -> int:
    # The sheets draw with matplotlib: loaded for this command only, not for `binhyen run`.
    from bot.invite_sheet import Card, SheetWords, write_sheet

    if args.action == "revoke":
        from storage import access

        async with _session(settings) as session:
            if args.commune:
                return _fail(settings, "cli.invite.revoke_needs")
            code = clean_code(args.code) if args.code else None
            count = 0
            for person_id in args.person or [None]:
                count += await access.revoke_invites(
                    session=session, person_id=person_id, code=code
                )
        print(say(settings, "cli.invite.revoked", count=count))
        return 0
    if args.code:
        return _fail(settings, "cli.invite.code_needs_revoke")
    try:
        bot = await bot_username(settings)
    except BotNameError as exc:
        return _fail(settings, f"cli.invite.{exc}")
    lang = settings.default_language
    out: Path = args.out or settings.data_dir / "invites"
    async with _session(settings) as session:
        if args.person:
            people = [
                p
                for pid in args.person
                if (p := await admin.get_person(session=session, person_id=pid))
            ]
            missing = set(args.person) - {p.id for p in people}
            if missing:
                return _fail(
                    settings, "cli.error.no_person", ids=", ".join(map(str, sorted(missing)))
                )
        else:
            commune = await admin.find_commune(session, args.commune)
            people = await admin.people_to_invite(session=session, commune_id=commune.id)
        if not people:
            print(say(settings, "cli.invite.nobody"))
            return 0
        sheets: dict[str, list[Card]] = {}
        titles: dict[str, str] = {}
        expires = None
        for person in people:
            inv = await admin.issue_invite(session, person, settings.invite_ttl_days)
            expires = inv.expires_at
            link = invite_link(bot, inv.code) if bot else None
            place = person.hamlet or person.commune
            where = place.display_name if place else "-"
            role = role_name(lang, person.role, person.hamlet.label if person.hamlet else None)
            sheets.setdefault(where, []).append(
                Card(
                    person.full_name or "-", role, first_upper(where), pretty_invite(inv.code), link
                )
            )
            commune_name = person.commune.display_name if person.commune else ""
            titles[where] = first_upper(  # a heading of its own: "Ấp Phú Mỹ, xã Tân Hòa"
                where if where == commune_name else f"{where}, {commune_name}"
            )
            print(
                say(
                    settings,
                    "cli.invite.person",
                    name=person.full_name,
                    role=role,
                    place=where,
                    link=link or say(settings, "cli.invite.no_link"),
                    code=pretty_invite(inv.code),
                )
            )
    assert expires is not None
    how = say(settings, "cli.invite.sheet_how" if bot else "invite.sheet_how_zalo")
    for where, cards in sheets.items():
        words = SheetWords(
            title=say(settings, "cli.invite.sheet_title", place=titles[where]),
            code_label=say(settings, "cli.invite.sheet_code"),
            valid_until=say(settings, "cli.invite.sheet_valid", date=f"{expires:%d/%m/%Y}"),
            how=how,
        )
        for path in write_sheet(out, where, cards, words, args.format):
            print(say(settings, "cli.invite.sheet_written", place=where, path=path))
    print(say(settings, "cli.invite.valid_until", date=f"{expires:%d/%m/%Y}"))
    return 0


async def export(settings: Settings, args: argparse.Namespace) -> int:
    from storage.export import export_csv_zip, export_xlsx
    from storage.periods import containing

    language = args.language or settings.default_language
    if language not in available_languages():
        raise admin.AdminError(
            "no_language", language=language, languages=", ".join(available_languages())
        )
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
    print(
        say(settings, "cli.export.written", path=out, period=period.label, size=f"{len(content):,}")
    )
    return 0


async def digest(settings: Settings, args: argparse.Namespace) -> int:
    """Queue a digest; the running bot's outbox sends it (once, however often this runs)."""
    from scheduler.digest import DIGEST_KINDS, queue_digest
    from storage.periods import last_complete

    async with _session(settings) as session:
        communes = await admin.communes(session=session, name=args.commune)
        if not communes:
            print(say(settings, "cli.list.empty"))
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
                "cli.digest.before"
                if queued is None
                else "cli.digest.no_chat"
                if queued == 0
                else "cli.digest.queued"
            )
            print(
                say(
                    settings,
                    state,
                    commune=commune.display_name,
                    digest=lower_first(
                        t(settings.default_language, f"schedule.name.digest_{args.kind}")
                    ),
                    period=period.label,
                    count=queued or 0,
                )
            )
    return 0


async def remind(settings: Settings, args: argparse.Namespace) -> int:
    """This week's reminder now, to the hamlets still missing a report (once per week), and
    the hamlet heads it cannot reach, by name."""
    from scheduler.jobs import run_job
    from storage.reminders import hamlet_head_chats, missing_hamlets, unreached_heads
    from storage.reports import week_start
    from storage.schedules import has_run

    job = "remind_again" if args.again else "remind"
    async with _session(settings) as session:
        communes = await admin.communes(session=session, name=args.commune)
        if not communes:
            print(say(settings, "cli.list.empty"))
        now = utcnow()
        for commune in communes:
            monday = week_start(now.astimezone(ZoneInfo(commune.timezone)).date())
            week = f"{monday:%d/%m} – {monday + timedelta(days=6):%d/%m/%Y}"
            before = await has_run(
                session=session, commune_id=commune.id, job=job, run_key=monday.isoformat()
            )
            await run_job(
                session,
                commune,
                job,
                now,
                now,
                settings.data_dir / "digests",
                settings.default_language,
            )
            missing = await missing_hamlets(session=session, commune_id=commune.id, monday=monday)
            if before:
                print(say(settings, "cli.remind.before", commune=commune.display_name, week=week))
                continue
            if not missing:
                print(say(settings, "cli.remind.all_in", commune=commune.display_name, week=week))
                continue
            chats = await hamlet_head_chats(session=session, hamlet_ids=[h.id for h in missing])
            print(
                say(
                    settings,
                    "cli.remind.sent",
                    commune=commune.display_name,
                    week=week,
                    chats=len(chats),
                    hamlets=len(missing),
                )
            )
            for gap in await unreached_heads(session=session, hamlets=missing):
                key = "no_head" if gap.head is None else "blocked" if gap.blocked else "no_chat"
                print("  " + say(settings, f"cli.remind.{key}", hamlet=gap.hamlet, name=gap.head))
    return 0


async def schedule(settings: Settings, args: argparse.Namespace) -> int:
    from scheduler.crontab import CronError, parse
    from storage.schedules import DEFAULTS, ensure_defaults, schedules_of, set_schedule

    async with _session(settings) as session:
        await ensure_defaults(session)
        if args.sub == "set":
            commune = await admin.find_commune(session, args.commune)
            if args.job not in DEFAULTS:
                return _fail(
                    settings, "cli.schedule.unknown", job=args.job, jobs=", ".join(DEFAULTS)
                )
            try:
                if args.cron:
                    parse(args.cron, ZoneInfo(commune.timezone), utcnow())
            except CronError as exc:
                reason = t(settings.default_language, f"schedule.error.{exc.reason}")
                return _fail(settings, "cli.schedule.bad_cron", reason=reason)
            enabled = True if args.on else False if args.off else None
            row = await set_schedule(session, commune.id, args.job, args.cron, enabled)
            print(
                say(
                    settings,
                    "cli.schedule.set",
                    commune=commune.display_name,
                    job=row.job,
                    cron=row.cron,
                    off="" if row.enabled else say(settings, "cli.schedule.off"),
                )
            )
            return 0
        names = await admin.commune_names(session=session)
        for row in await schedules_of(session):
            state = "" if row.enabled else say(settings, "cli.schedule.off")
            print(f"{names[row.commune_id]:<20} {row.job:<18} {row.cron}{state}")
    return 0


async def outbox(settings: Settings, args: argparse.Namespace) -> int:
    from storage import outbox as messages
    from storage.enums import OutboxStatus

    async with _session(settings) as session:
        if args.retry:
            count = await messages.retry_failed(session=session, now=utcnow())
            print(say(settings, "cli.outbox.retried", count=count))
        overview = await messages.overview(session=session)
        print(
            "  ".join(
                f"{say(settings, f'cli.outbox.status.{status}')}: {overview.counts[status]}"
                for status in OutboxStatus
            )
        )
        for row in overview.failed:
            # Chat ids are shortened: a tipster's chat must not be readable here either.
            print(
                f"  #{row.id} {row.channel} …{row.chat_id[-3:]} {row.purpose} "
                f"{say(settings, 'cli.outbox.attempts', count=row.attempts)} {row.last_error}"
            )
    return 0
