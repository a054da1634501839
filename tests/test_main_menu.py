"""The main menu under the message field: sent on registration, in the person's language and
for their role; each button works like the command it stands for, inside a flow too."""

from __future__ import annotations

from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.telegram import Sent
from tests.conftest import register
from tests.test_checkin import HAPPY, volunteer_with


def menu_of(message: Sent) -> list[str]:
    rows = (message.reply_markup or {}).get("keyboard", [])
    return [button["text"] for row in rows for button in row]


async def test_registration_brings_the_menu_and_its_buttons_work(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    welcome = next(m for m in volunteer.inbox if "注册完成" in m.text)
    assert menu_of(welcome) == ["📝 记录走访", "🚨 紧急报告", "👧 我的儿童", "❓ 帮助"]
    await volunteer.send("📝 记录走访")
    assert volunteer.last.text == "走访日期："
    await volunteer.press(HAPPY[0])
    await volunteer.send("🚨 紧急报告")  # always open, from inside the check-in
    assert any("您刚才正在填写的内容已保留" in m.text for m in volunteer.inbox[-3:])
    await volunteer.send("/cancel")
    await volunteer.press("↩ 继续刚才的填写")
    await volunteer.send("❓ 帮助")  # help, then the check-in goes on
    assert "/urgent" in volunteer.last.text


async def test_the_menu_is_in_english_for_an_english_speaker(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子", language="English")
    welcome = next(m for m in volunteer.inbox if "You are registered" in m.text)
    assert menu_of(welcome)[:2] == ["📝 Record a visit", "🚨 Urgent report"]
    await volunteer.send("👧 My children")
    assert "熊子" in volunteer.last.text


async def test_childrens_data_is_protected_and_the_invite_link_is_not(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/child")
    assert volunteer.last.text.startswith("👤 熊子") and volunteer.last.protected
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1210, name="督导")
    await supervisor.send("/invite")
    await supervisor.press("结对志愿者")
    await supervisor.press("📂 东村")
    await supervisor.press("✅ 选择：东村")
    assert "https://t.me/" in supervisor.last.text and not supervisor.last.protected
