"""The `binhyen` command: run the bot, migrate, administer, seed the demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings, SettingsError, load_settings
from locales import available_languages, t
from storage.admin import parse_role, parse_team_kind
from storage.enums import Role, TeamKind

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


# argparse's own words (usage, errors), by the English it is written in, and their keys
# under cli.argparse: argparse asks gettext for them, and the catalogue answers.
ARGPARSE_WORDS = {
    "usage: ": "usage",
    "positional arguments": "positionals",
    "options": "options",
    "show this help message and exit": "help",
    "the following arguments are required: %s": "required",
    "one of the arguments %s is required": "one_required",
    "invalid choice: %(value)r (choose from %(choices)s)": "invalid_choice",
    "%(prog)s: error: %(message)s\n": "error",
    "unrecognized arguments: %s": "unrecognized",
    "expected one argument": "expected_one",
    "argument %(argument_name)s: %(message)s": "argument",
    "invalid %(type)s value: %(value)r": "invalid_type",
    "not allowed with argument %s": "not_allowed",
}


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("≥ 1")
    return number


def _speak_argparse(language: str) -> None:
    def gettext(message: str) -> str:
        key = ARGPARSE_WORDS.get(message)
        return t(language, f"cli.argparse.{key}") if key else message

    argparse._ = gettext  # type: ignore[attr-defined]


def _role(language: str) -> Callable[[str], Role]:
    def parse(text: str) -> Role:
        role = parse_role(text)
        if role is None:
            raise argparse.ArgumentTypeError(t(language, "cli.error.unknown_role", role=text))
        return role

    return parse


def _team_kind(language: str) -> Callable[[str], TeamKind]:
    def parse(text: str) -> TeamKind:
        kind = parse_team_kind(text)
        if kind is None:
            kinds = ", ".join(t(language, f"cli.team_kind.{k}") for k in TeamKind)
            raise argparse.ArgumentTypeError(
                t(language, "cli.error.unknown_team_kind", kind=text, kinds=kinds)
            )
        return kind

    return parse


def _day(language: str) -> Callable[[str], date]:
    def parse(text: str) -> date:
        for form in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(text.strip(), form).date()
            except ValueError:
                pass
        raise argparse.ArgumentTypeError(t(language, "cli.error.bad_date", value=text))

    return parse


def _parser(language: str = "vi") -> argparse.ArgumentParser:
    _speak_argparse(language)

    def h(key: str) -> str:
        return t(language, f"cli.help.{key}").replace("%", "%%")

    p = argparse.ArgumentParser(prog="binhyen", description=h("description"))
    sub = p.add_subparsers(dest="command", required=True, metavar=h("command"))

    run = sub.add_parser("run", help=h("run"))
    run.add_argument("--console", action="store_true", help=h("run_console"))
    run.add_argument("--as", dest="person", help=h("run_as"))
    run.add_argument("--workers", type=positive, default=1, help=h("run_workers"))
    run.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)

    db = sub.add_parser("db", help=h("db"))
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help=h("db_upgrade"))
    down = db_sub.add_parser("downgrade", help=h("db_downgrade"))
    down.add_argument("revision")

    demo = sub.add_parser("demo", help=h("demo"))
    demo.add_argument(
        "--commune", choices=("tan-hoa", "tra-vinh"), default="tan-hoa", help=h("demo_commune")
    )
    sub.add_parser("list", help=h("list"))

    commune = sub.add_parser("commune", help=h("commune")).add_subparsers(dest="sub", required=True)
    c_add = commune.add_parser("add", help=h("commune_add"))
    c_add.add_argument("--province", required=True, help=h("province"))
    c_add.add_argument("--name", required=True, help=h("commune_name"))
    c_add.add_argument("--label", default="xã", help=h("commune_label"))
    c_add.add_argument("--district", help=h("district"))
    c_add.add_argument("--hamlet", action="append", default=[], help=h("hamlet_repeat"))
    c_add.add_argument("--hamlet-label", default="thôn", help=h("hamlet_label"))
    c_add.add_argument("--timezone", default=None)

    hamlet = sub.add_parser("hamlet", help=h("hamlet")).add_subparsers(dest="sub", required=True)
    h_add = hamlet.add_parser("add", help=h("hamlet_add"))
    h_add.add_argument("--commune", required=True, help=h("commune_ref"))
    h_add.add_argument("--label", default="thôn", help=h("hamlet_label"))
    h_add.add_argument("--households", type=int, help=h("households"))
    h_add.add_argument("name", help=h("hamlet_name"))

    team = sub.add_parser("team", help=h("team")).add_subparsers(dest="sub", required=True)
    t_add = team.add_parser("add", help=h("team_add"))
    t_add.add_argument("--commune", required=True, help=h("commune_ref"))
    t_add.add_argument("--hamlet", required=True, help=h("hamlet_ref"))
    t_add.add_argument(
        "--kind", default=TeamKind.SECURITY, type=_team_kind(language), help=h("team_kind")
    )
    t_add.add_argument("name", help=h("team_name"))

    person = sub.add_parser("person", help=h("person")).add_subparsers(dest="sub", required=True)
    p_add = person.add_parser("add", help=h("person_add"))
    p_add.add_argument("--commune", required=True, help=h("commune_ref"))
    p_add.add_argument("--role", required=True, type=_role(language), help=h("role"))
    p_add.add_argument("--hamlet", help=h("hamlet_ref"))
    p_add.add_argument("--team", help=h("team_ref"))
    p_add.add_argument("--phone", help=h("phone"))
    p_add.add_argument("--title", help=h("title"))
    p_add.add_argument("--language", default=None, help=h("language"))
    p_add.add_argument("name", help=h("person_name"))
    p_show = person.add_parser("show", help=h("person_show"))
    p_show.add_argument("id", type=int)
    p_off = person.add_parser("deactivate", help=h("person_deactivate"))
    p_off.add_argument("id", type=int)

    identity = sub.add_parser("identity", help=h("identity")).add_subparsers(
        dest="sub", required=True
    )
    i_unlink = identity.add_parser("unlink", help=h("identity_unlink"))
    i_unlink.add_argument("--person", type=int, required=True, help=h("person_id"))
    i_unlink.add_argument("--channel", choices=["telegram", "zalo", "console"])

    duty = sub.add_parser("duty", help=h("duty")).add_subparsers(dest="sub", required=True)
    d_list = duty.add_parser("list", help=h("duty_list"))
    d_list.add_argument("--commune", help=h("commune_ref"))
    d_unlink = duty.add_parser("unlink", help=h("duty_unlink"))
    d_unlink.add_argument("--commune", required=True, help=h("commune_ref"))
    d_unlink.add_argument("--channel", choices=["telegram", "zalo", "console"])

    roster = sub.add_parser("roster", help=h("roster")).add_subparsers(dest="sub", required=True)
    r_imp = roster.add_parser("import", help=h("roster_import"))
    r_imp.add_argument("--commune", required=True, help=h("commune_ref"))
    r_imp.add_argument("file", type=Path, help=h("roster_file"))

    inv = sub.add_parser("invite", help=h("invite"))
    inv.add_argument("action", nargs="?", choices=["revoke"], help=h("invite_revoke"))
    who = inv.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", type=int, action="append", help=h("person_repeat"))
    who.add_argument("--commune", help=h("invite_commune"))
    who.add_argument("--code", help=h("invite_code"))
    inv.add_argument("--out", type=Path, default=None, help=h("invite_out"))
    inv.add_argument("--format", default="pdf", choices=["pdf", "png"], help=h("invite_format"))
    exp = sub.add_parser("export", help=h("export"))
    exp.add_argument("--commune", required=True, help=h("commune_ref"))
    exp.add_argument("--period", default="month", choices=["week", "month", "quarter", "year"])
    exp.add_argument("--date", type=_day(language), default=None, help=h("export_date"))
    exp.add_argument("--format", default="xlsx", choices=["xlsx", "csv"])
    exp.add_argument("--language", default=None, help=h("language"))
    exp.add_argument("--out", type=Path, default=None, help=h("export_out"))

    dig = sub.add_parser("digest", help=h("digest"))
    dig.add_argument("--commune", help=h("commune_every"))
    dig.add_argument("--kind", default="weekly", choices=["weekly", "monthly", "quarterly"])
    rem = sub.add_parser("remind", help=h("remind"))
    rem.add_argument("--commune", help=h("commune_every"))
    rem.add_argument("--again", action="store_true", help=h("remind_again"))

    sch = sub.add_parser("schedule", help=h("schedule"))
    sch_sub = sch.add_subparsers(dest="sub", required=True)
    sch_sub.add_parser("list", help=h("schedule_list"))
    sch_set = sch_sub.add_parser("set", help=h("schedule_set"))
    sch_set.add_argument("--commune", required=True, help=h("commune_ref"))
    sch_set.add_argument("job", help=h("schedule_job"))
    sch_set.add_argument("cron", nargs="?", help=h("schedule_cron"))
    sch_set.add_argument("--off", action="store_true")
    sch_set.add_argument("--on", action="store_true")

    out = sub.add_parser("outbox", help=h("outbox"))
    out.add_argument("--retry", action="store_true", help=h("outbox_retry"))

    keys = sub.add_parser("key", help=h("key"))
    keys_sub = keys.add_subparsers(dest="sub", required=True)
    keys_sub.add_parser("new", help=h("key_new"))
    keys_sub.add_parser("rotate", help=h("key_rotate"))
    bak = sub.add_parser("backup", help=h("backup"))
    bak.add_argument("file", type=Path)
    res = sub.add_parser("restore", help=h("restore"))
    res.add_argument("file", type=Path)
    from bot import model_commands

    model_commands.add_parsers(sub, h)
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


def _language() -> str:
    """DEFAULT_LANGUAGE as far as it can be read when the settings cannot."""
    wanted = os.environ.get("DEFAULT_LANGUAGE", "")
    return wanted if wanted in available_languages() else "vi"


def main(argv: list[str] | None = None) -> int:
    try:
        settings: Settings | None = load_settings()
        problem = None
    except SettingsError as exc:
        settings, problem = None, exc
    language = settings.default_language if settings else _language()
    args = _parser(language).parse_args(argv)
    if settings is None:
        print(t(language, "cli.settings_error", problem=problem), file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    # Imported late: settings errors should not need the ORM.
    from bot import admin_commands, key_commands, model_commands

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
        **model_commands.HANDLERS,
    }[args.command]
    from storage.admin import AdminError

    try:
        return asyncio.run(handler(settings, args))
    except AdminError as exc:  # a name that matches nothing, a rule the data does not allow
        message = admin_commands.admin_error(language, exc)
        print(t(language, "cli.error_line", message=message), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the output went to `head` or a pager, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
