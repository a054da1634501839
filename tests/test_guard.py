"""The guard: every command and button checks role, area and chat on the server."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select
from telegram.ext import CommandHandler, ConversationHandler

from care.roles import Role
from sandbox.harness import Sandbox
from settings import Settings
from storage.models import Person
from tests.conftest import register, sql

# The least role each command needs (None: anyone, even unknown). A new command must be added
# here, or test_every_command_is_in_the_table fails.
COMMANDS: dict[str, Role | None] = {
    "start": None,
    "help": None,
    "cancel": None,
    "language": Role.VOLUNTEER,
    "invite": Role.SUPERVISOR,
    "people": Role.SUPERVISOR,
    "invites": Role.SUPERVISOR,
    "child": Role.VOLUNTEER,
    "checkin": Role.VOLUNTEER,
    "report": Role.VOLUNTEER,
    "urgent": Role.VOLUNTEER,
    "cases": Role.DIRECTOR,
    "overdue": Role.DIRECTOR,
    "mychildren": Role.VOLUNTEER,
    "children": Role.DIRECTOR,
    "addchild": Role.DIRECTOR,
    "export": Role.SUPERVISOR,
    "pair": Role.SUPERVISOR,
    "unpair": Role.SUPERVISOR,
    "unpaired": Role.SUPERVISOR,
    "ageing": Role.DIRECTOR,
}
UNKNOWN, FORBIDDEN = "仅限受邀人员", "无权"


def registered_commands(box: Sandbox) -> set[str]:
    names: set[str] = set()
    for handler in box.application.handlers[0]:
        inner = handler.entry_points if isinstance(handler, ConversationHandler) else [handler]
        for h in inner:
            if isinstance(h, CommandHandler):
                names |= set(h.commands)
    return names


async def test_every_command_is_in_the_table(box: Sandbox) -> None:
    assert registered_commands(box) == set(COMMANDS)


@pytest.mark.parametrize("role", [None, *Role])
async def test_guard_on_every_command(box: Sandbox, role: Role | None) -> None:
    if role is None:
        person = box.person(700, "Nobody")
    else:
        path = "示范县/城关镇/东村" if role == Role.DIRECTOR else "示范县/城关镇"
        person = await register(box, role, path, user_id=700, name="某人")
    for command, needed in COMMANDS.items():
        await person.send("/cancel")  # leave whatever the previous command opened
        replies = await person.send(f"/{command}")
        assert replies, command
        answer = replies[0].text
        if needed is not None and role is None:
            assert UNKNOWN in answer, command
        elif needed is not None and role is not None and role.rank < needed.rank:
            assert FORBIDDEN in answer, command
        else:
            assert UNKNOWN not in answer or command in ("start", "help"), command
            assert FORBIDDEN not in answer, command


async def test_commands_in_a_group_are_refused(box: Sandbox) -> None:
    admin = await register(box, Role.ADMIN, "示范县", user_id=710, name="管理员")
    group = admin.in_group(-100500)
    for command in COMMANDS:
        replies = await group.send(f"/{command}")
        assert len(replies) == 1 and "私聊" in replies[0].text
    await group.send("普通的群消息")  # plain chatter in a group gets no answer
    assert len(group.inbox) == len(COMMANDS)


async def test_forged_buttons_are_refused(box: Sandbox) -> None:
    admin = await register(box, Role.ADMIN, "示范县", user_id=720, name="县管理员")
    town_a = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=721, name="甲督导")
    await register(box, Role.SUPERVISOR, "示范县/河口镇", user_id=722, name="乙督导")
    volunteer = await register(
        box, Role.VOLUNTEER, "示范县/河口镇/柳树村", user_id=723, name="志愿者"
    )
    async with box.services.sessions() as session:
        ids = {p.name: p.id for p in await session.exec(select(Person))}

    # a volunteer presses a deactivate button they were never shown
    await volunteer.press_data(f"ppl:off:{ids['乙督导']}", volunteer.last)
    # a supervisor reaches into another town, and up to an admin
    await town_a.send("/people")
    shown = town_a.last
    for target in ("乙督导", "志愿者", "县管理员"):
        await town_a.press_data(f"ppl:off:{ids[target]}", shown)
        await town_a.press_data(f"ppl:ask:{ids[target]}", shown)
    await town_a.press_data("ppl:off:not-a-number", shown)
    async with box.services.sessions() as session:
        assert all(p.active for p in await session.exec(select(Person)))
    answers = [c.params for c in box.telegram.calls if c.method == "answerCallbackQuery"]
    assert sum("无权" in str(a.get("text", "")) for a in answers) >= 8

    # invite flow: a supervisor cannot forge an admin role or an area outside their town
    await town_a.send("/invite")
    labels = [label for label, _ in town_a.last.buttons]
    assert "管理员" not in labels and "儿童督导员" in labels
    await town_a.press_data("inv:role:admin", town_a.last)
    await town_a.press("结对志愿者")
    async with box.services.sessions() as session:
        area_id = "SELECT id FROM area WHERE path = :path"
        other_town = (await sql(session, area_id, path="示范县/河口镇")).one()[0]
        county = (await sql(session, area_id, path="示范县")).one()[0]
    for data in (f"inv:nav:{other_town}:0", f"inv:pick:{other_town}", f"inv:pick:{county}"):
        await town_a.press_data(data, town_a.last)
    assert "示范县/城关镇" in town_a.last.text  # still inside their own town
    async with box.services.sessions() as session:
        invites = (
            await sql(
                session, "SELECT role, area_id FROM invite WHERE created_by = :by", by=ids["甲督导"]
            )
        ).all()
    assert invites == []  # nothing was created from forged buttons
    assert admin.user_id == 720


async def test_stale_button_outside_any_flow(box: Sandbox) -> None:
    person = await register(box, Role.VOLUNTEER, "示范县/城关镇/东村", user_id=730, name="甲")
    await person.press_data("inv:pick:1", person.last)
    await person.press_data("ob:lang:en", person.last)
    answers = [
        c.params.get("text") for c in box.telegram.calls if c.method == "answerCallbackQuery"
    ]
    assert answers[-2:] == ["该按钮已失效。", "该按钮已失效。"]


async def test_unexpected_error_gets_an_apology_and_no_personal_data_in_logs(
    migrated: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    box = Sandbox(migrated)
    async with box:
        person = await register(
            box, Role.VOLUNTEER, "示范县/城关镇/东村", user_id=740, name="王秘密"
        )
        async with box.services.sessions.begin() as session:
            await sql(session, "ALTER TABLE person RENAME TO person_gone")
        english = box.person(741, "Secret Name", "en")
        with caplog.at_level(logging.INFO):
            await english.send("/help my secret words")
            await person.send("/help")
        assert english.last.text.startswith("Sorry, something went wrong")
        assert person.last.text.startswith("抱歉，出了点问题")
        logged = caplog.text
        for private in ("王秘密", "Secret Name", "secret words", "741", "740"):
            assert private not in logged
        assert "update" in logged and "failed" in logged
        async with box.services.sessions.begin() as session:
            await sql(session, "ALTER TABLE person_gone RENAME TO person")
