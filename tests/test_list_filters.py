"""Lists that say what they show (issue 13): `/children` and `/overdue` name the area and every
active filter in their header, in both languages, and "Clear filters" resets them; a village
chosen before a colour is still named after "All colours" (it used to stay hidden); `/cases`
says when it shows only the first reports."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from care.cases import Situation
from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from service.reports import Report, file_report
from tests.conftest import child_id, pair_directly, register, seed_ledger

TOWN, EAST = "示范县/城关镇", "示范县/城关镇/东村"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def labels(person: SimPerson) -> list[str]:
    return [label for label, _ in person.last.buttons]


async def test_children_header_names_the_filters_and_clear_resets_them(box: Sandbox) -> None:
    await seed_ledger(box)
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1600, name="督导")
    await supervisor.send("/children")
    assert supervisor.last.text.startswith("示范县/城关镇 的儿童（共 21 名，第 1/3 页）")
    assert "🔎" not in supervisor.last.text and "✖ 清除筛选" not in labels(supervisor)

    await supervisor.press("🏘 按村")
    await supervisor.press("城关镇/东村")
    text = supervisor.last.text
    assert text.startswith("示范县/城关镇/东村 的儿童（共 10 名，第 1/1 页）")
    assert "🔎 筛选：🏘 东村" in text and "✖ 清除筛选" in labels(supervisor)

    await supervisor.press("🎨 按等级")
    assert labels(supervisor)[0] == "全部等级"
    await supervisor.press("🟡 黄（中风险）")
    assert "共 2 名" in supervisor.last.text
    assert "🔎 筛选：🏘 东村 · 🟡 黄（中风险）" in supervisor.last.text

    # "all colours" keeps the village, and the header says so (it used to name the town)
    await supervisor.press("🎨 按等级")
    await supervisor.press("全部等级")
    text = supervisor.last.text
    assert text.startswith("示范县/城关镇/东村 的儿童（共 10 名")
    assert text.splitlines()[1] == "🔎 筛选：🏘 东村"

    await supervisor.press("✖ 清除筛选")
    text = supervisor.last.text
    assert text.startswith("示范县/城关镇 的儿童（共 21 名，第 1/3 页）")
    assert "🔎" not in text and "✖ 清除筛选" not in labels(supervisor)


async def test_children_header_in_english(box: Sandbox) -> None:
    await seed_ledger(box)
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1601, name="Zhou",
                                language="English", language_code="en")  # fmt: skip
    await supervisor.send("/children")
    assert supervisor.last.text.startswith("Children of 示范县/城关镇 (21, page 1 of 3):")
    await supervisor.press("📋 Category")
    assert labels(supervisor)[0] == "All categories"
    await supervisor.press("rural left-behind child")
    await supervisor.press("🏘 Village")
    assert labels(supervisor)[0] == "All villages"
    await supervisor.press("城关镇/东村")
    text = supervisor.last.text
    assert text.startswith("Children of 示范县/城关镇/东村 (")
    assert "🔎 Filtered: 🏘 东村 · 📋 rural left-behind child" in text
    await supervisor.press("🏘 Village")
    await supervisor.press("All villages")
    text = supervisor.last.text
    assert text.startswith("Children of 示范县/城关镇 (")
    assert text.splitlines()[1] == "🔎 Filtered: 📋 rural left-behind child"
    await supervisor.press("✖ Clear filters")
    assert supervisor.last.text.startswith("Children of 示范县/城关镇 (21, page 1 of 3):")
    assert "🔎" not in supervisor.last.text


async def test_overdue_header_names_the_village_and_colour(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    await register(box, Role.VOLUNTEER, EAST, user_id=1610, name="王芳")
    await register(box, Role.VOLUNTEER, "示范县/城关镇/西村", user_id=1611, name="李军",
                   gender="ob:gender:male")  # fmt: skip
    for name in ("熊子", "薛子"):  # 东村: yellow, blue
        await pair_directly(box, await child_id(box, name), 1610)
    await pair_directly(box, await child_id(box, "刘轩宇"), 1611)  # 西村: green
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1612, name="督导")
    await supervisor.send("/overdue")
    assert supervisor.last.text.startswith("示范县/城关镇：逾期未走访 3 名")
    assert "🔎" not in supervisor.last.text and "✖ 清除筛选" not in labels(supervisor)

    await supervisor.press("🏘 按村")
    assert labels(supervisor)[0] == "全部村（社区）"
    await supervisor.press("城关镇/东村")
    text = supervisor.last.text
    assert text.startswith("示范县/城关镇/东村：逾期未走访 2 名")
    assert "🔎 筛选：🏘 东村" in text and "刘轩宇" not in text
    await supervisor.press("🟡")
    text = supervisor.last.text
    assert text.startswith("示范县/城关镇/东村：逾期未走访 1 名")
    assert "🔎 筛选：🏘 东村 · 🟡 黄（中风险）" in text

    await supervisor.press("✖ 清除筛选")
    text = supervisor.last.text
    assert text.startswith("示范县/城关镇：逾期未走访 3 名") and "🔎" not in text
    assert "刘轩宇" in text and "✖ 清除筛选" not in labels(supervisor)


async def test_cases_says_when_it_shows_only_the_first(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1620, name="东村主任")
    reporter = await box.services.load_viewer(1620)
    assert reporter is not None
    xiong = await child_id(box, "熊子")
    for n in range(20):
        report = Report(Situation.OTHER, f"filters-{n}", child_id=xiong, description="情况")
        assert await file_report(box.services, reporter, report) is not None
    await director.send("/cases")
    assert "仅显示前" not in director.last.text and len(director.last.buttons) == 20
    await file_report(box.services, reporter, Report(Situation.OTHER, "one-more", child_id=xiong))
    await director.send("/cases")
    assert director.last.text.splitlines()[1] == "仅显示前 20 份，办结一些后可看到其余的。"
    assert len(director.last.buttons) == 20
