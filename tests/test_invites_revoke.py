"""Invites die with their issuer, can be revoked from `/invites`, and wrong codes slow an
account down (logged without the code). Through the real Application and database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from care.invites import InviteState
from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from service import invites
from storage.models import AuditLog, Invite, InviteFailure, Person
from tests.conftest import make_invite, register, sql

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TOWN, EAST = "示范县/城关镇", "示范县/城关镇/东村"


async def issue_in_chat(person: SimPerson, role_label: str, *down: str) -> str:
    """/invite as a supervisor does it: role, down the tree, pick; returns the bare code."""
    await person.send("/invite")
    await person.press(role_label)
    for area in down:
        await person.press(f"📂 {area}")
    pick = next(label for label, _ in person.last.buttons if label.startswith("✅"))
    await person.press(pick)
    link = next(word for word in person.last.text.split() if word.startswith("https://t.me/"))
    return link.rsplit("=", 1)[1]


async def people_named(box: Sandbox, *names: str) -> list[Person]:
    async with box.services.sessions() as session:
        return list(await session.exec(select(Person).where(col(Person.name).in_(names))))


async def person_id(box: Sandbox, tg_user_id: int) -> int:
    async with box.services.sessions() as session:
        found = (await session.exec(select(Person.id).where(Person.tg_user_id == tg_user_id))).one()
    assert found is not None
    return found


async def all_invites(box: Sandbox) -> list[Invite]:
    async with box.services.sessions() as session:
        return list(await session.exec(select(Invite).order_by(col(Invite.id))))


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def alerts(box: Sandbox) -> list[str]:
    return [
        c.params.get("text", "") for c in box.telegram.calls if c.method == "answerCallbackQuery"
    ]


# -- invites die with their issuer -------------------------------------------------------------


async def test_a_deactivated_issuers_invites_are_refused_in_the_persons_language(
    box: Sandbox,
) -> None:
    await make_invite(box, Role.VOLUNTEER, EAST)  # the area tree
    admin = await register(box, Role.ADMIN, "示范县", user_id=1500, name="县管理员")
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1501, name="张督导")
    first = await issue_in_chat(supervisor, "结对志愿者", "东村")
    second = await issue_in_chat(supervisor, "儿童主任", "东村")

    await admin.send("/people")
    await admin.press("停用 张督导")
    await admin.press("确定停用")
    assert "已停用 张督导" in admin.last.text
    assert "其发出的 2 份未使用的邀请已一并撤回" in admin.last.text

    english = box.person(1502, "Tom", "en-GB")
    replies = await english.send(f"/start {first}")
    assert len(replies) == 1 and replies[0].text.startswith("This invite has been withdrawn")
    chinese = box.person(1503, "Mei")
    replies = await chinese.send(f"/start {second}")
    assert len(replies) == 1 and "该邀请已被撤回或已失效" in replies[0].text
    assert await people_named(box, "Tom", "Mei") == []

    admin_id = await person_id(box, 1500)
    issued = [i for i in await all_invites(box) if i.created_by == await person_id(box, 1501)]
    assert len(issued) == 2
    assert all(i.revoked_at is not None and i.revoked_by == admin_id for i in issued)
    async with box.services.sessions() as session:
        revocations = list(
            await session.exec(select(AuditLog).where(AuditLog.action == "revoke_invite"))
        )
    assert sorted(a.subject for a in revocations) == sorted(f"invite:{i.id}" for i in issued)
    assert {(a.actor_id, a.detail) for a in revocations} == {(admin_id, "issuer left")}


async def test_an_issuer_deactivated_mid_registration_registers_nobody(box: Sandbox) -> None:
    await make_invite(box, Role.VOLUNTEER, EAST)
    admin = await register(box, Role.ADMIN, "示范县", user_id=1510, name="县管理员")
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1511, name="李督导")
    code = await issue_in_chat(supervisor, "结对志愿者", "东村")
    newcomer = box.person(1512, "Slow")
    await newcomer.send(f"/start {code}")
    await newcomer.press("中文")
    await newcomer.send("慢慢")
    await admin.send("/people")
    await admin.press("停用 李督导")
    await admin.press("确定停用")
    await newcomer.press("女")
    assert "该邀请已被撤回或已失效" in newcomer.last.text
    assert await people_named(box, "慢慢") == []


async def test_an_invite_is_checked_against_its_issuers_rights_today(box: Sandbox) -> None:
    """However the issuer lost the right (a role changed by hand in the database, say), the
    check inside the use case refuses the invite; one of the command line stays good."""
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1520, name="王督导")
    await make_invite(box, Role.VOLUNTEER, EAST)
    code = await issue_in_chat(supervisor, "儿童督导员")
    async with box.services.sessions.begin() as session:
        await sql(session, "UPDATE person SET role = 'volunteer' WHERE tg_user_id = 1520")
    newcomer = box.person(1521, "Late")
    replies = await newcomer.send(f"/start {code}")
    assert len(replies) == 1 and "该邀请已被撤回或已失效" in replies[0].text
    from_server = await make_invite(box, Role.VOLUNTEER, EAST)
    await newcomer.send(f"/start {from_server}")
    assert "欢迎！" in newcomer.inbox[-2].text


# -- /invites -----------------------------------------------------------------------------------


async def test_invites_shows_masked_codes_and_revokes_through_the_button(box: Sandbox) -> None:
    await make_invite(box, Role.VOLUNTEER, EAST)
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1530, name="赵督导")
    volunteer_code = await issue_in_chat(supervisor, "结对志愿者", "东村")
    director_code = await issue_in_chat(supervisor, "儿童主任", "东村")

    await supervisor.send("/invites")
    text, buttons = supervisor.last.text, supervisor.last.buttons
    assert "您发出的、尚未使用的邀请：共 2 份" in text
    shown = [line for line in text.splitlines() if line.startswith("• ")]
    assert shown[0].startswith(f"• {director_code[:4]}•••• · 儿童主任 · {EAST} · 有效期至 ")
    assert shown[1].startswith(f"• {volunteer_code[:4]}•••• · 结对志愿者 · {EAST} · 有效期至 ")
    for code in (volunteer_code, director_code):  # never the whole code again
        assert code not in text and all(code not in f"{lb} {data}" for lb, data in buttons)
    assert [label for label, _ in buttons] == [
        f"撤回 {director_code[:4]}••••",
        f"撤回 {volunteer_code[:4]}••••",
    ]

    await supervisor.press(f"撤回 {director_code[:4]}••••")
    assert supervisor.last.text.startswith("确定撤回这份邀请吗？")
    assert "儿童主任" in supervisor.last.text
    await supervisor.press("返回")  # changed their mind: nothing revoked
    assert "共 2 份" in supervisor.last.text
    await supervisor.press(f"撤回 {director_code[:4]}••••")
    again = next(data for label, data in supervisor.last.buttons if label == "确定撤回")
    await supervisor.press("确定撤回")
    assert supervisor.last.text.startswith(f"已撤回邀请 {director_code[:4]}••••。")
    assert "共 1 份" in supervisor.last.text
    assert [label for label, _ in supervisor.last.buttons] == [f"撤回 {volunteer_code[:4]}••••"]

    newcomer = box.person(1531, "Li")
    replies = await newcomer.send(f"/start {director_code}")
    assert len(replies) == 1 and "该邀请已被撤回或已失效" in replies[0].text
    await newcomer.send(f"/start {volunteer_code}")  # the other still works
    await newcomer.press("中文")
    await newcomer.send("李明")
    await newcomer.press("男")
    assert "注册完成，李明" in newcomer.last.text

    # the same confirm pressed again: nothing to do, said so
    await supervisor.press_data(again, supervisor.last)
    assert supervisor.last.text.startswith(f"邀请 {director_code[:4]}•••• 已失效")
    assert "目前没有尚未使用的邀请" in supervisor.last.text
    # revoking the used one (a button from before it was used) is refused, politely
    volunteer_invite = (await all_invites(box))[-2]
    await supervisor.press_data(f"ivs:off:{volunteer_invite.id}", supervisor.last)
    assert alerts(box)[-1].startswith("该邀请已被使用，无法撤回")
    async with box.services.sessions() as session:
        revocations = list(
            await session.exec(select(AuditLog).where(AuditLog.action == "revoke_invite"))
        )
    assert [(a.actor_id, a.detail) for a in revocations] == [(await person_id(box, 1530), "")]


async def test_invites_pages_through_many(box: Sandbox) -> None:
    await make_invite(box, Role.VOLUNTEER, EAST)
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1540, name="钱督导")
    viewer = await box.services.load_viewer(1540)
    assert viewer is not None
    async with box.services.sessions() as session:
        area_id = (await sql(session, "SELECT id FROM area WHERE path = :p", p=EAST)).scalar_one()
    for _ in range(10):
        await invites.issue(box.services, role=Role.VOLUNTEER, issuer=viewer, area_id=area_id)
    await supervisor.send("/invites")
    labels = [label for label, _ in supervisor.last.buttons]
    assert "共 10 份" in supervisor.last.text
    assert sum(label.startswith("撤回 ") for label in labels) == invites.PAGE_SIZE
    assert labels[-1] == "下一页 ▶"
    await supervisor.press("下一页 ▶")
    labels = [label for label, _ in supervisor.last.buttons]
    assert sum(label.startswith("撤回 ") for label in labels) == 2 and labels[-1] == "◀ 上一页"
    await supervisor.press(labels[0])
    await supervisor.press("确定撤回")
    assert "已撤回邀请" in supervisor.last.text and "共 9 份" in supervisor.last.text


async def test_who_sees_and_revokes_which_invites(box: Sandbox) -> None:
    """A supervisor: only their own. An admin: their own and anyone's for their area (the
    command line's too), as they may deactivate anyone there once registered."""
    await make_invite(box, Role.VOLUNTEER, "示范县/河口镇/柳树村")
    admin = await register(box, Role.ADMIN, "示范县", user_id=1550, name="县管理员")
    first = await register(box, Role.SUPERVISOR, TOWN, user_id=1551, name="甲督导")
    second = await register(box, Role.SUPERVISOR, TOWN, user_id=1552, name="乙督导")
    town_admin = await register(box, Role.ADMIN, "示范县/河口镇", user_id=1553, name="河口管理员")
    volunteer = await register(box, Role.VOLUNTEER, EAST, user_id=1554, name="志愿者")
    await issue_in_chat(first, "结对志愿者")
    await issue_in_chat(second, "结对志愿者")
    firsts = (await all_invites(box))[-2]
    assert firsts.created_by == await person_id(box, 1551)

    await first.send("/invites")
    assert "共 1 份" in first.last.text and "由" not in first.last.text
    for forged in (f"ivs:ask:{firsts.id}", f"ivs:off:{firsts.id}"):
        await second.press_data(forged, first.last)
        assert alerts(box)[-1] == "抱歉，您的角色无权进行此操作。"
        await volunteer.press_data(forged, first.last)
        assert alerts(box)[-1] == "抱歉，您的角色无权进行此操作。"
    assert (await all_invites(box))[-2].revoked_at is None

    await town_admin.send("/invites")  # only the command line's invite for their own town
    assert "示范县/河口镇 尚未使用的邀请：共 1 份" in town_admin.last.text
    assert "柳树村" in town_admin.last.text and "由服务器命令行发出" in town_admin.last.text

    await admin.send("/invites")
    text = admin.last.text
    assert "示范县 尚未使用的邀请：共 3 份" in text
    assert "由 甲督导 发出" in text and "由 乙督导 发出" in text and "由服务器命令行发出" in text
    await admin.press(f"ivs:ask:{firsts.id}")
    await admin.press("确定撤回")
    assert "已撤回邀请" in admin.last.text and "共 2 份" in admin.last.text
    await first.send("/invites")
    assert "目前没有尚未使用的邀请" in first.last.text
    assert (await all_invites(box))[-2].revoked_by == await person_id(box, 1550)


