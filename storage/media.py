"""The media store: files a platform serves only by a temporary address (Zalo's photos and
voice notes), downloaded on receipt under the data folder so the evidence outlives the address.

An attachment keeps the store's id ("store:<month>/<random>.<ext>") where a Telegram one keeps
Telegram's file id. A download is checked before it is kept: at most max_bytes (the declared
length first, then what actually comes), and an image or sound by its declared type and by
its first bytes. Retention: a file no attachment refers to (its record purged, or a draft
never sent) is deleted after the drafts' retention.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Attachment

log = logging.getLogger(__name__)
PREFIX = "store:"
FOLDER = "media"  # under the data folder
# Types kept, by the first bytes of the file: a declared type alone could be anything.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "m4a": (b"\x00\x00\x00",),  # an ISO media file: a size, then "ftyp"
    "ogg": (b"OggS",),
    "mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3"),
    "amr": (b"#!AMR",),
}


_root = Path("data") / FOLDER  # set at start from the data folder (use_root)


def use_root(root: Path) -> None:
    """Where stored ids are resolved, for every sender of this process."""
    global _root
    _root = root


def stored_path(file_id: str) -> Path:
    """The file behind a stored id; a Refused for an id that is not a path inside the store."""
    path = (_root / file_id.removeprefix(PREFIX)).resolve()
    if not is_stored(file_id) or not path.is_relative_to(_root.resolve()):
        raise Refused(f"not a stored file: {file_id!r}")
    return path


class Refused(Exception):
    """A download that is not kept: too large, not an image or a sound, or unreachable."""


def is_stored(file_id: str) -> bool:
    return file_id.startswith(PREFIX)


def _kind_of(head: bytes) -> str | None:
    for ext, signatures in SIGNATURES.items():
        if any(head.startswith(s) for s in signatures):
            if ext == "m4a" and head[4:8] != b"ftyp":
                continue
            if ext == "webp" and head[8:12] != b"WEBP":
                continue
            return ext
    return None


class MediaStore:
    def __init__(self, root: Path, max_bytes: int, http: httpx.AsyncClient | None = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.http = http or httpx.AsyncClient(timeout=30, follow_redirects=True)

    async def fetch(self, url: str, now: datetime) -> str:
        """Download url into the store; the stored file's id."""
        try:
            async with self.http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise Refused(f"HTTP {response.status_code}")
                declared = response.headers.get("content-type", "").split(";")[0].strip()
                if not declared.startswith(("image/", "audio/", "application/octet-stream")):
                    raise Refused(f"not an image or a sound: {declared or 'no type'}")
                length = int(response.headers.get("content-length") or 0)
                if length > self.max_bytes:
                    raise Refused(f"{length} bytes, over {self.max_bytes}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise Refused(f"over {self.max_bytes} bytes")
        except httpx.HTTPError as exc:
            raise Refused(f"download failed: {exc.__class__.__name__}") from exc
        ext = _kind_of(bytes(body[:16]))
        if ext is None:
            raise Refused("the content is not an image or a sound")
        relative = f"{now:%Y-%m}/{secrets.token_urlsafe(16)}.{ext}"
        await asyncio.to_thread(_write, self.root / relative, bytes(body))
        return PREFIX + relative

    async def close(self) -> None:
        await self.http.aclose()


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(body)
    partial.replace(path)  # whole or not at all


async def forget_unreferenced(
    *, session: AsyncSession, root: Path, now: datetime, days: int
) -> int:
    """Delete stored files older than days that no attachment refers to; how many."""
    kept = set(
        (
            await session.scalars(
                select(Attachment.file_id).where(Attachment.file_id.startswith(PREFIX))
            )
        ).all()
    )
    return await asyncio.to_thread(_forget, root, kept, (now - timedelta(days=days)).timestamp())


def _forget(root: Path, kept: set[str], cutoff: float) -> int:
    if not root.is_dir():
        return 0
    gone = 0
    for path in root.rglob("*"):
        if not path.is_file() or path.stat().st_mtime >= cutoff:
            continue
        if PREFIX + path.relative_to(root).as_posix() not in kept:
            path.unlink(missing_ok=True)
            gone += 1
    return gone
