"""`python bot.py run` against a Bot API-compatible server on 127.0.0.1: the real process, its
real HTTP client and long polling, registering a person exactly as on Telegram."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sandbox.people import SimPerson
from sandbox.server import BotApiServer
from sandbox.telegram import JSON, FakeTelegram
from tests.test_command_line import ROOT, bot


async def eventually(check: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the bot did not answer in time")
        await asyncio.sleep(0.05)


async def test_run_registers_a_person_through_a_local_bot_api(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    assert bot(tmp_path, "migrate", DATABASE_URL=url).returncode == 0
    invite = bot(
        tmp_path, "invite", "--role", "volunteer", "--area", "示范县/城关镇/东村", DATABASE_URL=url
    )
    code = next(line[6:] for line in invite.stdout.splitlines() if line.startswith("code: "))

    telegram = FakeTelegram()

    async def queue(update: JSON) -> None:
        telegram.push(update)

    async with BotApiServer(telegram) as server:
        env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
        env.update(
            DATABASE_URL=url,
            BOT_TOKEN="123456:TEST-TOKEN",
            BOT_API_BASE_URL=server.base_url,
            BOT_API_FILE_URL=f"http://127.0.0.1:{server.port}/file/bot",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bot.py"),
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            person = SimPerson(telegram, queue, user_id=9001, first_name="Fang")
            await person.send(f"/start {code}")
            await eventually(lambda: any(m.buttons for m in person.inbox))
            assert "结对志愿者" in person.inbox[0].text
            await person.press("中文")
            await eventually(lambda: "请输入您的姓名" in person.last.text)
            await person.send("王芳")
            await eventually(lambda: "性别" in person.last.text)
            await person.press("女")
            await eventually(lambda: "注册完成" in person.last.text)
            assert telegram.chat_commands(9001) == [
                "urgent",
                "report",
                "checkin",
                "mychildren",
                "help",
                "language",
                "cancel",
                "child",
            ]
            assert [c.method for c in telegram.calls[:1]] == ["getMe"]
            assert not telegram.unknown
        finally:
            process.send_signal(signal.SIGINT)
            _out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        assert "123456:TEST-TOKEN" not in err.decode()  # the token never reaches the log

    with sqlite3.connect(tmp_path / "run.db") as db:
        rows = db.execute("SELECT name, role, gender FROM person").fetchall()
    assert rows == [("王芳", "volunteer", "female")]
