"""Evidence that lasts: a Zalo photo, served only by a temporary address, is downloaded on
receipt into the media store under the data folder, checked for size and type, shown from
there, and deleted by the retention job once nothing refers to it."""

from __future__ import annotations

import os
import struct
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from telegram import Bot

from bot.telegram import send_reply
from bot.zalo import ZaloClient, ZaloTransport
from conversations.events import Reply
from storage import media
from storage.models import Attachment
from storage.types import utcnow
from tests import fake_zalo as zl
from tests.fake_telegram import TOKEN as TELEGRAM_TOKEN
from tests.fake_telegram import FakeBotApi
from tests.fake_zalo import TOKEN, FakeZaloApi
from tests.helpers import link, make_commune, make_router
from tests.test_zalo import HEAD, ZaloChat


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@pytest.fixture
async def stored(sessions, clock, tmp_path):
    api = FakeZaloApi()
    await api.start()
    client = ZaloClient(TOKEN, api.base_url)
    root = tmp_path / "data" / media.FOLDER
    media.use_root(root)
    store = media.MediaStore(root, 1000, client.http)
    transport = ZaloTransport(client, make_router(sessions, clock), store=store)
    yield api, transport, root
    await client.close()
    await api.stop()


async def _report_with(chat: ZaloChat, sessions, url: str) -> None:
    c = await make_commune(sessions, prefix="m-")
    async with sessions() as session, session.begin():
        from storage.models import Person

        await link(session, await session.get(Person, c.head), HEAD, channel="zalo")
    await chat.say("Xin chào")
    await chat.choose("Báo vụ việc")
    await chat.say("trom cap")
    await chat.choose("Vừa xong")
    await chat.say("Đầu hẻm 3")
    await chat.say("Mất trộm xe máy")
    await chat.send(zl.image(HEAD, url))


async def test_a_zalo_photo_is_kept_in_the_store_and_sent_from_there(stored, sessions):
    api, transport, root = stored
    api.files["abc.png"] = ("image/png", png())
    chat = ZaloChat(api, transport, HEAD)
    await _report_with(chat, sessions, f"{api.base_url}/files/abc.png")
    assert "Đã nhận 1 ảnh" in chat.text
    await chat.say("xong")
    await chat.choose("Bình thường")
    await chat.choose("Gửi")
    del api.files["abc.png"]  # the temporary address is gone
    async with sessions() as session:
        photo = await session.scalar(select(Attachment))
    assert photo.file_id.startswith("store:") and "http" not in photo.file_id
    path = media.stored_path(photo.file_id)
    assert path.is_relative_to(root) and path.read_bytes() == png()

    telegram = FakeBotApi()
    await telegram.start()
    try:
        async with Bot(TELEGRAM_TOKEN, base_url=f"{telegram.base_url}/bot") as bot:
            await send_reply(bot, "777", Reply("VV-1", [], media=[("photo", photo.file_id)]))
        [upload] = telegram.uploads("777", "sendPhoto")
        assert upload["photo"]["body"] == png()
    finally:
        await telegram.stop()


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("image/png", png() + b"\x00" * 2000),  # over the store's 1,000 bytes
        ("text/html", b"<html>an error page</html>"),
        ("image/jpeg", b"<html>not what it says</html>"),
    ],
)
async def test_a_download_too_large_or_not_an_image_is_not_kept(stored, sessions, kind, body):
    api, transport, root = stored
    api.files["x"] = (kind, body)
    chat = ZaloChat(api, transport, HEAD)
    await _report_with(chat, sessions, f"{api.base_url}/files/x")
    assert "Đã nhận" not in chat.text and chat.text  # answered, nothing taken
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


async def test_retention_deletes_stored_files_nothing_refers_to(stored, sessions):
    api, transport, root = stored
    api.files["a.png"] = ("image/png", png())
    api.files["b.png"] = ("image/png", png())
    now = utcnow()
    store = transport.store
    assert store is not None
    kept = await store.fetch(f"{api.base_url}/files/a.png", now)
    orphan = await store.fetch(f"{api.base_url}/files/b.png", now)
    young = await store.fetch(f"{api.base_url}/files/b.png", now)
    async with sessions() as session, session.begin():
        session.add(
            Attachment(
                record_kind="incident",
                record_id=1,
                channel="zalo",
                file_id=kept,
                media_type="photo",
            )
        )
    old = (now - timedelta(days=40)).timestamp()
    for file_id in (kept, orphan):
        os.utime(media.stored_path(file_id), (old, old))
    async with sessions() as session:
        gone = await media.forget_unreferenced(session=session, root=root, now=now, days=30)
    assert gone == 1
    assert media.stored_path(kept).exists() and media.stored_path(young).exists()
    assert not media.stored_path(orphan).exists()
