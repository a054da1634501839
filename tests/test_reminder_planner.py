"""The reminder planner on a simulated clock: before, on and after due dates, the escalation,
quiet hours, one message a day per person, birthdays and festivals, plans and snoozes, and no
duplicate after a rerun, a restart or a second instance. A day the clock skips is a day the bot
was down: the next run catches up the visit reminders it missed, never a birthday or festival."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlmodel import select

from care.reminders import Item, Kind
from care.roles import Role
from locales import Translator
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from service.reminders import SUPERVISED, plan_today, render
from settings import Settings
from storage.models import Outbox
from tests.conftest import child_id, pair_directly, register, seed_ledger, sql

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
    assert "🟡 熊子 · 逾期 3 天 · 志愿者：王芳 · 🗓 计划 2026年3月21日 走访" in supervisor.last.text


# --- the day's record, outages -------------------------------------------------------------------


async def planned_days(box: Sandbox) -> list[tuple[str, int, str | None]]:
    async with box.services.sessions() as session:
        query = "SELECT day, messages, caught_up_from FROM reminder_day ORDER BY day"
        rows = await sql(session, query)
        return [
            (str(r["day"]), r["messages"], r["caught_up_from"] and str(r["caught_up_from"]))
            for r in rows.mappings().all()
        ]


async def test_a_same_day_rerun_reads_the_days_record_and_nothing_else(box: Sandbox) -> None:
    volunteer, _, _ = await setup(box)
    assert await on(box, at("2026-03-16", 9)) == 1
    assert await planned_days(box) == [("2026-03-16", 1, None)]
    statements: list[str] = []
    engine = box.services.engine.sync_engine

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    box.services.now = lambda: at("2026-03-16", 9, 15)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert await plan_today(box.services) == 0
    finally:
        event.remove(engine, "before_cursor_execute", count)
    [only] = statements  # one look at the record: no child, pairing or outbox row is read
    assert "reminder_day" in only
    assert len(reminders(volunteer)) == 1


async def test_a_run_that_did_not_finish_is_done_again_without_duplicates(box: Sandbox) -> None:
    volunteer, _, _ = await setup(box)
    assert await on(box, at("2026-03-16", 9)) == 1
    async with box.services.sessions.begin() as session:
        await sql(session, "DELETE FROM reminder_day")  # as if it stopped before the record
    assert await on(box, at("2026-03-16", 10)) == 0  # planned again: stored once, by its key
    assert await planned_days(box) == [("2026-03-16", 0, None)]
    assert len(reminders(volunteer)) == 1


async def test_an_overdue_reminder_missed_while_down_comes_once_on_return(box: Sandbox) -> None:
    volunteer, supervisor, _ = await setup(box)  # both children due on 2026-03-16
    await on(box, at("2026-03-13"))  # "soon"; then down until the 20th: the 16th and 19th missed
    assert await on(box, at("2026-03-20", 9)) == 1
    text = reminders(volunteer)[-1]
    assert "2026年3月20日" in text
    assert "⏰ 熊子：已逾期 4 天，请尽快走访。" in text
    assert "⏰ 梁桐宇：已逾期 4 天，请尽快走访。" in text
    assert await planned_days(box) == [("2026-03-13", 1, None), ("2026-03-20", 1, "2026-03-14")]
    assert await on(box, at("2026-03-20", 15)) == 0  # once
    assert await on(box, at("2026-03-21")) == 0  # 5 days late: no step, and nothing missed
    assert await on(box, at("2026-03-22")) == 1  # the ordinary steps go on
    assert "已逾期 6 天" in reminders(volunteer)[-1]
    assert len(reminders(volunteer)) == 3 and reminders(supervisor) == []


async def test_an_escalation_missed_while_down_reaches_volunteer_and_supervisor(
    box: Sandbox,
) -> None:
    volunteer, supervisor, _ = await setup(box)
    await on(box, at("2026-03-16"))  # due; then down over the 19th and the escalation of the 23rd
    assert await on(box, at("2026-03-24")) == 2
    text = reminders(volunteer)[-1]
    assert "⚠ 熊子：已逾期 8 天未走访，督导员也已收到提醒，请尽快走访。" in text
    assert "⏰" not in text  # the escalation says it all, as on its own day
    [told] = reminders(supervisor)
    assert "⚠ 熊子（东村）已逾期 8 天未走访，已提醒志愿者。" in told
    assert "⚠ 梁桐宇（东村）已逾期 8 天未走访，已提醒志愿者。" in told
    assert await on(box, at("2026-03-25")) == 1  # 9 days late: the ordinary overdue step
    assert "⚠" not in reminders(volunteer)[-1] and len(reminders(supervisor)) == 1


async def test_birthdays_and_festivals_missed_while_down_are_not_sent_late(box: Sandbox) -> None:
    await setup(box)
    west = await register(box, Role.VOLUNTEER, "示范县/城关镇/西村", user_id=1503, name="李军")
    await pair_directly(box, await child_id(box, "刘轩宇"), 1503)  # lunar birthday 八月十五
    await on(box, at("2026-09-21"))
    # down from the 22nd to the 26th: the birthday and Mid-Autumn (the 25th) and the
    # reminders three days and a week before them passed
    await on(box, at("2026-09-27"))
    text = reminders(west)[-1]
    assert "2026年9月27日" in text and "刘轩宇" in text  # long overdue: caught up
    assert "🎂" not in text and "🏮" not in text


async def test_a_child_whose_volunteer_blocked_the_bot_is_still_escalated(box: Sandbox) -> None:
    volunteer, supervisor, _ = await setup(box)
    async with box.services.sessions.begin() as session:
        await sql(session, "UPDATE person SET unreachable_at = created_at WHERE tg_user_id = 1500")
    assert await on(box, at("2026-03-23")) == 1  # the supervisor's only
    assert reminders(volunteer) == []
    [told] = reminders(supervisor)
    assert "⚠ 熊子（东村）已逾期 7 天未走访，已提醒志愿者。" in told


def test_a_message_longer_than_telegram_takes_ends_with_how_many_were_left_out() -> None:
    t = Translator("zh_CN", TZ)
    today = at("2026-03-24").date()
    children = {n: (f"儿童{n}", "东村") for n in range(1, 301)}
    items = [
        Item(Kind.VISIT_ESCALATED, n, today - timedelta(days=8), SUPERVISED) for n in range(1, 301)
    ]
    text, buttons = render(t, items, children, today)
    lines = text.splitlines()
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    shown = len(lines) - 2  # the title and the last line
    assert lines[-1] == f"……另有 {300 - shown} 条提醒，请用 /overdue 或 /mychildren 查看。"
    assert 50 < shown < 300 and buttons == ()  # a supervisor's escalations carry no buttons
