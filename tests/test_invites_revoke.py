"""Invites die with their issuer. Through the real Application and database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from storage.models import AuditLog, Invite, Person
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
