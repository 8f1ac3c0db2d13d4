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
from storage import backup, way_back
from storage.db import MigrationKeys, make_engine, make_sessionmaker, upgrade
from storage.keyring import Keyring

PASSPHRASE_VARIABLE = "BACKUP_PASSPHRASE"


def _fail(message: str) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return 1


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
            return _fail(
                "TIP_KEY is set in the environment: put a new key first and the old one after "
                "a comma (TIP_KEY=NEW,OLD; `binhyen key new` prints one), run this again with "
                "the bot stopped, then leave only NEW in TIP_KEY and start the bot."
            )
        done, left = await _reseal(settings, keys)
        print(f"{done.resealed} way(s) back sealed again under the first key of TIP_KEY.")
        if left:
            return _fail(f"{left} way(s) back could not be opened with TIP_KEY's keys: keep them")
        print("Leave only the first key in TIP_KEY, then start the bot.")
        return 0
    old = settings.resolved_tip_keys()
    ring = Keyring.generate(keep=old.keys)
    write_key_file(settings.tip_key_file, ring.dump())  # the old keys still open, meanwhile
    done, left = await _reseal(settings, ring)
    if left:
        print(f"{done.resealed} way(s) back sealed again under the new key.")
        return _fail(
            f"{left} way(s) back could not be opened with any key in {settings.tip_key_file}: "
            "the old keys stay in it"
        )
    write_key_file(settings.tip_key_file, Keyring(ring.keys[:1]).dump())
    print(
        f"{done.resealed} way(s) back sealed again under a new key; the old key is gone from "
        f"{settings.tip_key_file}. Tip codes and pseudonyms (SECRET_KEY) are unchanged."
    )
    return 0


def _passphrase(confirm: bool) -> str:
    given = os.environ.get(PASSPHRASE_VARIABLE)
    if given:
        return given
    first = getpass.getpass("Passphrase for the keys in the backup: ")
    if confirm and getpass.getpass("The same again: ") != first:
        raise backup.BackupError("the two passphrases differ")
    return first


async def make_backup(settings: Settings, args: argparse.Namespace) -> int:
    sqlite = _sqlite_path(settings)
    keys = backup.Keys(settings.resolved_secret_key(), settings.resolved_tip_keys())
    try:
        backup.write(args.file, keys=keys, passphrase=_passphrase(True), sqlite_path=sqlite)
    except backup.BackupError as exc:
        return _fail(str(exc))
    if sqlite is None:
        print(
            f"Wrote the keys to {args.file}, sealed with the passphrase. The database is "
            "PostgreSQL's: back it up with pg_dump (e.g. pg_dump -Fc binhyen > binhyen.dump) "
            "and keep the two apart from each other."
        )
    else:
        print(f"Wrote the keys, sealed with the passphrase, and the database to {args.file}.")
    return 0


async def restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        contents = backup.read(args.file, passphrase=_passphrase(False))
    except backup.BackupError as exc:
        return _fail(str(exc))
    sqlite = _sqlite_path(settings)
    if contents.has_database and sqlite is None:
        return _fail("this backup holds a SQLite database, and DATABASE_URL names PostgreSQL")
    secret_file = settings.data_dir / "secret.key"
    targets = [secret_file, settings.tip_key_file]
    if contents.has_database and sqlite is not None:
        targets.append(sqlite)
    found = [str(p) for p in targets if p.exists()]
    if found:
        return _fail(f"a restore goes where nothing is yet; found {', '.join(found)}")
    write_key_file(secret_file, contents.keys.secret.decode())
    write_key_file(settings.tip_key_file, contents.keys.tip_keys.dump())
    if contents.has_database and sqlite is not None:
        backup.extract_database(args.file, sqlite)
        engine = make_engine(settings.resolved_database_url)
        try:
            await upgrade(engine, keys=MigrationKeys(contents.keys.tip_keys, contents.keys.secret))
        finally:
            await engine.dispose()
        print(f"Restored the database to {sqlite} and the keys to {settings.data_dir}.")
    else:
        print(
            f"Restored the keys to {settings.data_dir}. Load the database with pg_restore "
            "(e.g. pg_restore -d binhyen binhyen.dump)."
        )
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
        print(f"Note: {name} is set in the environment, differs from the restored key, and wins.")
    return 0
