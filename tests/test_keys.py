"""The keys kept outside the database: rotating the tip keys, and a backup of the keys (sealed
with a passphrase) and the database, restored into an empty folder."""

from __future__ import annotations

import asyncio
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.settings import load_settings
from conversations.context import EngineConfig
from conversations.engine import Engine
from conversations.flows import all_flows
from handlers.router import Router
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.keyring import Keyring, key_id
from storage.models import OutboxMessage, Tip
from tests.conftest import Clock
from tests.helpers import Chat, make_commune

TIPSTER = "90817263"
PASSPHRASE = "sông Đồng Nai chảy qua bốn mùa"


def _router(sessions) -> Router:
    settings = load_settings()
    config = EngineConfig(
        secret=settings.resolved_secret_key(), tip_keys=settings.resolved_tip_keys()
    )
    return Router(sessions, Engine(all_flows()), config, clock=Clock(datetime.now(UTC)))


async def _tip(router) -> str:
    tipster = Chat(router, TIPSTER)
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    await tipster.say("Có người lạ dò xét nhà vắng chủ")
    for label in ("Bỏ qua", "Không có ảnh", "Giữ bí mật", "Gửi"):
        await tipster.tap(label)
    return tipster.text.split("Mã tin báo: ")[1].split()[0]


async def _ask(router, sessions, code: str, question: str) -> int:
    """An officer asks the tip's sender; how many messages then wait for the tipster."""
    officer = Chat(router, "officer")
    await officer.command("cases")
    await officer.tap(code)
    await officer.tap("Hỏi người báo tin")
    await officer.say(question)
    await officer.tap("Gửi câu hỏi")
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.chat_id == TIPSTER, OutboxMessage.text.contains(question))
            )
            or 0
        )


