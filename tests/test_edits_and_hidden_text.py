"""Edits are not answers, and text is stored as it reads: an edited earlier message never
answers the current question (the person is told to send it again); text with nothing
visible is empty; direction overrides are removed from what is stored."""

from __future__ import annotations

from sqlmodel import select

from care.roles import Role
from sandbox.harness import Sandbox
from storage.models import Person
from tests.conftest import make_invite
from tests.test_checkin import HAPPY, stored_visits, volunteer_with

EAST = "示范县/城关镇/东村"


async def test_an_edit_during_onboarding_is_not_taken_as_an_answer(box: Sandbox) -> None:
    person = box.person(1700, "Fang")
    await person.send(f"/start {await make_invite(box, Role.VOLUNTEER, EAST)}")
    await person.press("中文")
    await person.send("王芳")
    name_message = max(person.telegram.from_people[1700])  # the id of what they typed
    assert "性别" in person.last.text
    await person.edit(name_message, "李四")
    assert person.last.text == "修改过的消息不会作为回答。请把回答重新发送一条新消息。"
    await person.press("女")
    async with box.services.sessions() as session:
        [registered] = (await session.exec(select(Person))).all()
    assert registered.name == "王芳"


async def test_invisible_text_is_empty_and_overrides_are_removed(box: Sandbox) -> None:
    person = box.person(1701, "Fang")
    await person.send(f"/start {await make_invite(box, Role.VOLUNTEER, EAST)}")
    await person.press("中文")
    await person.send("\u200b \u202e")  # nothing visible: asked again
    assert "请输入您的姓名" in person.last.text
    await person.send("王\u202e芳")  # a right-to-left override inside the name
    await person.press("女")
    async with box.services.sessions() as session:
        [registered] = (await session.exec(select(Person))).all()
    assert registered.name == "王芳"


async def test_an_edit_during_a_check_in_is_not_taken_as_an_answer(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    await volunteer.press("其他日期")
    await volunteer.send("11月20日")
    typed = max(volunteer.telegram.from_people[1200])
    asked = volunteer.last.text
    await volunteer.edit(typed, "11月21日")  # the date again, edited: not taken
    assert volunteer.last.text.startswith("修改过的消息不会作为回答")
    for label in HAPPY[1:]:
        await volunteer.press(label)
    [visit] = await stored_visits(box)
    assert visit.visited_on.isoformat() == "2026-11-20" and "走访方式" in asked
