"""Counted messages in English say "1 day" and "2 days" (issue 13), through the real flows:
/overdue, its nudge and the nudge the volunteer receives, /mychildren, the check-in's choice of
child. tests/test_catalogs.py checks every plural entry at the catalog level."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from tests.conftest import child_id, pair_directly, register, seed_ledger

EAST = "示范县/城关镇/东村"
TZ = ZoneInfo("Asia/Shanghai")
# 熊子 (yellow: a visit every 15 days), paired on 1 March, is due on 16 March
ONE_DAY_LATE = datetime(2026, 3, 17, 10, 0, tzinfo=TZ)
TWO_DAYS_LATE = datetime(2026, 3, 18, 10, 0, tzinfo=TZ)


async def english(box: Sandbox, role: Role, path: str, user_id: int, name: str) -> SimPerson:
    return await register(
        box, role, path, user_id=user_id, name=name, language="English", language_code="en"
    )


def answers(box: Sandbox) -> list[str]:
    calls = box.telegram.calls
    return [str(c.params.get("text")) for c in calls if c.method == "answerCallbackQuery"]


async def test_english_counts_one_day_and_one_volunteer_then_two(box: Sandbox) -> None:
    box.services.now = lambda: ONE_DAY_LATE
    await seed_ledger(box)
    wang = await english(box, Role.VOLUNTEER, EAST, 1500, "Wang")
    li = await english(box, Role.VOLUNTEER, EAST, 1501, "Li")
    supervisor = await english(box, Role.SUPERVISOR, "示范县/城关镇", 1502, "Zhou")
    xiong = await child_id(box, "熊子")
    await pair_directly(box, xiong, 1500)
    await pair_directly(box, await child_id(box, "薛子"), 1500)  # not overdue: a choice to make

    await supervisor.send("/overdue")
    assert "🟡 熊子 · 1 day overdue · volunteer: Wang" in supervisor.last.text
    await supervisor.press("📣 Nudge: 熊子")
    assert answers(box)[-1] == "Nudged 1 volunteer (at most once a day per child)."
    await box.drain()
    assert wang.last.text == (
        "📣 A reminder from your supervisor: please visit 熊子 soon (1 day overdue)."
    )
    await wang.send("/mychildren")
    assert "• ⏰ 熊子: last never, 1 day overdue (due March 16, 2026)" in wang.last.text
    await wang.send("/checkin")
    assert "⏰ 熊子 (1 day overdue)" in [label for label, _ in wang.last.buttons]
    await wang.send("/cancel")

    box.services.now = lambda: TWO_DAYS_LATE
    await pair_directly(box, xiong, 1501)
    await supervisor.send("/overdue")
    assert "🟡 熊子 · 2 days overdue · volunteer: " in supervisor.last.text
    await supervisor.press("📣 Nudge: 熊子")
    assert answers(box)[-1] == "Nudged 2 volunteers (at most once a day per child)."
    await box.drain()
    for volunteer in (wang, li):
        assert volunteer.last.text == (
            "📣 A reminder from your supervisor: please visit 熊子 soon (2 days overdue)."
        )
    await li.send("/mychildren")
    assert "• ⏰ 熊子: last never, 2 days overdue (due March 16, 2026)" in li.last.text
    await wang.send("/checkin")
    assert "⏰ 熊子 (2 days overdue)" in [label for label, _ in wang.last.buttons]


async def test_chinese_has_one_form_for_any_count(box: Sandbox) -> None:
    box.services.now = lambda: ONE_DAY_LATE
    await seed_ledger(box)
    await register(box, Role.VOLUNTEER, EAST, user_id=1510, name="王芳")
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1511, name="督导")
    await pair_directly(box, await child_id(box, "熊子"), 1510)
    await supervisor.send("/overdue")
    assert "🟡 熊子 · 逾期 1 天 · 志愿者：王芳" in supervisor.last.text
    await supervisor.press("📣 提醒：熊子")
    assert answers(box)[-1] == "已提醒 1 名志愿者（同一儿童每天最多提醒一次）。"