# -- wrong codes ------------------------------------------------------------------------------


async def test_wrong_codes_are_slowed_down_and_logged_without_the_code(
    box: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="carebot.invites")
    box.services.now = lambda: NOW
    good = await make_invite(box, Role.VOLUNTEER, EAST)
    guesser = box.person(1560, "Guess")
    wrong = ["abc", "x" * 200, "<script>", "a" * 24, good[:-1] + ("A" if good[-1] != "A" else "B")]
    for n, code in enumerate(wrong):
        box.services.now = at(NOW + timedelta(seconds=n))
        replies = await guesser.send(f"/start {code}")
        assert len(replies) == 1 and "邀请码无效" in replies[0].text
    box.services.now = at(NOW + timedelta(seconds=10))
    replies = await guesser.send(f"/start {good}")  # the right code, not even looked at
    assert replies[0].text.startswith("尝试次数过多。请 50 秒后再试")
    assert len(replies) == 1

    english = box.person(1561, "Other", "en")  # another account is not slowed
    replies = await english.send("/start nope")
    assert replies[0].text.startswith("This invite code is not valid")
    # the use case itself counts, whoever calls it
    for _ in range(4):
        assert await invites.check(box.services, "nope", tg_user_id=1561) == InviteState.UNKNOWN
    assert await invites.check(box.services, good, tg_user_id=1561) == invites.Slowed(60)
    replies = await english.send(f"/start {good}")
    assert replies[0].text == (
        "Too many attempts. Please try again in 60 s, and check that the invite link is complete."
    )

    box.services.now = at(NOW + timedelta(seconds=60))  # the first failure left the window
    replies = await guesser.send(f"/start {good}")
    assert "欢迎！" in replies[0].text

    lines = [r.getMessage() for r in caplog.records if r.name == "carebot.invites"]
    assert sum("for account 1560" in line for line in lines) == 5
    assert "invite code refused (unknown) for account 1560: 5 in the last minute" in lines
    assert "account 1560 slowed down: 5 refused invite codes within a minute" in lines
    assert sum("for account 1561" in line for line in lines) == 5
    assert not [line for line in lines for code in [*wrong, good] if code in line]
    async with box.services.sessions() as session:
        kept = list(await session.exec(select(InviteFailure)))
    assert {row.tg_user_id for row in kept} == {1560, 1561}
    assert all(row.at > NOW - timedelta(minutes=1) for row in kept)
