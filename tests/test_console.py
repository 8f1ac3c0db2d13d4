"""`binhyen run` without a token: a console chat on SQLite, seeding the demo on first run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.console import Console
from tests.helpers import SECRET, make_commune, make_router


def test_console_walks_a_quiet_week_and_an_incident(tmp_path: Path):
    script = "\n".join(
        [
            "1",  # chat as the first hamlet head
            "1",
            "1",  # quiet week: two answers
            "2",
            "trom cap",
            "vua xong",
            "1",
            "Mất trộm gà",
            "!photo",
            "xong",
            "1",
            "1",
            "!voice",  # a voice report, at the menu
            "1",
            "!quit",
            "",
        ]
    )
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "TELEGRAM_BOT_TOKEN": "",
        "ZALO_BOT_TOKEN": "",
        "SECRET_KEY": "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        input=script,
        text=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "đã tạo xã mẫu" in out
    assert "Đã gửi báo cáo tuần" in out
    assert "1. 🕊 Tuần này bình yên" in out  # numbered menus where there are no buttons
    assert "Đã nhận 1 ảnh" in out
    assert "Đã gửi báo cáo vụ việc VV-" in out
    assert "Công an xã đã nhận ghi âm, mã vụ việc VV-" in out
    assert (tmp_path / "data" / "binhyen.db").exists()


class ScriptedConsole(Console):
    """The console with its typed lines given in advance."""

    def __init__(self, *args: Any, lines: list[str]) -> None:
        super().__init__(*args)
        self.lines = lines

    async def _read(self, prompt: str) -> str | None:
        return self.lines.pop(0) if self.lines else None


async def test_a_restarted_console_has_its_answers_handled_not_taken_for_repeats(
    sessions, clock, capsys, tmp_path
):
    c = await make_commune(sessions)

    async def run(*lines: str) -> str:
        """One console process: its own router, the same database."""
        console = ScriptedConsole(
            sessions, make_router(sessions, clock), SECRET, tmp_path, lines=[*lines, "!quit"]
        )
        await console.run(str(c.head))
        return capsys.readouterr().out

    first = await run("1", "1")  # a quiet week, sent
    assert "Đã gửi báo cáo tuần" in first
    second = await run("2", "trom cap")  # after a restart: an incident, its category
    assert "Vụ việc thuộc loại nào?" in second and "Xảy ra lúc nào?" in second
    assert "có muốn làm tiếp báo cáo đó không" not in second


async def test_a_resident_known_by_name_can_be_chosen_in_the_console(
    sessions, clock, capsys, tmp_path
):
    from storage import admin
    from storage.models import Commune

    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, c.id)
        await admin.add_person(
            session, commune=commune, full_name="ថាច់ ស្រីនាង", role="resident", language="km"
        )
    console = ScriptedConsole(sessions, make_router(sessions, clock), SECRET, tmp_path, lines=[])
    await console.choose_person(None)
    listed = capsys.readouterr().out
    assert "ថាច់ ស្រីនាង — người dân" in listed
