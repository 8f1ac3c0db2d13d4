"""`binhyen run` without a token: a console chat on SQLite, seeding the demo on first run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
    assert "seeded the demo commune" in out
    assert "Đã gửi báo cáo tuần" in out
    assert "1. 🕊 Tuần này bình yên" in out  # numbered menus where there are no buttons
    assert "Đã nhận 1 tệp" in out
    assert "Đã gửi báo cáo vụ việc số" in out
    assert (tmp_path / "data" / "binhyen.db").exists()