def _run(step):
    """step(sessions) on the database the settings name, migrated, in an event loop."""

    async def inside():
        engine = make_engine(load_settings().resolved_database_url)
        try:
            await upgrade(engine)
            return await step(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(inside())


def test_key_rotate_seals_every_way_back_anew_and_questions_still_reach_tipsters(
    cli_db, capsys, monkeypatch
):
    async def setup(sessions):
        await make_commune(sessions)
        return await _tip(_router(sessions))

    code = _run(setup)
    old = load_settings().resolved_tip_keys()
    assert main(["key", "rotate"]) == 0
    assert (
        "Đã niêm phong lại 1 đường liên lạc với người báo tin bằng khóa mới"
        in capsys.readouterr().out
    )
    new = load_settings().resolved_tip_keys()
    assert len(new.keys) == 1 and new.keys[0] not in old.keys

    async def after(sessions):
        async with sessions() as session:
            tip = await session.scalar(select(Tip).where(Tip.case_code == code))
        assert tip.reply_to.startswith(key_id(new.keys[0]) + ":")
        return await _ask(_router(sessions), sessions, code, "Lúc mấy giờ?")

    assert _run(after) == 1
    # The old key opens nothing any more: with it alone, the question would reach no one.
    monkeypatch.setenv("TIP_KEY", old.dump().strip())
    assert _run(lambda sessions: _ask(_router(sessions), sessions, code, "Ai?")) == 0


def test_key_rotate_with_tip_key_in_the_environment(cli_db, capsys, monkeypatch):
    first = Keyring.generate()
    monkeypatch.setenv("TIP_KEY", first.dump().strip())

    async def setup(sessions):
        await make_commune(sessions)
        return await _tip(_router(sessions))

    code = _run(setup)
    assert main(["key", "rotate"]) == 1
    assert "xin ghi khóa mới trước, khóa cũ sau" in capsys.readouterr().err
    second = Keyring.generate(keep=first.keys)
    monkeypatch.setenv("TIP_KEY", ",".join(second.dump().split()))
    assert main(["key", "rotate"]) == 0
    assert "Xin chỉ để khóa đầu tiên trong TIP_KEY" in capsys.readouterr().out
    monkeypatch.setenv("TIP_KEY", second.dump().split()[0])
    assert _run(lambda sessions: _ask(_router(sessions), sessions, code, "Lúc mấy giờ?")) == 1


def _use(monkeypatch, folder: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(folder / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'data' / 'binhyen.db'}")


def test_a_backup_restored_into_an_empty_folder_gives_a_working_database_and_keys(
    env, monkeypatch, capsys
):
    monkeypatch.delenv("SECRET_KEY")  # both keys generated into the data folder
    monkeypatch.setenv("BACKUP_PASSPHRASE", PASSPHRASE)
    _use(monkeypatch, env / "a")

    async def setup(sessions):
        await make_commune(sessions)
        return await _tip(_router(sessions))

    code = _run(setup)
    keys = (
        (env / "a" / "data" / "secret.key").read_text(),
        (env / "a" / "data" / "tip_keys.txt").read_text(),
    )
    file = env / "backup.zip"
    assert main(["backup", str(file)]) == 0
    with zipfile.ZipFile(file) as archive:
        assert sorted(archive.namelist()) == ["binhyen.db", "keys.sealed", "manifest.json"]
        packed = b"".join(archive.read(n) for n in archive.namelist())
    assert all(k.strip().encode() not in packed for k in keys)  # the keys travel sealed

    _use(monkeypatch, env / "b")
    monkeypatch.setenv("BACKUP_PASSPHRASE", "not the passphrase")
    assert main(["restore", str(file)]) == 1
    assert "sai mật khẩu" in capsys.readouterr().err
    assert not (env / "b").exists()
    monkeypatch.setenv("BACKUP_PASSPHRASE", PASSPHRASE)
    assert main(["restore", str(file)]) == 0
    restored = (
        (env / "b" / "data" / "secret.key").read_text(),
        (env / "b" / "data" / "tip_keys.txt").read_text(),
    )
    assert restored == keys

    async def after(sessions):
        router = _router(sessions)
        asked = await _ask(router, sessions, code, "Lúc mấy giờ?")
        tipster = Chat(router, TIPSTER)  # their own tips, found by the restored secret key
        await tipster.command("start")
        await tipster.tap("Bổ sung tin đã báo")
        return asked, " ".join(b.label for r in tipster.last for b in r.flat_buttons())

    asked, shown = _run(after)
    assert asked == 1 and code in shown
    assert main(["restore", str(file)]) == 1  # never over what is there
    assert "chỉ khôi phục vào thư mục chưa có dữ liệu" in capsys.readouterr().err


def test_a_backup_for_postgresql_holds_the_keys_and_says_to_use_pg_dump(env, monkeypatch, capsys):
    monkeypatch.setenv("BACKUP_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://binhyen@127.0.0.1:1/binhyen")
    monkeypatch.setenv("DATA_DIR", str(env / "a"))
    assert main(["backup", str(env / "keys.zip")]) == 0
    assert "pg_dump" in capsys.readouterr().out
    monkeypatch.setenv("DATA_DIR", str(env / "b"))
    assert main(["restore", str(env / "keys.zip")]) == 0
    assert "pg_restore" in capsys.readouterr().out
    assert (env / "b" / "tip_keys.txt").read_text() == (env / "a" / "tip_keys.txt").read_text()
    assert (env / "b" / "secret.key").read_text() == "test-secret"


@pytest.mark.parametrize("short", ["", "kort"])
def test_a_backup_needs_a_real_passphrase(env, monkeypatch, capsys, short):
    monkeypatch.setenv("BACKUP_PASSPHRASE", short)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": short)
    _use(monkeypatch, env / "a")
    (env / "a" / "data").mkdir(parents=True)
    (env / "a" / "data" / "binhyen.db").write_bytes(b"")
    assert main(["backup", str(env / "x.zip")]) == 1
    assert "mật khẩu phải có ít nhất" in capsys.readouterr().err
    assert not (env / "x.zip").exists()
