"""Backups: the keys, sealed with a passphrase, and the SQLite database, in one file.

A database alone does not tell who sent a tip; with the keys it does (docs/SECURITY.md). A
backup has to hold both to be of use, so the keys in it are sealed: AES-GCM (`cryptography`)
under a key made from a passphrase by scrypt, which makes guessing a passphrase slow. The
database part is a consistent copy made by SQLite's own backup API (the bot may be running)
and is as readable as the database itself. For PostgreSQL the file holds the keys only, and
pg_dump makes the database's part.

The file is a zip: manifest.json (what is in it), keys.sealed and, for SQLite, binhyen.db.
The format is ours because no library packs these three; each piece is a standard one.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from storage.keyring import Keyring

FORMAT = 1
MANIFEST, KEYS, DATABASE = "manifest.json", "keys.sealed", "binhyen.db"
MIN_PASSPHRASE = 10
_SALT, _NONCE = 16, 12


class BackupError(Exception):
    """A wrong passphrase, or a file that is not a backup of this bot: a catalogue key under
    ``cli.backup`` and its values, said in the admin's language by the command line."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key, values)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Keys:
    secret: bytes
    tip_keys: Keyring


def _derive(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())


def seal_keys(keys: Keys, passphrase: str) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError("short_passphrase", length=MIN_PASSPHRASE)
    plain = json.dumps(
        {
            "secret_key": base64.b64encode(keys.secret).decode(),
            "tip_keys": keys.tip_keys.dump(),
        }
    ).encode()
    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    return salt + nonce + AESGCM(_derive(passphrase, salt)).encrypt(nonce, plain, b"binhyen keys")


def open_keys(sealed: bytes, passphrase: str) -> Keys:
    salt, nonce, body = sealed[:_SALT], sealed[_SALT : _SALT + _NONCE], sealed[_SALT + _NONCE :]
    try:
        plain = AESGCM(_derive(passphrase, salt)).decrypt(nonce, body, b"binhyen keys")
    except InvalidTag:
        raise BackupError("wrong_passphrase") from None
    value = json.loads(plain)
    return Keys(base64.b64decode(value["secret_key"]), Keyring.parse(value["tip_keys"]))


def write(path: Path, *, keys: Keys, passphrase: str, sqlite_path: Path | None) -> None:
    """Write a backup: the keys sealed, and the SQLite database at sqlite_path if given."""
    sealed = seal_keys(keys, passphrase)
    manifest = {"format": FORMAT, "database": "sqlite" if sqlite_path else None}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / DATABASE
        if sqlite_path is not None:
            if not sqlite_path.exists():
                raise BackupError("no_database", path=sqlite_path)
            source, target = sqlite3.connect(sqlite_path), sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest))
            archive.writestr(KEYS, sealed)
            if sqlite_path is not None:
                archive.write(copy, DATABASE)
    partial.chmod(0o600)
    partial.replace(path)


@dataclass(frozen=True)
class Contents:
    keys: Keys
    has_database: bool


def read(path: Path, *, passphrase: str) -> Contents:
    """The keys of a backup (the passphrase checked), and whether it holds a database."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            sealed = archive.read(KEYS)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise BackupError("not_a_backup", path=path, reason=exc) from None
    if manifest.get("format") != FORMAT:
        raise BackupError("unknown_format", path=path, format=manifest.get("format"))
    return Contents(open_keys(sealed, passphrase), manifest.get("database") == "sqlite")


def extract_database(path: Path, target: Path) -> None:
    """The backup's SQLite database, written to target (which must not exist)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(path) as archive, archive.open(DATABASE) as source:
        with partial.open("wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
    partial.replace(target)
