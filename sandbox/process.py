"""`python bot.py run` as a child process against the fake Telegram over HTTP
(sandbox.server): started, killed at any moment with SIGKILL, started again on the same
database, as an operator's machine or a crash would. Used by the drills (tests/test_drill_*).
Each run's log goes to a file beside the database, never to a pipe nobody reads."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sandbox.server import BotApiServer

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    """`settings`: environment variables for the bot (DATABASE_URL, QUIET_HOURS_START…);
    the token and the Bot API's address are this server's."""

    def __init__(self, server: BotApiServer, folder: Path, **settings: str) -> None:
        self.server, self.folder, self.settings = server, folder, settings
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0
        self.started_at = 0.0  # time.monotonic() of the last start
        self._calls_before = 0  # the fake's calls before the last start
        self.kills = 0
        self.killed = False  # since the last start (the exit itself is seen a moment later)
        self.killed_at = 0.0  # time.monotonic() of the last kill

    def environment(self) -> dict[str, str]:
        # only the system's variables: no .env, no setting of the machine running the tests
        env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
        env.update(
            BOT_TOKEN="123456:DRILL-TOKEN",
            BOT_API_BASE_URL=self.server.base_url,
            BOT_API_FILE_URL=f"http://{self.server.host}:{self.server.port}/file/bot",
            **self.settings,
        )
        return env

    @property
    def log(self) -> Path:
        return self.folder / f"bot-{self.runs}.log"

    async def start(self) -> None:
        assert self.process is None or self.process.returncode is not None, "already running"
        self.runs += 1
        self.killed = False
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bot.py"), "run", cwd=self.folder,
                env=self.environment(), stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=log,
            )  # fmt: skip
        self.started_at = time.monotonic()
        self._calls_before = len(self.server.telegram.calls)

    async def ready(self, within: float = 30.0) -> float:
        """Waits until the new process polls for updates (or is killed first, on purpose);
        returns how long it took to start."""
        telegram = self.server.telegram
        deadline = time.monotonic() + within
        while not any(
            c.method == "getUpdates" and c.at >= self.started_at
            for c in telegram.calls[self._calls_before :]
        ):
            assert self.process is not None
            if self.killed:  # by the caller, at a moment it chose: before it polled
                break
            if self.process.returncode is not None:
                raise AssertionError(f"the bot exited ({self.process.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not start in {within:.0f} s:\n{self.tail()}")
            await asyncio.sleep(0.02)
        return time.monotonic() - self.started_at

    def kill(self) -> None:
        """SIGKILL, at once: callable from inside the fake's hooks (synchronous)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            self.kills += 1
            self.killed, self.killed_at = True, time.monotonic()

    async def dead(self) -> None:
        """Waits until the killed process is gone (its sockets closed by the system)."""
        assert self.process is not None
        await self.process.wait()
        await asyncio.sleep(0.05)  # what it had written before dying reaches the server

    async def restart(self, started: Callable[[], object] | None = None) -> float:
        """After a kill: a new process on the same database; returns its start-up time.
        `started` is called once it runs (before it can send anything): a hook armed then
        sees only the new process's calls, none that the dead one had on the way."""
        await self.dead()
        await self.start()
        if started is not None:
            started()
        return await self.ready()

    async def stop(self, within: float = 30.0) -> int:
        """SIGINT, as Ctrl-C or systemd would: returns the exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        assert self.process.returncode is not None
        return self.process.returncode

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
