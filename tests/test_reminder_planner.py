"""The reminder planner on a simulated clock: before, on and after due dates, the escalation,
quiet hours, one message a day per person, birthdays and festivals, plans and snoozes, and no
duplicate after a rerun, a restart or a second instance."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from service.reminders import plan_today
from settings import Settings
from storage.models import Outbox
from tests.conftest import child_id, pair_directly, register, seed_ledger

TZ = ZoneInfo("Asia/Shanghai")
EAST = "示范县/城关镇/东村"


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=TZ)


async def setup(box: Sandbox) -> tuple[SimPerson, SimPerson, SimPerson]:
    box.services.now = lambda: at("2026-03-01", 7)
    await seed_ledger(box)
    volunteer = await register(box, Role.VOLUNTEER, EAST, user_id=1500, name="王芳")
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1501, name="督导")
    director = await register(box, Role.DIRECTOR, EAST, user_id=1502, name="主任")
    for name in ("熊子", "梁桐宇"):  # both yellow: due on 2026-03-16
        await pair_directly(box, await child_id(box, name), 1500)
    return volunteer, supervisor, director


async def on(box: Sandbox, when: datetime) -> int:
    box.services.now = lambda: when
    planned = await plan_today(box.services)
    await box.drain()
    return planned


def reminders(person: SimPerson) -> list[str]:
    return [m.text for m in person.inbox if m.text.startswith("🔔 今日提醒")]


async def test_before_on_and_after_the_due_date(box: Sandbox) -> None:
    volunteer, supervisor, director = await setup(box)
    assert await on(box, at("2026-03-12")) == 0  # nothing four days before
    await on(box, at("2026-03-13"))
    [soon] = reminders(volunteer)
    assert (
        "🔔 熊子：请在 2026年3月16日 前走访。" in soon
        and "🔔 梁桐宇：请在 2026年3月16日 前走访。" in soon
    )
    labels = [label for label, _ in volunteer.last.buttons]
    assert labels[:3] == ["记录走访：熊子", "🗓 计划日期", "😴 暂缓"] and len(labels) == 6
    await on(box, at("2026-03-16"))
    assert "📅 熊子：今天该走访了。" in reminders(volunteer)[-1]
    await on(box, at("2026-03-17"))
    assert len(reminders(volunteer)) == 2  # nothing on the day after
    await on(box, at("2026-03-19"))
    assert "⏰ 熊子：已逾期 3 天，请尽快走访。" in reminders(volunteer)[-1]
    assert reminders(supervisor) == []
    await on(box, at("2026-03-23"))
    assert "⚠ 熊子：已逾期 7 天未走访，督导员也已收到提醒" in reminders(volunteer)[-1]
    assert "⚠ 熊子（东村）已逾期 7 天未走访，已提醒志愿者。" in reminders(supervisor)[-1]
    # March is the yearly review: directors were reminded on the 1st and the 15th
    assert len(reminders(director)) == 0  # (the 1st was before this test's first run)
    await on(box, at("2026-03-15"))
    assert "📋 三月是台账和结对的年度复核月" in reminders(director)[-1]


async def test_no_duplicate_after_a_rerun_a_restart_or_a_second_instance(
    box: Sandbox, migrated: Settings
) -> None:
    volunteer, _, _ = await setup(box)
    assert await on(box, at("2026-03-16", 9)) == 1  # one message for the volunteer
    assert await on(box, at("2026-03-16", 11)) == 0
    for _ in range(2):
        async with Sandbox(migrated) as other:  # a restart, or another instance
            other.services.now = lambda: at("2026-03-16", 12)
            assert await plan_today(other.services) == 0
    async with box.services.sessions() as session:
        keys = [o.key for o in await session.exec(select(Outbox))]
    assert len(keys) == len(set(keys))
    assert len(reminders(volunteer)) == 1


async def test_quiet_hours_hold_reminders_until_morning(box: Sandbox) -> None:
    volunteer, _, _ = await setup(box)
    assert await on(box, at("2026-03-18", 22, 30)) == 0  # the evening: tomorrow plans tomorrow
    box.services.now = lambda: at("2026-03-19", 6)
    assert await plan_today(box.services) == 1  # early morning: planned, held back
    await box.drain()
    assert reminders(volunteer) == []
    box.services.now = lambda: at("2026-03-19", 8, 1)
    await box.drain()
    [held] = reminders(volunteer)
    assert "2026年3月19日" in held and "已逾期 3 天" in held


async def test_birthdays_and_festivals(box: Sandbox) -> None:
    await setup(box)
    west = await register(box, Role.VOLUNTEER, "示范县/城关镇/西村", user_id=1503, name="李军")
    await pair_directly(box, await child_id(box, "刘轩宇"), 1503)  # lunar birthday 八月十五
    await on(box, at("2026-09-18"))  # Mid-Autumn 2026 is on 25 September
    assert "🏮 中秋节（2026年9月25日）快到了" in reminders(west)[-1]
    await on(box, at("2026-09-22"))
    assert "🎂 刘轩宇 的生日在 2026年9月25日。" in reminders(west)[-1]
    await on(box, at("2026-09-25"))
    text = reminders(west)[-1]
    assert "🎂 今天是 刘轩宇 的生日" in text and "🏮 今天是中秋节" in text


async def test_plan_a_date_and_snooze_from_a_reminder(box: Sandbox) -> None:
    volunteer, _, _ = await setup(box)
    await on(box, at("2026-03-13"))
    await volunteer.press("🗓 计划日期")
    await volunteer.press("2026年3月14日")
    await volunteer.press("✅ 确认保存")
    assert volunteer.last.text == "好的，2026年3月14日 那天会提醒您。"
    await on(box, at("2026-03-14"))
    assert "🗓 熊子：您计划今天走访。" in reminders(volunteer)[-1]
    await volunteer.press("😴 暂缓", volunteer.last)  # 熊子 again
    await volunteer.press("已电话联系过")
    await volunteer.press("7 天")
    await volunteer.press("✅ 确认保存")
    assert volunteer.last.text == "好的，2026年3月21日 起会再次提醒您。"
    await on(box, at("2026-03-16"))
    text = reminders(volunteer)[-1]
    assert "梁桐宇" in text and "熊子" not in text  # snoozed
    await on(box, at("2026-03-21"))
    assert "熊子" in reminders(volunteer)[-1]  # the snooze is over: overdue again


async def test_overdue_shows_a_planned_visit(box: Sandbox) -> None:
    volunteer, supervisor, _ = await setup(box)
    await on(box, at("2026-03-19"))
    await volunteer.press("🗓 计划日期")
    await volunteer.press("2026年3月21日")
    await volunteer.press("✅ 确认保存")
    await supervisor.send("/overdue")
    await supervisor.press("🟡")  # the children nobody is to visit come first: yellow only
    assert "🟡 熊子 · 逾期 3 天 · 志愿者：王芳 · 🗓 计划 2026年3月21日 走访" in supervisor.last.text
