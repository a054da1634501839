"""Commands that need an argument ask for it: `/child` tapped in the menu shows a volunteer's
only child at once, lets one with several choose, and asks anyone else for the name (answered
by replying); an invite code sent on its own registers like `/start CODE`."""

from __future__ import annotations

from care.roles import Role
from sandbox.harness import Sandbox
from tests.conftest import make_invite, register, seed_ledger
from tests.test_checkin import volunteer_with
from tests.test_pairing_flow import cast as pairing_cast

EAST = "示范县/城关镇/东村"


async def test_a_volunteer_with_one_child_taps_child_and_sees_the_card(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/child")
    assert volunteer.last.text.startswith("👤 熊子")


async def test_a_volunteer_with_several_children_chooses(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子", "薛子")
    await volunteer.send("/child")
    assert volunteer.last.text == "查看哪名儿童？"
    assert sorted(label for label, _ in volunteer.last.buttons) == ["熊子", "薛子"]
    await volunteer.press("薛子")
    assert volunteer.last.text.startswith("👤 薛子")


async def test_a_director_is_asked_for_the_name_and_replies(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1003, name="主任")
    await director.send("/child")
    question = director.last
    assert question.text == "查哪名儿童？请回复姓名（或其中几个字）。"
    await director.reply("于曦皓", question)
    assert director.last.text.startswith("👤 于曦皓") and "身份证号" in director.last.text
    await director.send("于曦皓")  # the same words, not as a reply: not taken as a name
    assert director.last.text.startswith("抱歉，我没有理解")


async def test_a_bare_invite_code_registers(box: Sandbox) -> None:
    person = box.person(1600, "Lily", "en")
    await person.send(await make_invite(box, Role.VOLUNTEER, EAST))
    assert "care-pairing volunteer" in person.inbox[0].text or person.last.buttons
    await person.press("English")
    await person.send("Lily Wang")
    await person.press("female")
    assert "You are registered, Lily Wang" in person.last.text


async def test_someone_uninvited_is_told_a_code_alone_will_do(box: Sandbox) -> None:
    person = box.person(1601, "Guest", "en")
    await person.send("hello")
    assert "just send me the code" in person.last.text


async def test_pair_without_a_name_asks_and_a_reply_starts_it(box: Sandbox) -> None:
    supervisor, _ = await pairing_cast(box)
    await supervisor.send("/pair")
    question = supervisor.last
    assert question.text.startswith("哪名儿童（/pair）？请回复姓名")
    await supervisor.reply("刘轩宇", question)
    assert "王芳 · 女 · 已结对0名" in [label for label, _ in supervisor.last.buttons]
