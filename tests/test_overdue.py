"""/overdue: overdue children by village, most overdue first; figures; filters; nudges."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
from sqlmodel import col, select

from care.roles import Role
from sandbox.harness import Sandbox
from storage.models import Area, Outbox
from tests.conftest import child_id, exported_ledger, pair_directly, register, seed_ledger

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
EAST, WEST = "示范县/城关镇/东村", "示范县/城关镇/西村"


async def setup(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    await register(box, Role.VOLUNTEER, EAST, user_id=1400, name="王芳")
    await register(box, Role.VOLUNTEER, WEST, user_id=1401, name="李军", gender="ob:gender:male")
    for name in ("熊子", "薛子", "邹泽思"):  # 东村: yellow, blue, blue
        await pair_directly(box, await child_id(box, name), 1400)
    for name in ("刘轩宇", "刘曦"):  # 西村: green, green
        await pair_directly(box, await child_id(box, name), 1401)


async def test_overdue_by_village_most_overdue_first_with_figures(box: Sandbox) -> None:
    await setup(box)
    volunteer = box.person(1400, "王芳")
    await volunteer.send("/checkin")
    await volunteer.press("⏰ 邹泽思（逾期237天）")
    for label in ["今天", "入户走访", "身体健康", "情绪良好", "正常上学", "照料良好",
                  "本月与父母有联系", "✅ 选好了", "跳过", "跳过", "✅ 确认保存"]:  # fmt: skip
        await volunteer.press(label)
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1402, name="督导")
    await supervisor.send("/overdue")
    text = supervisor.last.text
    assert "逾期未走访 4 名" in text
    assert "已结对 5 名：按期走访 20%，本年有望走访满6次 0%" in text
    east = text.index("🏘 东村")
    west = text.index("🏘 西村")
    assert (
        east
        < text.index("🟡 熊子 · 逾期 252 天 · 志愿者：王芳")
        < text.index("🔵 薛子 · 逾期 237 天")
    )
    assert west < text.index("🟢 刘轩宇 · 逾期 207 天 · 志愿者：李军")
    assert "邹泽思" not in text  # visited today
    await supervisor.press("🟢")
    assert "逾期未走访 2 名" in supervisor.last.text and "熊子" not in supervisor.last.text
    await supervisor.press("✖ 清除筛选")
    await supervisor.press("🏘 按村")
    await supervisor.press("城关镇/东村")
    text = supervisor.last.text
    assert "逾期未走访 2 名" in text and "熊子" in text and "刘轩宇" not in text
    # the export's last-visit sheet has the visit of today
    await supervisor.send("/export")
    book = openpyxl.load_workbook(io.BytesIO(exported_ledger(supervisor)))
    visited = {row[0]: row[3] for row in book["最近走访"].iter_rows(min_row=2, values_only=True)}
    assert visited["邹泽思"] == "2026-11-23" and visited["熊子"] in (None, "")


async def test_nudges_reach_the_volunteer_once_a_day(box: Sandbox) -> None:
    await setup(box)
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1402, name="督导")
    await supervisor.send("/overdue")
    await supervisor.press("📣 提醒：熊子")
    await supervisor.press("📣 提醒：熊子")
    await supervisor.press("📣 本页全部提醒")
    answers = [
        c.params.get("text") for c in box.telegram.calls if c.method == "answerCallbackQuery"
    ]
    assert answers[-3:] == [
        "已提醒 1 名志愿者（同一儿童每天最多提醒一次）。",
        "已提醒 0 名志愿者（同一儿童每天最多提醒一次）。",
        "已提醒 4 名志愿者（同一儿童每天最多提醒一次）。",
    ]
    await box.drain()
    wang = box.person(1400, "王芳")
    nudges = [m for m in wang.inbox if m.text.startswith("📣 督导员提醒")]
    assert next(m.text for m in nudges) == "📣 督导员提醒：请尽快走访 熊子（已逾期 252 天）。"
    assert len(nudges) == 3 and nudges[0].buttons[0][0] == "记录走访：熊子"
    await supervisor.press("🔁 改派", supervisor.inbox[-1])
    assert "请选择结对志愿者" in supervisor.last.text


async def test_a_director_sees_only_their_village(box: Sandbox) -> None:
    await setup(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1403, name="主任")
    await director.send("/overdue")
    assert "逾期未走访 3 名" in director.last.text and "西村" not in director.last.text
    async with box.services.sessions() as session:
        west = (await session.exec(select(Area.id).where(Area.path == WEST))).one()
    await director.press_data(f"ov:0:{west}:-", director.last)  # a forged filter
    assert "逾期未走访 0 名" in director.last.text and "刘轩宇" not in director.last.text
    await director.press_data(f"ovn:{await child_id(box, '刘轩宇')}", director.last)
    async with box.services.sessions() as session:
        nudges = select(Outbox).where(~col(Outbox.key).startswith("reply:onboarding:"))
        assert (await session.exec(nudges)).all() == []  # nothing but the welcomes
    volunteer = box.person(1400, "王芳")
    await volunteer.send("/overdue")
    assert "无权" in volunteer.last.text
