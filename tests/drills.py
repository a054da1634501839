"""What the two drills share (tests/test_drill_crash.py, tests/test_drill_faults.py): a
database seeded for them, the real `bot.py run` against the fake Telegram over HTTP, people
who act on what their chat shows (as a person would after a crash: the screen is all they
know), and the counts: records in the database, messages in the chats."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from care.children import Category, Colour
from care.idcard import make_id
from care.roles import Gender, Role
from care.visits import VisitRule
from sandbox.people import SimPerson
from sandbox.process import BotProcess
from sandbox.server import BotApiServer
from sandbox.telegram import JSON, ApiCall, FakeTelegram, NoAnswer, Sent
from storage import areas, children, migrate, pairings, people
from storage.db import make_engine, make_sessions
from storage.models import Child

EAST, TOWN = "示范县/城关镇/东村", "示范县/城关镇"
VOLUNTEER = 8001  # does the check-ins
REPORTER = 8002  # files the urgent reports
WALKER = 8003  # is half-way through a check-in when Telegram fails
RECIPIENTS = list(range(8100, 8122))  # 20 supervisors of the town and 2 directors of the village
REMINDED = list(range(8200, 8224))  # volunteers whose child is due today
TZ = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(TZ).date()


async def seed(database: Path, *, reminded: bool = True) -> None:
    """The cast, written as the command line and the chat would write them. The children of
    the three volunteers were paired today (nothing is due for months); each of the reminded
    volunteers (when `reminded`) has a child due today."""
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await migrate.upgrade(engine)
        async with make_sessions(engine).begin() as session:
            village_area = await areas.ensure_path(session, EAST)
            town_area = await areas.ensure_path(session, TOWN)
            assert village_area.id is not None and town_area.id is not None
            village, town = village_area.id, town_area.id

            async def person(tg: int, name: str, role: Role, area: int) -> int:
                found = await people.upsert(
                    session, tg_user_id=tg, name=name, role=role, area_id=area,
                    gender=Gender.FEMALE, locale=None,
                )  # fmt: skip
                assert found.id is not None
                return found.id

            async def child(name: str, n: int, colour: Colour, volunteer: int, since: date) -> None:
                birth = date(2014, 5, 1) + timedelta(days=n)  # birthdays in May and June
                added = await children.add(
                    session,
                    Child(name=name, gender=Gender.MALE.value, birth_date=birth,
                          category=Category.LEFT_BEHIND.value, colour=colour.value,
                          area_id=village, id_number=make_id("320999", birth, 2 * n + 1),
                          guardian_name="祖母", guardian_relation="祖母", consent=True,
                          followed_since=since),
                    actor_id=volunteer, rule=VisitRule(),
                )  # fmt: skip
                assert added.id is not None
                await pairings.create(
                    session, child_id=added.id, volunteer_id=volunteer, started_on=since,
                    broken_rules=[], reason="", actor_id=volunteer,
                )  # fmt: skip

            day = today()
            await child("林小雨", 1, Colour.GREEN, await person(VOLUNTEER, "王芳", Role.VOLUNTEER,
                                                                   village), day)  # fmt: skip
            await child("周小军", 2, Colour.GREEN, await person(REPORTER, "李娟", Role.VOLUNTEER,
                                                                   village), day)  # fmt: skip
            await child("吴小华", 3, Colour.GREEN, await person(WALKER, "张强", Role.VOLUNTEER,
                                                                   village), day)  # fmt: skip
            for n, tg in enumerate(RECIPIENTS):
                role, area = (Role.SUPERVISOR, town) if n < 20 else (Role.DIRECTOR, village)
                await person(tg, f"督导{n}", role, area)
            for n, tg in enumerate(REMINDED if reminded else []):
                volunteer = await person(tg, f"志愿者{n}", Role.VOLUNTEER, village)
                await child(f"孩子{n}", 10 + n, Colour.BLUE, volunteer, day - timedelta(days=30))
    finally:
        await engine.dispose()


class Stage:
    """The fake Telegram, served over HTTP, and the bot's process on one seeded database."""

    def __init__(self, folder: Path, *, reminded: bool = True, **settings: str) -> None:
        self.folder, self.database = folder, folder / "drill.db"
        self.reminded = reminded
        self.telegram = FakeTelegram()
        self.server = BotApiServer(self.telegram)
        self.settings = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            # no quiet hours: the reminders go whenever the drill runs
            "QUIET_HOURS_START": "00:00",
            "QUIET_HOURS_END": "00:00",
            **settings,
        }
        self.bot: BotProcess

    async def __aenter__(self) -> Stage:
        await seed(self.database, reminded=self.reminded)
        await self.server.__aenter__()
        self.bot = BotProcess(self.server, self.folder, **self.settings)
        await self.bot.start()
        await self.bot.ready()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.bot.process is not None:
                await self.bot.stop()
        finally:
            await self.server.__aexit__(exc_type, exc, tb)

    def person(self, tg: int, name: str = "Test") -> SimPerson:
        async def push(update: JSON) -> None:
            self.telegram.push(update)

        return SimPerson(self.telegram, push, user_id=tg, first_name=name)

    def rows(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """The database as it is now (the bot's process writes it; WAL lets us read)."""
        with sqlite3.connect(self.database, timeout=10) as db:
            return db.execute(statement, params).fetchall()

    # -- killing at a chosen moment ----------------------------------------------------------

    def kill_at(self, match: Callable[[ApiCall], bool], *, done: bool, drop: bool = False) -> None:
        """Kills the bot at the first call that `match`es: as it arrives (`done` False; `drop`:
        and Telegram never does it), or right after Telegram did it (`done` True)."""

        def hook(call: ApiCall, applied: bool) -> None:
            if applied != done or not match(call):
                return
            self.telegram.on_call = None
            self.bot.kill()
            if drop and not applied:
                raise NoAnswer(applied=False)

        self.telegram.on_call = hook

    def disarm(self) -> None:
        self.telegram.on_call = None

    # -- what the chats show ---------------------------------------------------------------

    def screen(self, chat: int) -> tuple[tuple[int, str, str], ...]:
        return tuple(
            (m.message_id, m.text, json.dumps(m.reply_markup, sort_keys=True))
            for m in self.telegram.chats[chat]
        )

    async def changed(self, chat: int, before: object, within: float) -> bool:
        deadline = time.monotonic() + within
        while self.screen(chat) == before:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def sent(self, chat: int) -> list[str]:
        """The messages sent to the chat, as each first read (edits are not sends)."""
        first: dict[int, str] = {}
        for shown in self.telegram.shown:
            if shown.chat_id == chat:
                first.setdefault(shown.message_id, shown.text)
        return list(first.values())

    def copies(self, chat: int, text: str) -> int:
        return self.sent(chat).count(text)

    def copies_with(self, chat: int, prefix: str) -> int:
        return sum(1 for text in self.sent(chat) if text.startswith(prefix))

    def outbox(self, where: str = "1=1") -> list[Delivery]:
        """Every message of the outbox, with how many times its chat received it."""
        found = self.rows(
            f"SELECT key, chat_id, text, failed_at FROM outbox WHERE {where} ORDER BY id"
        )
        return [
            Delivery(key, chat, text, failed is not None, self.copies(chat, text))
            for key, chat, text, failed in found
        ]

    def first_shown_at(self, chat: int, prefix: str) -> float | None:
        """When a text starting with `prefix` first reached the chat (time.monotonic)."""
        return next(
            (s.at for s in self.telegram.shown if s.chat_id == chat and s.text.startswith(prefix)),
            None,
        )


@dataclass(frozen=True)
class Delivery:
    key: str
    chat: int
    text: str
    failed: bool
    copies: int


async def eventually(check: Callable[[], bool], within: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


@dataclass(frozen=True)
class Step:
    """One question of a flow, as a person answers it."""

    asks: str  # how the question begins
    press: tuple[str, ...]  # what the person presses, in order; "☐ x" only while unticked


# The check-in the drills' volunteers do, and what it must store; an urgent report.
CHECK_IN = (
    Step("走访日期", ("今天",)),
    Step("走访方式", ("入户走访",)),
    Step("身体状况", ("身体健康",)),
    Step("情绪和心理状态", ("情绪良好",)),
    Step("学习和上学情况", ("正常上学",)),
    Step("监护和照料情况", ("照料良好",)),
    Step("本月与父母的联系", ("本月与父母有联系",)),
    Step("本次进行了哪些安全教育", ("☐ 防溺水", "☐ 交通安全", "✅ 选好了")),
    Step("孩子的心愿", ("跳过",)),
    Step("发现的问题", ("跳过",)),
    Step("请核对走访记录", ("✅ 确认保存",)),
)
# mode, health, mood, study, care, parents, safety, wishes, problems
VISIT = ("home", "good", "good", "normal", "good", "contacted", "drowning,traffic", "", "")
URGENT = (
    Step("是什么情形", ("脱离监护单独居住",)),
    Step("是哪名儿童", ("周小军",)),
    Step("一句话说明情况", ("跳过",)),
    Step("如方便，可发送位置", ("跳过",)),
    Step("🚨 请核对紧急报告", ("✅ 确认保存",)),
)


def next_press(
    person: SimPerson, steps: tuple[Step, ...], prefix: str, after: int = 0
) -> tuple[str, Sent, str] | None:
    """What the person presses, on which message, and its key in a plan of crashes,
    reading the messages of their chat newer than `after` (a message id: the questions of an
    earlier flow are not answered again): None once no question of the flow waits."""
    flow = [
        m
        for m in person.inbox
        if m.message_id > after and any(d.startswith(prefix) for _, d in m.buttons)
    ]
    if not flow:
        return None
    message = flow[-1]
    labels = [label for label, _ in message.buttons]
    for step in steps:
        if prompt(message.text).startswith(step.asks):
            press = next(p for p in step.press if not p.startswith("☐") or p in labels)
            return press, message, f"{step.asks} {press}"
    raise AssertionError(f"a question the drill does not know: {message.text!r}")


NOTES = ("✔", "请点击下方按钮作答。", "请用文字回答。", "请先完成当前步骤")


def prompt(text: str) -> str:
    """A flow's question without the note above it (the answer just taken, or why it is
    asked again): the same question shown twice is a repeat whatever the note says."""
    note, _, rest = text.partition("\n\n")
    return rest if rest and note.startswith(NOTES) else text
