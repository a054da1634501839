"""A flow never blocks an emergency: `/urgent` in the middle of a check-in files the report,
then offers the check-in again with its answers kept; help and the language interrupt nothing;
a report in progress is not stacked on another. In both languages."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import select

from sandbox.harness import Sandbox
from storage.models import Case, Visit
from tests.test_checkin import HAPPY, stored_visits, volunteer_with


@dataclass(frozen=True)
class Words:
    """What a person taps and reads, in one language."""

    checkin: list[str]
    paused: str
    line: str
    save: str
    resume: str
    mode: str  # how the check-in's second answer is stored


WORDS = {
    "中文": Words(HAPPY, "您刚才正在填写的内容已保留", "奶奶住院了，孩子一个人在家",
                 "✅ 确认保存", "↩ 继续刚才的填写", "home"),
    "English": Words(
        ["Today", "phone or video", "healthy", "in good spirits", "at school as usual",
         "well looked after", "in touch with the parents this month", "✅ Done", "Skip",
         "Skip", "✅ Save"],
        "What you were doing is kept", "Grandmother in hospital, the child alone at home",
        "✅ Save", "↩ Continue where I was", "phone",
    ),
}  # fmt: skip


@pytest.mark.parametrize("language", ["中文", "English"])
async def test_urgent_in_the_middle_of_a_check_in_then_the_check_in_goes_on(
    box: Sandbox, language: str
) -> None:
    words = WORDS[language]
    volunteer = await volunteer_with(box, "熊子", language=language)
    await volunteer.send("/checkin")
    for label in words.checkin[:4]:  # date, mode, health, mood
        await volunteer.press(label)
    question = volunteer.last.text.splitlines()[-1]
    await volunteer.send("/urgent")
    assert any(words.paused in m.text for m in volunteer.inbox[-3:])
    await volunteer.press_data("ur:a:living_alone", volunteer.last)
    await volunteer.press("熊子")
    await volunteer.send(words.line)
    await volunteer.press(words.save)
    async with box.services.sessions() as session:
        [case] = (await session.exec(select(Case))).all()
    assert case.urgent and case.situation == "living_alone"
    # the reply offers the check-in again: the question where it stopped, the answers kept
    await volunteer.press(words.resume)
    assert volunteer.last.text.endswith(question)
    for label in words.checkin[4:]:
        await volunteer.press(label)
    [visit] = await stored_visits(box)
    assert (visit.mode, visit.health, visit.mood) == (words.mode, "good", "good")


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


async def test_a_long_urgent_note_is_kept_up_to_the_limit(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/urgent")
    await volunteer.press_data("ur:a:living_alone", volunteer.last)
    await volunteer.press("熊子")
    await volunteer.send("孩子一个人在家。" * 625)  # 5,000 characters
    assert "已保留前 500 字，最后 4500 字未保留" in volunteer.last.text
    await volunteer.press("✅ 确认保存")
    async with box.services.sessions() as session:
        [case] = (await session.exec(select(Case))).all()
    assert len(case.description) == 500 and case.description.startswith("孩子一个人在家。")
