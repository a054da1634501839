"""The durable inbox and saving while the database is away: an update stored before a crash is
handled on the next start (a Confirm included: the visit saved once, the reply sent, the flow
over); an update that arrives while the database is down waits, its sender told once; a save
during an outage waits and tries again, or, past the bound, keeps the answers for another
press. The outage is a fault injected where the driver runs a statement, nothing of ours."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from telegram import Update

from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from sandbox.telegram import JSON
from settings import Settings
from storage.models import InboxUpdate, Visit
from tests.conftest import watch_errors
from tests.test_checkin import HAPPY, NOW, stored_visits, volunteer_with
from toolkit import saving


class Outage:
    """While on, every statement starting with `prefix` fails as if the server were gone."""

    def __init__(self, engine: AsyncEngine, prefix: str) -> None:
        self.prefix, self.on, self.hits = prefix.upper(), False, 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._check)

    def _check(self, _c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        if self.on and statement.lstrip().upper().startswith(self.prefix):
            self.hits += 1
            raise OperationalError(statement, params, ConnectionRefusedError("database down"))

    def end_after(self, seconds: float) -> None:
        asyncio.get_running_loop().call_later(seconds, setattr, self, "on", False)


async def eventually(check: Callable[[], Any], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.05)


async def test_a_confirm_stored_before_a_crash_is_handled_on_start(migrated: Settings) -> None:
    first = Sandbox(migrated)
    async with first:
        volunteer = await volunteer_with(first, "熊子")
        await volunteer.send("/checkin")
        for label in HAPPY[:-1]:
            await volunteer.press(label)
        inbox = first.application.bot_data["inbox"]

        async def stored_only(update: JSON) -> None:  # fetched and stored, then the crash
            await inbox.accept([Update.de_json(update, first.application.bot)])

        stopped = SimPerson(first.telegram, stored_only, user_id=1200, first_name="王芳")
        await stopped.press("✅ 确认保存", volunteer.last)
    assert await stored_visits(first) == []

    second = Sandbox(migrated)
    errors = watch_errors(second)
    second.telegram.chats[1200] = volunteer.inbox
    second.services.now = lambda: NOW
    again = second.person(1200, "王芳")
    async with second:  # the next start handles it first

        async def replied() -> bool:
            await second.drain()
            return "走访已记录。熊子 下次走访" in again.last.text

        await eventually(replied)
        await again.send("/checkin")  # no ghost: a new check-in starts
        assert again.last.text == "走访日期："
        await second.application.bot_data["inbox"].writer.now()  # the done marks, now
        async with second.services.sessions() as session:
            pending = await session.exec(
                select(col(InboxUpdate.update_id)).where(col(InboxUpdate.done_at).is_(None))
            )
            assert list(pending) == []  # every update done, the replayed one included
    assert errors == []
    assert len(await stored_visits(second)) == 1


async def test_an_update_waits_while_the_database_is_down(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    outage = Outage(box.services.engine, "INSERT INTO inbox")
    queue = box.application.update_queue
    seen = len(volunteer.inbox)

    async def through_the_queue(update: JSON) -> None:  # as the updater hands it over
        await queue.put(Update.de_json(update, box.application.bot))

    polling = SimPerson(box.telegram, through_the_queue, user_id=1200, first_name="王芳")
    outage.on = True
    outage.end_after(1.5)
    started = time.monotonic()
    await polling.send("/mychildren")  # put returns once the update is stored
    assert time.monotonic() - started >= 1.4 and outage.hits >= 2
    texts = [m.text for m in volunteer.inbox[seen:]]
    assert texts[0].startswith("系统暂时不可用。您的消息已收到")

    async def answered() -> bool:
        return len(volunteer.inbox) > seen + 1

    await eventually(answered)
    assert "熊子" in volunteer.last.text
    assert sum(t.startswith("系统暂时不可用") for t in (m.text for m in volunteer.inbox)) == 1


async def test_a_save_waits_for_the_database_and_is_stored_once(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    for label in HAPPY[:-1]:
        await volunteer.press(label)
    outage = Outage(box.services.engine, "INSERT INTO visit")
    outage.on = True
    outage.end_after(1.2)
    seen = len(volunteer.inbox)
    await volunteer.press("✅ 确认保存")
    assert outage.hits >= 2
    assert volunteer.inbox[seen].text.startswith("正在保存……数据库暂时不可用")
    await box.drain()
    assert "走访已记录。熊子 下次走访" in volunteer.last.text
    assert len(await stored_visits(box)) == 1


async def test_past_the_bound_the_answers_wait_for_another_press(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(saving, "PATIENCE", 0.8)
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    for label in HAPPY[:-1]:
        await volunteer.press(label)
    summary = volunteer.last
    outage = Outage(box.services.engine, "INSERT INTO visit")
    outage.on = True
    await volunteer.press("✅ 确认保存")
    assert volunteer.last.text.startswith("尚未保存：数据库仍不可用。内容没有丢失")
    assert await stored_visits(box) == []
    outage.on = False
    await volunteer.press("✅ 确认保存", summary)  # the same summary, pressed again
    await box.drain()
    assert "走访已记录。熊子 下次走访" in volunteer.last.text
    async with box.services.sessions() as session:
        assert len(list(await session.exec(select(Visit)))) == 1
