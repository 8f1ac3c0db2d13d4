"""`binhyen run --workers N`: this process and N-1 more, sharing one PostgreSQL.

Each worker handles the inbox (whole chats at a time, so each chat's updates stay in
order), sends the outbox and stands ready to run the schedules; one polls each bot token
and one serves the webhooks (this one). A worker that dies is started again after a pause;
until then the others take over its polling and, once its lease runs out, its updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

log = logging.getLogger(__name__)
RESTART_PAUSE = 2.0


class Workers:
    def __init__(self, count: int) -> None:
        self.count = count
        self.processes: dict[int, asyncio.subprocess.Process] = {}
        self._stopping = False

    async def _start(self, number: int) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--worker",
            env={**os.environ, "BINHYEN_WORKER": str(number)},
            stdin=asyncio.subprocess.DEVNULL,
        )
        self.processes[number] = process
        log.info("worker %d started (process %d)", number, process.pid)
        return process

    async def supervise(self) -> None:
        """Start workers 1…N-1 and start again any that dies, until stopped."""
        await asyncio.gather(*(self._keep(n) for n in range(1, self.count)))

    async def _keep(self, number: int) -> None:
        while not self._stopping:
            process = await self._start(number)
            code = await process.wait()
            if self._stopping:
                return
            log.warning("worker %d stopped (exit %s); starting it again", number, code)
            await asyncio.sleep(RESTART_PAUSE)

    async def stop(self) -> None:
        """Every worker asked to finish (as with Ctrl-C), killed if it has not in 15 s."""
        self._stopping = True
        running = [p for p in self.processes.values() if p.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        for process in running:
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
