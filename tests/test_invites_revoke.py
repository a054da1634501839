"""Invites die with their issuer, and wrong codes slow an account down (logged without the
code). Through the real Application and database."""

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
