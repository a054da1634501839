"""`python bot.py simulate`, typed into as a newcomer would: register as the demo admin, invite
a volunteer, and register that volunteer, in both languages."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.test_command_line import ROOT


class Terminal:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process, self.screen, self.matched = process, "", 0

    async def until(self, pattern: str) -> re.Match[str]:
        """Reads the screen until `pattern` shows up after the previous match (as `expect`
        does: output that came in the same read as that match counts too)."""
        while (found := re.compile(pattern).search(self.screen, self.matched)) is None:
            assert self.process.stdout is not None
            try:
                chunk = await asyncio.wait_for(self.process.stdout.read(4096), 30)
            except TimeoutError:
                raise AssertionError(f"no {pattern!r}:\n{self.screen[-1500:]}") from None
            assert chunk, f"simulator ended; screen:\n{self.screen}"
            self.screen += chunk.decode()
        self.matched = found.end()
        return found

    async def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()


@asynccontextmanager
async def simulator(tmp_path: Path) -> AsyncIterator[Terminal]:
    """`bot.py simulate` on a fresh demo database; on leaving, `:q` ends it cleanly (exit 0,
    no traceback on the screen), or it is killed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "simulate", "--database", str(tmp_path / "s.db"),
        cwd=tmp_path, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    term = Terminal(process)
    try:
        yield term
        await term.type(":q")
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
    assert "Traceback" not in term.screen


async def test_newcomer_registers_invites_and_a_volunteer_joins(tmp_path: Path) -> None:
    async with simulator(tmp_path) as term:
        code = (await term.until(r"/start (\S+)")).group(1)
        await term.until(r"\] > ")
        await term.type(f"/start {code}")
        await term.until(r"\[2\] English")
        await term.type("2")  # English
        await term.until("Please type your name")
        await term.type("Newcomer Admin")
        await term.until(r"\[2\] male")
        await term.type("2")
        await term.until("You are registered, Newcomer Admin")
        await term.type("/invite")
        await term.until(r"\[1\] volunteer")
        await term.type("1")
        await term.until(r"\[2\] 📂 城关镇")
        await term.type("2")
        await term.until(r"\[2\] 📂 东村")
        await term.type("2")
        await term.until(r"\[1\] ✅ Choose 东村")
        await term.type("1")
        link = (await term.until(r"https://t\.me/\S+")).group(0)
        await term.type(":new 小林 zh")
        await term.until(r"\[小林\] > ")
        await term.type(link)
        await term.until(r"\[1\] 中文")
        await term.type("1")
        await term.until("请输入您的姓名")
        await term.type("林小红")
        await term.until(r"\[1\] 女")
        await term.type("1")
        await term.until("注册完成，林小红")
        await term.type(":as 203")  # the demo supervisor sees both newcomers' town people
        await term.type("/people")
        await term.until("林小红")


async def test_an_urgent_report_reaches_the_supervisor_seen_after_as(tmp_path: Path) -> None:
    """The alert goes through the outbox's sender, after the volunteer's update: switching to
    the supervisor shows it, marked as new."""
    async with simulator(tmp_path) as term:
        await term.until(r"\] > ")
        await term.type(":as 201")
        await term.type("/urgent")
        await term.until(r"\[1\] ")
        await term.type("1")  # the first situation
        await term.until("是哪名儿童")
        await term.type("1")
        await term.until("一句话")
        await term.type("孩子一个人在家，门锁着")
        await term.until(r"\[1\] ✅ 确认保存")
        await term.type("1")
        await term.until("紧急报告已送达")
        await term.type(":as 203")
        await term.until(r"（新消息）.*紧急")


async def test_moving_the_clock_brings_the_reminder_of_overdue_visits(tmp_path: Path) -> None:
    async with simulator(tmp_path) as term:
        await term.until(r"\] > ")
        await term.type(":as 201")
        await term.type(":clock +12d")
        await term.until("机器人的时钟现在是")
        await term.until(r"（新消息） 🔔 今日提醒")
        await term.until(r"已逾期 \d+ 天，请尽快走访")
