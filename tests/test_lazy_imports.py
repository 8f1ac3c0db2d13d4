"""`binhyen run` loads the chart library only when a chart or an invite sheet is drawn: a bot
that has drawn none keeps some 50 MB less (bench/memory.py measures it)."""

from __future__ import annotations

import subprocess
import sys


def test_starting_the_bot_loads_no_chart_library():
    probe = "import sys, bot.cli, bot.app, bot.web.app; print('matplotlib' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "False"
