"""An update Telegram delivers again (after a crash, polling hands over again what it had not
seen confirmed) is recognised by its id and not handled twice: a typed answer is not taken a
second time as the answer to the next question, in this process or after a restart."""

from __future__ import annotations

from sqlmodel import col, select

from care.roles import Role
from sandbox.harness import Sandbox
from settings import Settings
from storage.models import UserState
from tests.conftest import make_invite, watch_errors

EAST = "示范县/城关镇/东村"


async def test_an_update_delivered_again_is_not_handled_again(
    box: Sandbox, migrated: Settings
) -> None:
    person = box.person(1500, "王芳")
    await person.send(f"/start {await make_invite(box, Role.VOLUNTEER, EAST)}")
    await person.press("中文")
    await person.send("王芳")
    assert "性别" in person.last.text
    seen, again = len(person.inbox), person.last_update
    await box.deliver(again)  # the same update once more: nothing happens
    assert len(person.inbox) == seen
    persistence = box.application.persistence
    assert persistence is not None
    await persistence.flush()

    restarted = Sandbox(migrated)  # a new process on the same database
    errors = watch_errors(restarted)
    async with restarted:
        await restarted.deliver(again)
        assert not any(c.method.startswith("send") for c in restarted.telegram.calls)
        other = restarted.person(1500, "王芳")
        restarted.telegram.chats[1500] = person.inbox
        await other.press("女")  # the flow goes on where it was
        assert "注册完成" in other.last.text
    assert errors == []


async def test_the_mark_is_stored_with_the_answer_it_covers(box: Sandbox) -> None:
    """The stored row says an update was handled only together with what it changed: written
    right after the answer (as the write-behind may), it holds the answer too, even when
    someone else's update came just before it."""
    person, other = box.person(1501, "甲"), box.person(1502, "乙")
    await person.send(f"/start {await make_invite(box, Role.VOLUNTEER, EAST)}")
    await person.press("中文")
    await other.send("/help")
    await person.send("王芳")
    persistence = box.application.persistence
    assert persistence is not None
    await persistence.flush()
    async with box.services.sessions() as session:
        data, last = (
            await session.exec(
                select(col(UserState.data), col(UserState.last_update)).where(
                    UserState.user_id == 1501
                )
            )
        ).one()
    assert last == person.last_update["update_id"] and "王芳" in data
