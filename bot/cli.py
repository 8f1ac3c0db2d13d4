"""The `binhyen` command: run the bot, migrate, administer, seed the demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

from bot.settings import Settings, SettingsError, load_settings

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="binhyen", description="Grassroots security reporting bot.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (a console chat when no channel token is set)")
    run.add_argument("--console", action="store_true", help="chat in the terminal even with tokens")
    run.add_argument("--as", dest="person", help="console: chat as this person id")
    run.add_argument(
        "--workers",
        type=positive,
        default=1,
        help="PostgreSQL: this many processes share the work (one polls each token)",
    )
    run.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations")
    down = db_sub.add_parser("downgrade", help="undo migrations down to a revision")
    down.add_argument("revision")

    sub.add_parser("demo", help="seed the demo commune (once)")
    sub.add_parser("list", help="list communes, hamlets, teams and people")

    commune = sub.add_parser("commune", help="communes").add_subparsers(dest="sub", required=True)
    c_add = commune.add_parser("add", help="create a commune and its hamlets")
    c_add.add_argument("--province", required=True)
    c_add.add_argument("--name", required=True)
    c_add.add_argument("--label", default="xã", help="xã, phường or đặc khu")
    c_add.add_argument("--district", help="old district name, for imports of older data")
    c_add.add_argument("--hamlet", action="append", default=[], help="a hamlet (repeat)")
    c_add.add_argument("--hamlet-label", default="thôn", help="thôn, ấp, bản, tổ dân phố…")
    c_add.add_argument("--timezone", default=None)

    hamlet = sub.add_parser("hamlet", help="hamlets").add_subparsers(dest="sub", required=True)
    h_add = hamlet.add_parser("add")
    h_add.add_argument("--commune", required=True, help="commune id or name")
    h_add.add_argument("--label", default="thôn")
    h_add.add_argument("--households", type=int)
    h_add.add_argument("name")

    team = sub.add_parser("team", help="teams").add_subparsers(dest="sub", required=True)
    t_add = team.add_parser("add")
    t_add.add_argument("--commune", required=True)
    t_add.add_argument("--hamlet", required=True)
    t_add.add_argument(
        "--kind",
        default="security",
        choices=["security", "self_governing", "fire_safety", "mediation", "other"],
    )
    t_add.add_argument("name")

    person = sub.add_parser("person", help="people").add_subparsers(dest="sub", required=True)
    p_add = person.add_parser("add")
    p_add.add_argument("--commune", required=True)
    p_add.add_argument(
        "--role",
        required=True,
        choices=["resident", "team_member", "team_lead", "hamlet_head", "officer", "admin"],
    )
    p_add.add_argument("--hamlet")
    p_add.add_argument("--team", help="team id")
    p_add.add_argument("--phone")
    p_add.add_argument("--title", help="ông, bà, anh or chị")
    p_add.add_argument("--language", default=None)
    p_add.add_argument("name")
    p_show = person.add_parser("show", help="everything stored about a person")
    p_show.add_argument("id", type=int)
    p_off = person.add_parser(
        "deactivate", help="the person can do nothing more: chat accounts and invites removed"
    )
    p_off.add_argument("id", type=int)

    identity = sub.add_parser("identity", help="chat accounts").add_subparsers(
        dest="sub", required=True
    )
    i_unlink = identity.add_parser("unlink", help="unlink a person's chat accounts")
    i_unlink.add_argument("--person", type=int, required=True)
    i_unlink.add_argument("--channel", choices=["telegram", "zalo", "console"])

    duty = sub.add_parser("duty", help="duty chats").add_subparsers(dest="sub", required=True)
    d_list = duty.add_parser("list", help="each commune's duty chats")
    d_list.add_argument("--commune")
    d_unlink = duty.add_parser("unlink", help="urgent alerts stop going to a duty chat")
    d_unlink.add_argument("--commune", required=True)
    d_unlink.add_argument("--channel", choices=["telegram", "zalo", "console"])

    roster = sub.add_parser("roster", help="rosters").add_subparsers(dest="sub", required=True)
    r_imp = roster.add_parser("import", help="import people from a UTF-8 CSV file")
    r_imp.add_argument("--commune", required=True)
    r_imp.add_argument("file", type=Path)

    inv = sub.add_parser(
        "invite", help="issue invites (a deep link and a QR-code PNG each), or revoke them"
    )
    inv.add_argument("action", nargs="?", choices=["revoke"], help="revoke unused invites")
    who = inv.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", type=int, action="append", help="person id (repeat)")
    who.add_argument("--commune", help="everyone of this commune without a chat yet")
    who.add_argument("--code", help="with revoke: one invite, by its code")
    inv.add_argument("--out", type=Path, default=None, help="folder for the PNG files")
    exp = sub.add_parser("export", help="write a commune's reports as XLSX or CSV")
    exp.add_argument("--commune", required=True)
    exp.add_argument("--period", default="month", choices=["week", "month", "quarter", "year"])
    exp.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="a day in the period (YYYY-MM-DD); default: today",
    )
    exp.add_argument("--format", default="xlsx", choices=["xlsx", "csv"])
    exp.add_argument("--language", default=None)
    exp.add_argument("--out", type=Path, default=None, help="file or folder to write")

    dig = sub.add_parser("digest", help="queue the digest of the last complete period")
    dig.add_argument("--commune", help="commune id or name; default: every commune")
    dig.add_argument("--kind", default="weekly", choices=["weekly", "monthly", "quarterly"])
    rem = sub.add_parser("remind", help="send this week's report reminders now (once a week)")
    rem.add_argument("--commune", help="commune id or name; default: every commune")
    rem.add_argument("--again", action="store_true", help="the second reminder (Saturday's)")

    sch = sub.add_parser("schedule", help="when reminders, escalations and digests run")
    sch_sub = sch.add_subparsers(dest="sub", required=True)
    sch_sub.add_parser("list")
    sch_set = sch_sub.add_parser("set", help='e.g. set --commune "Tân Hòa" remind "30 15 * * fri"')
    sch_set.add_argument("--commune", required=True)
    sch_set.add_argument("job")
    sch_set.add_argument("cron", nargs="?", help="crontab: minute hour day month weekday")
    sch_set.add_argument("--off", action="store_true")
    sch_set.add_argument("--on", action="store_true")

    out = sub.add_parser("outbox", help="messages waiting or failed")
    out.add_argument("--retry", action="store_true", help="send failed messages again")

    keys = sub.add_parser("key", help="the tip keys, which seal the way back to tipsters")
    keys_sub = keys.add_subparsers(dest="sub", required=True)
    keys_sub.add_parser("new", help="print a new tip key (for TIP_KEY)")
    keys_sub.add_parser(
        "rotate", help="seal every way back to a tipster under a new tip key (bot stopped)"
    )
    bak = sub.add_parser(
        "backup", help="the keys, sealed with a passphrase, and the SQLite database, in one file"
    )
    bak.add_argument("file", type=Path)
    res = sub.add_parser("restore", help="a backup into an empty data folder")
    res.add_argument("file", type=Path)
    return p


# Libraries that log what passes through them (updates, statements, rows) at DEBUG: a tip's
# text and its sender's account would meet in one log line. They log warnings only.
QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "telegram",
    "apscheduler",
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "alembic",
    "matplotlib",
    "tornado",
    "uvicorn.access",
)


def configure_logging(level: str) -> None:
    worker = os.environ.get("BINHYEN_WORKER")  # set by `run --workers` for the others
    where = f"[worker {worker}] " if worker else ""
    logging.basicConfig(
        level=level.upper(), format=f"%(asctime)s %(levelname)s {where}%(name)s: %(message)s"
    )
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(
            f"Cannot start: {exc}\nFix it in .env or the environment (see .env.example).",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level)
    # Imported late: settings errors should not need the ORM.
    from bot import admin_commands, key_commands

    handler: Command = {
        "run": admin_commands.run,
        "db": admin_commands.db,
        "demo": admin_commands.demo,
        "list": admin_commands.listing,
        "commune": admin_commands.commune_add,
        "hamlet": admin_commands.hamlet_add,
        "team": admin_commands.team_add,
        "person": admin_commands.person,
        "roster": admin_commands.roster_import,
        "invite": admin_commands.invite,
        "export": admin_commands.export,
        "digest": admin_commands.digest,
        "remind": admin_commands.remind,
        "schedule": admin_commands.schedule,
        "outbox": admin_commands.outbox,
        "identity": admin_commands.identity,
        "duty": admin_commands.duty,
        "key": key_commands.key,
        "backup": key_commands.make_backup,
        "restore": key_commands.restore,
    }[args.command]
    from storage.admin import AdminError

    try:
        return asyncio.run(handler(settings, args))
    except AdminError as exc:  # a name that matches nothing, a rule the data does not allow
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
