"""The keys kept outside the database, from the command line: a new tip key, a rotation of
the tip keys, and a backup (the keys sealed with a passphrase, and the SQLite database) with
its restore. docs/SECURITY.md says what each key protects and what rotates."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import Settings, write_key_file
from locales import t
from storage import backup, way_back
from storage.db import MigrationKeys, make_engine, make_sessionmaker, upgrade
from storage.keyring import Keyring

PASSPHRASE_VARIABLE = "BACKUP_PASSPHRASE"


def _say(settings: Settings, key: str, **values: object) -> str:
    return t(settings.default_language, key, **values)


def _fail(settings: Settings, key: str, **values: object) -> int:
    message = _say(settings, key, **values)
    print(t(settings.default_language, "cli.error_line", message=message), file=sys.stderr)
    return 1


def _reason(settings: Settings, exc: backup.BackupError) -> str:
    return _say(settings, f"cli.backup.{exc.key}", **exc.values)


def _sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.resolved_database_url)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


async def key(settings: Settings, args: argparse.Namespace) -> int:
    if args.sub == "new":
        print(Keyring.generate().dump().strip())
        return 0
    return await _rotate(settings)


async def _reseal(settings: Settings, keys: Keyring) -> tuple[way_back.Resealed, int]:
    engine = make_engine(settings.resolved_database_url)
    try:
        await upgrade(engine, keys=MigrationKeys(keys, settings.resolved_secret_key()))
        async with make_sessionmaker(engine)() as session, session.begin():
            done = await way_back.reseal(session=session, keys=keys)
            left = await way_back.under_other_keys(session=session, keys=keys)
        return done, left
    finally:
        await engine.dispose()


async def _rotate(settings: Settings) -> int:
    """Every way back sealed under a new key. From TIP_KEY, the new key is the one the
    operator put first; from the key file, one is made, kept beside the old ones until every
    way back is under it, then alone."""
    if settings.tip_key:
        keys = settings.resolved_tip_keys()
        if len(keys.keys) < 2:
            return _fail(settings, "cli.key.env_needs_two")
        done, left = await _reseal(settings, keys)
        print(_say(settings, "cli.key.env_resealed", count=done.resealed))
        if left:
            return _fail(settings, "cli.key.env_left", count=left)
        print(_say(settings, "cli.key.env_done"))
        return 0
    old = settings.resolved_tip_keys()
    ring = Keyring.generate(keep=old.keys)
    write_key_file(settings.tip_key_file, ring.dump())  # the old keys still open, meanwhile
    done, left = await _reseal(settings, ring)
    if left:
        print(_say(settings, "cli.key.file_resealed", count=done.resealed))
        return _fail(settings, "cli.key.file_left", count=left, file=settings.tip_key_file)
    write_key_file(settings.tip_key_file, Keyring(ring.keys[:1]).dump())
    print(_say(settings, "cli.key.file_done", count=done.resealed, file=settings.tip_key_file))
    return 0


def _passphrase(settings: Settings, confirm: bool) -> str:
    given = os.environ.get(PASSPHRASE_VARIABLE)
    if given:
        return given
    first = getpass.getpass(_say(settings, "cli.key.passphrase"))
    if confirm and getpass.getpass(_say(settings, "cli.key.passphrase_again")) != first:
        raise backup.BackupError("passphrases_differ")
    return first


async def make_backup(settings: Settings, args: argparse.Namespace) -> int:
    sqlite = _sqlite_path(settings)
    keys = backup.Keys(settings.resolved_secret_key(), settings.resolved_tip_keys())
    try:
        backup.write(
            args.file, keys=keys, passphrase=_passphrase(settings, True), sqlite_path=sqlite
        )
    except backup.BackupError as exc:
        return _fail(settings, "cli.key.backup_failed", reason=_reason(settings, exc))
    if sqlite is None:
        print(_say(settings, "cli.key.backup_keys_only", file=args.file))
    else:
        print(_say(settings, "cli.key.backup_written", file=args.file))
    return 0


async def restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        contents = backup.read(args.file, passphrase=_passphrase(settings, False))
    except backup.BackupError as exc:
        return _fail(settings, "cli.key.restore_failed", reason=_reason(settings, exc))
    sqlite = _sqlite_path(settings)
    if contents.has_database and sqlite is None:
        return _fail(settings, "cli.key.restore_sqlite_into_pg")
    secret_file = settings.data_dir / "secret.key"
    targets = [secret_file, settings.tip_key_file]
    if contents.has_database and sqlite is not None:
        targets.append(sqlite)
    found = [str(p) for p in targets if p.exists()]
    if found:
        return _fail(settings, "cli.key.restore_not_empty", found=", ".join(found))
    write_key_file(secret_file, contents.keys.secret.decode())
    write_key_file(settings.tip_key_file, contents.keys.tip_keys.dump())
    if contents.has_database and sqlite is not None:
        backup.extract_database(args.file, sqlite)
        engine = make_engine(settings.resolved_database_url)
        try:
            await upgrade(engine, keys=MigrationKeys(contents.keys.tip_keys, contents.keys.secret))
        finally:
            await engine.dispose()
        print(_say(settings, "cli.key.restored", database=sqlite, folder=settings.data_dir))
    else:
        print(_say(settings, "cli.key.restored_keys", folder=settings.data_dir))
    overridden = [
        name
        for name, differs in (
            (
                "SECRET_KEY",
                settings.secret_key and settings.secret_key.encode() != contents.keys.secret,
            ),
            (
                "TIP_KEY",
                settings.tip_key and Keyring.parse(settings.tip_key) != contents.keys.tip_keys,
            ),
        )
        if differs
    ]
    for name in overridden:
        print(_say(settings, "cli.key.overridden", name=name))
    return 0
