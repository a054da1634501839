"""One active instance per database: a second `bot.py run` refuses to start, with one line
and exit status 2, while the first goes on; once the first is gone, a new one starts."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from sandbox.server import BotApiServer
from sandbox.telegram import FakeTelegram
from tests.test_command_line import ROOT, bot
from tests.test_run_over_http import eventually


async def start(
    tmp_path: Path, url: str, server: BotApiServer, *flags: str
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    env.update(
        DATABASE_URL=url,
        BOT_TOKEN="123456:TEST-TOKEN",
        BOT_API_BASE_URL=server.base_url,
        BOT_API_FILE_URL=f"http://127.0.0.1:{server.port}/file/bot",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "run", *flags, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_a_second_instance_refuses_to_start(tmp_path: Path, database_url: str) -> None:
    assert bot(tmp_path, "migrate", DATABASE_URL=database_url).returncode == 0
    telegram = FakeTelegram()
    async with BotApiServer(telegram) as server:
        first = await start(tmp_path, database_url, server)
        try:
            await eventually(lambda: any(c.method == "getUpdates" for c in telegram.calls))
            second = await start(tmp_path, database_url, server)
            _out, err = await asyncio.wait_for(second.communicate(), 30)
            assert second.returncode == 2
            assert err.decode().strip().splitlines()[-1] == (
                "another instance of the bot is running on this database; not starting"
            )
            assert first.returncode is None  # the first goes on
        finally:
            first.send_signal(signal.SIGINT)
            await asyncio.wait_for(first.communicate(), 30)
        assert await first.wait() == 0  # exited already (a fresh read: mypy keeps the None above)
        third = await start(tmp_path, database_url, server)  # the lock went with the first
        try:
            polls = sum(c.method == "getUpdates" for c in telegram.calls)
            await eventually(lambda: sum(c.method == "getUpdates" for c in telegram.calls) > polls)
        finally:
            third.send_signal(signal.SIGINT)
            await asyncio.wait_for(third.communicate(), 30)
        assert third.returncode == 0


async def test_a_standby_takes_over_when_the_active_instance_dies(tmp_path: Path) -> None:
    """PostgreSQL: `run --standby` waits while another instance is active, starts nothing, and
    takes over within 10 s of the active one being killed."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("standby is for PostgreSQL (TEST_DATABASE_URL)")
    assert bot(tmp_path, "migrate", DATABASE_URL=url).returncode == 0
    telegram = FakeTelegram()
    async with BotApiServer(telegram) as server:
        active = await start(tmp_path, url, server)
        await eventually(lambda: any(c.method == "getUpdates" for c in telegram.calls))
        standby = await start(tmp_path, url, server, "--standby")
        try:
            await asyncio.sleep(4)  # the standby looks at least once meanwhile
            assert [c.method for c in telegram.calls].count("getMe") == 1  # only the active
            active.kill()  # kill -9: its lock goes with its connection
            await active.wait()
            killed_at = len(telegram.calls)
            await eventually(
                lambda: any(c.method == "getMe" for c in telegram.calls[killed_at:]), within=10
            )
            await eventually(
                lambda: any(c.method == "getUpdates" for c in telegram.calls[killed_at:])
            )
        finally:
            standby.send_signal(signal.SIGINT)
            await asyncio.wait_for(standby.communicate(), 30)
        assert standby.returncode == 0
