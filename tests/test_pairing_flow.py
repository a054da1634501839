"""/pair, /unpair, /unpaired and reviews, through the chat: the rules, the override path, and
that nobody pairs outside their area."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from storage.models import AuditLog, Pairing
from tests.conftest import child_id, register, seed_ledger

TOWN = "示范县/城关镇"


async def cast(box: Sandbox) -> tuple[SimPerson, dict[str, int]]:
    await seed_ledger(box)
    people = {
        "王芳": (f"{TOWN}/西村", "ob:gender:female"),
        "李军": (f"{TOWN}/东村", "ob:gender:male"),
        "周丽": ("示范县/河口镇/柳树村", "ob:gender:female"),
    }
    for n, (name, (path, gender)) in enumerate(people.items()):
        await register(box, Role.VOLUNTEER, path, user_id=1100 + n, name=name, gender=gender)
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1199, name="督导")
    return supervisor, {name: 1100 + n for n, name in enumerate(people)}


def choices(person: SimPerson) -> list[str]:
    return [label for label, data in person.last.buttons if data.startswith("fp:a:")]


async def test_girl_then_her_brother_with_an_override(box: Sandbox) -> None:
    supervisor, _ = await cast(box)
    await supervisor.send("/pair 刘轩宇")  # a girl of 11 in 西村, sister of 刘曦
    assert choices(supervisor) == [
        "王芳 · 女 · 已结对0名",
        "李军 · 男 · 已结对0名 ⚠ 8岁及以上女童应由女性志愿者结对",
    ]  # 周丽 is of another town: not offered
    await supervisor.press("王芳 · 女 · 已结对0名")
    assert supervisor.last.text.endswith("确认将 刘轩宇 与志愿者 王芳 结对？")
    await supervisor.press("✅ 确认保存")
    assert supervisor.last.text == "已结对：刘轩宇 — 王芳。"

    await supervisor.send("/pair 刘曦")
    assert choices(supervisor) == [
        "👪 王芳 · 女 · 已结对1名",
        "李军 · 男 · 已结对0名 ⚠ 兄弟姐妹应由同一家庭结对",
    ]
    await supervisor.press("李军 · 男 · 已结对0名 ⚠ 兄弟姐妹应由同一家庭结对")
    assert "请写明理由" in supervisor.last.text
    await supervisor.send("好")
    assert "理由需为4到200个字" in supervisor.last.text
    await supervisor.send("王芳家已照顾两个孩子，暂由李军结对，下月调整")
    summary = supervisor.last.text
    assert "⚠ 违反规则：兄弟姐妹应由同一家庭结对" in summary and "下月调整" in summary
    await supervisor.press("✅ 确认保存")
    async with box.services.sessions() as session:
        pairing = (
            await session.exec(
                select(Pairing).where(Pairing.child_id == await child_id(box, "刘曦"))
            )
        ).one()
        audit = (await session.exec(select(AuditLog).where(AuditLog.action == "pair"))).all()
    assert pairing.broken_rules == "siblings_together"
    assert pairing.override_reason == "王芳家已照顾两个孩子，暂由李军结对，下月调整"
    assert len(audit) == 2 and "overridden=siblings_together" in audit[1].detail

    # the same volunteer twice is refused; /unpaired shows the split siblings
    await supervisor.send("/pair 刘轩宇")
    assert choices(supervisor)[-1].endswith("已与该儿童结对")
    await supervisor.press(choices(supervisor)[-1])
    assert "该志愿者已与这名儿童结对" in supervisor.last.text
    await supervisor.send("/cancel")
    await supervisor.send("/unpaired")
    report = supervisor.last.text
    assert (
        "👪 兄弟姐妹未由同一家庭结对（1）：\n• 刘轩宇（西村）、刘曦（西村） — 王芳、李军" in report
    )
    assert "❗ 孤儿、事实无人抚养、重残重病儿童尚无爱心家庭结对" in report
    assert "孔涵（南社区）" in report and "曹" not in report  # 河口镇 children are not theirs

    # ending the override pairing closes the gap
    await supervisor.send("/unpair 刘曦")
    await supervisor.press("李军")
    await supervisor.send("兄弟姐妹改由同一家庭照顾")
    await supervisor.press("✅ 确认保存")
    assert "已解除结对" in supervisor.last.text
    await supervisor.send("/unpaired")
    assert "兄弟姐妹未由同一家庭结对" in supervisor.last.text  # 刘曦 now has nobody
    async with box.services.sessions() as session:
        ended = (
            await session.exec(select(Pairing).where(col(Pairing.ended_on).is_not(None)))
        ).one()
    assert ended.end_reason == "兄弟姐妹改由同一家庭照顾"


async def test_reviews_come_due_after_march_and_the_card_records_them(box: Sandbox) -> None:
    supervisor, _ = await cast(box)
    await supervisor.send("/pair 孔涵")
    await supervisor.press(choices(supervisor)[0])
    await supervisor.press("✅ 确认保存")
    await supervisor.send("/unpaired")
    assert "尚未复核" not in supervisor.last.text
    next_spring = datetime(2027, 3, 15, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    box.services.now = lambda: next_spring
    await supervisor.send("/unpaired")
    assert "📅 自今年3月起尚未复核的结对（1）：\n• 孔涵（南社区） — 王芳" in supervisor.last.text
    await supervisor.send("/child 孔涵")
    await supervisor.press("结对已复核")
    answered = [c.params for c in box.telegram.calls if c.method == "answerCallbackQuery"][-1]
    assert answered["text"] == "已记录复核（1 个结对）。"
    await supervisor.send("/unpaired")
    assert "尚未复核" not in supervisor.last.text
    box.services.now = lambda: next_spring + timedelta(days=365)
    await supervisor.send("/unpaired")
    assert "尚未复核的结对（1）" in supervisor.last.text


async def test_pairing_outside_ones_area_or_role_is_refused(box: Sandbox) -> None:
    supervisor, ids = await cast(box)
    other_town = await child_id(box, "曹诺若")  # 河口镇
    await supervisor.send("/pair 曹诺若")
    assert "没有找到" in supervisor.last.text
    await supervisor.press_data(f"pair:child:{other_town}", supervisor.last)
    volunteer = box.person(ids["王芳"], "王芳")
    await volunteer.send("/pair 刘曦")
    assert "无权" in volunteer.last.text
    await volunteer.press_data(f"pair:child:{await child_id(box, '刘曦')}", volunteer.last)
    await volunteer.press_data(f"unp:child:{await child_id(box, '刘曦')}", volunteer.last)
    # a forged choice of an out-of-town volunteer inside a real flow is refused
    await supervisor.send("/pair 刘曦")
    async with box.services.sessions() as session:
        from storage.models import Person

        zhou = (await session.exec(select(Person.id).where(Person.name == "周丽"))).one()
    await supervisor.press_data(f"fp:a:{zhou}", supervisor.last)
    assert choices(supervisor)  # asked again
    async with box.services.sessions() as session:
        assert (await session.exec(select(Pairing))).all() == []
    answers = [
        c.params.get("text") for c in box.telegram.calls if c.method == "answerCallbackQuery"
    ]
    assert answers.count("抱歉，您的角色无权进行此操作。") >= 3
