"""In chat: /invite down the area tree, /people with deactivation, /language."""

from __future__ import annotations

from sqlmodel import select

from care.roles import Role
from sandbox.harness import Sandbox
from storage.models import AuditLog, Person
from tests.conftest import make_invite, register


async def test_supervisor_invites_a_director_who_then_registers(box: Sandbox) -> None:
    for path in ("示范县/城关镇/东村", "示范县/城关镇/西村", "示范县/河口镇/柳树村"):
        await make_invite(box, Role.VOLUNTEER, path)  # creates the areas
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=800, name="张督导")
    await supervisor.send("/invite")
    assert [label for label, _ in supervisor.last.buttons] == [
        "结对志愿者",
        "儿童主任",
        "儿童督导员",
    ]
    await supervisor.press("儿童主任")
    labels = [label for label, _ in supervisor.last.buttons]
    assert labels == ["📂 东村", "📂 西村"]  # a town cannot take a director; no way up or out
    assert "这一级不能选择" in supervisor.last.text
    await supervisor.send_sticker()  # bad input mid-flow: the question again
    assert "请点击下方按钮" in supervisor.last.text and supervisor.last.buttons
    await supervisor.press("📂 西村")
    assert [label for label, _ in supervisor.last.buttons] == ["✅ 选择：西村", "⬆ 上一级"]
    await supervisor.press("✅ 选择：西村")
    text = supervisor.last.text
    assert "儿童主任，示范县/城关镇/西村" in text and "仅限一次使用" in text
    link = next(word for word in text.split() if word.startswith("https://t.me/"))
    assert link.startswith("https://t.me/CarePairingBot?start=")

    director = box.person(801, "Li")
    await director.send("/start " + link.rsplit("=", 1)[1])
    await director.press("中文")
    await director.send("李主任")
    await director.press("男")
    await director.send("/help")
    assert director.last.text.startswith("您的角色：儿童主任")
    async with box.services.sessions() as session:
        audit = [(a.action, a.actor_id) for a in await session.exec(select(AuditLog))]
        supervisor_id = (
            await session.exec(select(Person.id).where(Person.tg_user_id == 800))
        ).one()
    assert ("invite", supervisor_id) in audit


async def test_invite_pages_through_many_villages(box: Sandbox) -> None:
    for n in range(30):
        await make_invite(box, Role.VOLUNTEER, f"示范县/大镇/村{n:02d}")
    admin = await register(box, Role.ADMIN, "示范县", user_id=810, name="管理员")
    await admin.send("/invite")
    await admin.press("结对志愿者")
    await admin.press("📂 大镇")
    first = [label for label, _ in admin.last.buttons]
    assert "📂 村00" in first and "📂 村12" not in first and "下一页 ▶" in first
    await admin.press("下一页 ▶")
    second = [label for label, _ in admin.last.buttons]
    assert "📂 村12" in second and "◀ 上一页" in second
    await admin.send("/cancel")
    assert "已取消" in admin.last.text


async def test_people_lists_the_area_and_only_below_it(box: Sandbox) -> None:
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=820, name="张督导")
    await register(box, Role.VOLUNTEER, "示范县/城关镇/东村", user_id=821, name="东村志愿者")
    await register(box, Role.VOLUNTEER, "示范县/河口镇/柳树村", user_id=822, name="河口志愿者")
    await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=823, name="同级督导")
    await supervisor.send("/people")
    text = supervisor.last.text
    assert "共 3 人" in text
    assert "东村志愿者" in text and "同级督导" in text and "河口志愿者" not in text
    # only people below one's own role get a deactivate button
    assert [label for label, _ in supervisor.last.buttons] == ["停用 东村志愿者"]
    await supervisor.press("停用 东村志愿者")
    await supervisor.press("返回")
    assert "共 3 人" in supervisor.last.text
    async with box.services.sessions() as session:
        assert all(p.active for p in await session.exec(select(Person)))


async def test_language_switch_changes_replies_and_menu(box: Sandbox) -> None:
    person = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=830, name="双语")
    await person.send("/language")
    await person.press("English")
    assert person.last.text == "Language set to English."
    await person.send("/help")
    assert person.last.text.startswith("Your role: children's supervisor")
    menu = box.telegram.commands[("chat:830", "")]
    assert {"command": "invite", "description": "Invite someone"} in menu
    await person.send("/language")
    await person.press("中文")
    await person.send("/help")
    assert person.last.text.startswith("您的角色：儿童督导员")
    await person.press_data("lang:fr", person.last)  # a forged choice changes nothing
    async with box.services.sessions() as session:
        stored = (await session.exec(select(Person.locale).where(Person.tg_user_id == 830))).one()
    assert stored == "zh_CN"
