"""A flow never blocks an emergency: `/urgent` in the middle of a check-in files the report,
then offers the check-in again with its answers kept; help and the language interrupt nothing;
a report in progress is not stacked on another. In both languages."""

from __future__ import annotations

import pytest
from sqlmodel import select

from sandbox.harness import Sandbox
from storage.models import Case, Visit
from tests.test_checkin import HAPPY, stored_visits, volunteer_with

# The words a person taps, per language: the check-in's first steps, the urgent report's steps.
WORDS = {
    "中文": {
        "checkin": HAPPY,
        "paused": "您刚才正在填写的内容已保留",
        "urgent": ["ur:a:living_alone", "熊子"],
        "line": "奶奶住院了，孩子一个人在家",
        "save": "✅ 确认保存",
        "sent": "紧急报告已送达",
        "resume": "↩ 继续刚才的填写",
        "ask_study": "学习和上学情况：",
        "finish_first": "请先完成当前步骤",
    },
    "English": {
        "checkin": ["Today", "phone or video", "healthy", "in good spirits",
                    "at school as usual", "well looked after",
                    "in touch with the parents this month", "✅ Done", "Skip", "Skip",
                    "✅ Save"],  # fmt: skip
        "paused": "What you were doing is kept",
        "urgent": ["ur:a:living_alone", "熊子"],
        "line": "Grandmother in hospital, the child alone at home",
        "save": "✅ Save",
        "sent": "",  # checked by the case row below
        "resume": "↩ Continue where I was",
        "ask_study": "",
        "finish_first": "",
    },
}


@pytest.mark.parametrize("language", ["中文", "English"])
async def test_urgent_in_the_middle_of_a_check_in_then_the_check_in_goes_on(
    box: Sandbox, language: str
) -> None:
    words = WORDS[language]
    volunteer = await volunteer_with(box, "熊子", language=language)
    await volunteer.send("/checkin")
    for label in words["checkin"][:4]:  # date, mode, health, mood
        await volunteer.press(label)
    question = volunteer.last.text
    await volunteer.send("/urgent")
    assert any(words["paused"] in m.text for m in volunteer.inbox[-3:])
    situation, child = words["urgent"]
    await volunteer.press_data(situation, volunteer.last)
    await volunteer.press(child)
    await volunteer.send(words["line"])
    await volunteer.press(words["save"])
    if words["sent"]:
        assert words["sent"] in volunteer.last.text
    async with box.services.sessions() as session:
        [case] = (await session.exec(select(Case))).all()
    assert case.urgent and case.situation == "living_alone"
    # the reply offers the check-in again: the question where it stopped, the answers kept
    await volunteer.press(words["resume"])
    assert volunteer.last.text.endswith(question.splitlines()[-1])
    if words["ask_study"]:
        assert volunteer.last.text.endswith(words["ask_study"])
    for label in words["checkin"][4:]:
        await volunteer.press(label)
    [visit] = await stored_visits(box)
    assert (visit.mode, visit.health, visit.mood) != (None, None, None)
    assert visit.health == "good" and visit.mood == "good"


async def test_help_and_language_interrupt_nothing(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    for label in HAPPY[:3]:
        await volunteer.press(label)
    asked = volunteer.last
    await volunteer.send("/help")
    assert "/urgent" in volunteer.last.text  # the help, not "finish first"
    await volunteer.send("/children")  # not always open: it waits
    assert "请先完成当前步骤" in volunteer.last.text
    for label in HAPPY[3:]:
        await volunteer.press(label, asked if label == HAPPY[3] else None)
    assert len(await stored_visits(box)) == 1


async def test_a_report_does_not_stack_on_an_urgent_report(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/urgent")
    await volunteer.press_data("ur:a:living_alone", volunteer.last)
    await volunteer.send("/report")
    assert "请先完成当前步骤" in volunteer.last.text
    await volunteer.press("熊子")
    await volunteer.send("孩子一个人在家")
    await volunteer.press("✅ 确认保存")
    assert "紧急报告已送达" in volunteer.last.text
    assert volunteer.last.buttons == []  # nothing was paused: nothing to continue
    async with box.services.sessions() as session:
        assert len((await session.exec(select(Case))).all()) == 1
        assert (await session.exec(select(Visit))).all() == []


async def test_cancelling_the_urgent_report_offers_the_check_in_again(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    await volunteer.press(HAPPY[0])
    await volunteer.send("/urgent")
    await volunteer.send("/cancel")
    assert volunteer.last.text == "已取消，未保存任何内容。"
    await volunteer.press("↩ 继续刚才的填写")
    assert volunteer.last.text.endswith("走访方式：")
    for label in HAPPY[1:]:
        await volunteer.press(label)
    assert len(await stored_visits(box)) == 1
