"""Reassign means move (issue #14, 3 and 4): a supervisor moves a child to another volunteer in
one step, from /overdue, a card or a volunteer's deactivation (the old pairing ends with a
reason and stays in the history, the due date does not change); a director proposes a move,
which the town's supervisor accepts or declines from the message the outbox brings; bad
input is refused with nothing written."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from care.children import Category, Colour
from care.pairing import Rule
from care.roles import Gender, Role
from sandbox.harness import Sandbox
from service import children, reassign
from service.pairing import Refusal
from storage.db import select_wide
from storage.models import AuditLog, Child, Pairing, Person, ReassignProposal
from tests.conftest import child_id, register
from tests.test_followed import town


async def pairings_of(box: Sandbox, name: str) -> list[tuple[str, date, date | None, str]]:
    """(volunteer, started, ended, why it ended) of the child's pairings, oldest first."""
    async with box.services.sessions() as session:
        rows = await session.exec(
            select_wide(Person.name, Pairing.started_on, Pairing.ended_on, Pairing.end_reason)
            .join(Person, col(Person.id) == Pairing.volunteer_id)
            .where(Pairing.child_id == await child_id(box, name))
            .order_by(col(Pairing.id))
        )
        return [(name, start, end, why) for name, start, end, why in rows]


async def due_of(box: Sandbox, name: str) -> date | None:
    async with box.services.sessions() as session:
        return (await session.exec(select(col(Child.due_on)).where(Child.name == name))).one()


async def audited(box: Sandbox, action: str) -> list[AuditLog]:
    async with box.services.sessions() as session:
        return list(await session.exec(select(AuditLog).where(AuditLog.action == action)))


async def test_a_supervisor_moves_a_child_keeping_due_date_and_history(box: Sandbox) -> None:
    cast = await town(box)
    supervisor, wang = cast["督导"], cast["王芳"]
    due = await due_of(box, "孔二")
    assert due == date(2026, 3, 16)
    await supervisor.send("/overdue")
    await supervisor.press("🟡")
    assert "🟡 孔二 · 逾期 77 天 · 志愿者：王芳" in supervisor.last.text
    await supervisor.press(f"ra:child:{await child_id(box, '孔二')}")
    assert "请选择新的结对志愿者" in supervisor.last.text
    labels = [label for label, _ in supervisor.last.buttons if not label.startswith(("✅", "✏"))]
    assert not any(label.startswith("王芳") for label in labels)  # the volunteer moved from
    await supervisor.press("周丽 · 女 · 已结对3名")
    assert "请写明改派原因" in supervisor.last.text
    await supervisor.send("好")  # too short to be a reason
    assert "理由需为4到200个字" in supervisor.last.text
    await supervisor.send("王芳家中有事，暂时无法走访")
    assert supervisor.last.text.endswith(
        "确认将 孔二 从 王芳 改派给 周丽？\n"
        "改派原因：王芳家中有事，暂时无法走访\n（应走访日期不变。）"
    )
    await supervisor.press("✅ 确认保存")
    assert supervisor.last.text.startswith("已改派：孔二 现由 周丽 结对")

    # one step: the old pairing ended with its reason, the new one began; the due date stays
    assert await pairings_of(box, "孔二") == [
        ("王芳", date(2026, 3, 1), date(2026, 6, 1), "王芳家中有事，暂时无法走访"),
        ("周丽", date(2026, 6, 1), None, ""),
    ]
    assert await due_of(box, "孔二") == due
    [entry] = await audited(box, "reassign")
    assert entry.subject == f"child:{await child_id(box, '孔二')}"
    await supervisor.send("/overdue")
    await supervisor.press("🟡")
    assert "🟡 孔二 · 逾期 77 天 · 志愿者：周丽" in supervisor.last.text
    await supervisor.send("/child 孔二")
    card = supervisor.last.text
    assert "结对志愿者：周丽（2026年6月1日起" in card and "王芳（2026年6月1日起" not in card
    assert "曾结对：王芳（2026年3月1日—2026年6月1日，原因：王芳家中有事，暂时无法走访）" in card
    await wang.send("/mychildren")
    assert "孔二" not in wang.last.text and "孔一" in wang.last.text


async def test_bad_moves_are_refused_and_write_nothing(box: Sandbox) -> None:
    cast = await town(box)
    other_town = await register(
        box, Role.SUPERVISOR, "示范县/河口镇", user_id=1610, name="河口督导"
    )
    await register(box, Role.VOLUNTEER, "示范县/河口镇/柳树村", user_id=1611, name="河口志愿者")
    child = await child_id(box, "孔二")
    async with box.services.sessions() as session:
        old = (await session.exec(select(Pairing.id).where(Pairing.child_id == child))).one()
        far = (await session.exec(select(Person.id).where(Person.tg_user_id == 1611))).one()
        near = (await session.exec(select(Person.id).where(Person.tg_user_id == 1603))).one()
    assert old is not None and far is not None and near is not None
    supervisor = await box.services.load_viewer(1600)
    outsider = await box.services.load_viewer(1610)
    assert supervisor is not None and outsider is not None

    # a child outside one's area: refused in chat, and by the use case
    await other_town.send("/help")
    await other_town.press_data(f"ra:child:{child}", other_town.last)
    refusal = [c.params for c in box.telegram.calls if c.method == "answerCallbackQuery"][-1]
    assert refusal["text"] == "抱歉，您的角色无权进行此操作。"
    request = reassign.MoveRequest(child, old, near, "王芳家中有事，暂时无法走访")
    assert await reassign.move(box.services, outsider, request) == Refusal.FORBIDDEN
    # a reason left empty
    empty = reassign.MoveRequest(child, old, near, "  ")
    assert await reassign.move(box.services, supervisor, empty) == Refusal.REASON
    # a volunteer of another town: not without an override, and not without its reason
    away = reassign.MoveRequest(child, old, far, "王芳家中有事，暂时无法走访")
    assert await reassign.move(box.services, supervisor, away) == Refusal.RULES_CHANGED
    unexplained = reassign.MoveRequest(
        child, old, far, "王芳家中有事，暂时无法走访", overridden=(Rule.SAME_TOWN,)
    )
    assert await reassign.move(box.services, supervisor, unexplained) == Refusal.REASON
    # the same volunteer again, a pairing that is not the child's
    same = reassign.MoveRequest(child, old, await person(box, 1601), "王芳家中有事，暂时无法走访")
    assert await reassign.move(box.services, supervisor, same) == Refusal.ALREADY_PAIRED
    stranger = reassign.MoveRequest(child, old + 1000, near, "王芳家中有事，暂时无法走访")
    assert await reassign.move(box.services, supervisor, stranger) == Refusal.ENDED
    assert await pairings_of(box, "孔二") == [("王芳", date(2026, 3, 1), None, "")]
    assert await audited(box, "reassign") == []

    # in English, the same refusal in the person's language
    english = await register(box, Role.SUPERVISOR, "示范县/河口镇", user_id=1612, name="Lee",
                             language="English")  # fmt: skip
    await english.press_data(f"ra:child:{child}", english.last)
    refusal = [c.params for c in box.telegram.calls if c.method == "answerCallbackQuery"][-1]
    assert refusal["text"] == "Sorry, your role does not allow this."
    assert cast  # the town's people stay as they were


async def person(box: Sandbox, tg_user_id: int) -> int:
    async with box.services.sessions() as session:
        found = (await session.exec(select(Person.id).where(Person.tg_user_id == tg_user_id))).one()
    assert found is not None
    return found


async def test_a_director_proposes_and_the_supervisor_decides(box: Sandbox) -> None:
    cast = await town(box)
    supervisor = cast["督导"]
    director = await register(
        box, Role.DIRECTOR, "示范县/城关镇/东村", user_id=1620, name="东村主任"
    )
    await director.send("/overdue")
    await director.press(f"ra:child:{await child_id(box, '孔二')}")  # 🔁 改派
    assert "请选择新的结对志愿者" in director.last.text
    await director.press("周丽 · 女 · 已结对3名")
    await director.send("王芳家中有事，暂时无法走访")
    assert director.last.text.endswith("确认后将发送给本镇儿童督导员审批。")
    await director.press("✅ 确认保存")
    assert (
        director.last.text == "已将建议发送给 张督导 审批：孔二 改由 周丽 结对。审批结果会通知您。"
    )
    assert await pairings_of(box, "孔二") == [("王芳", date(2026, 3, 1), None, "")]  # not yet

    await box.drain()
    proposal = supervisor.last
    assert proposal.text == (
        "🔁 改派建议：东村主任（东村）建议将 孔二 从 王芳 改派给 周丽。\n"
        "原因：王芳家中有事，暂时无法走访"
    )
    assert [label for label, _ in proposal.buttons] == ["✅ 同意", "✖ 不同意"]
    accept = proposal.buttons[0][1]
    await supervisor.press("✅ 同意", proposal)
    assert proposal.buttons == []  # decided: the buttons are taken off
    await box.drain()
    assert supervisor.last.text == "已同意：孔二 现由 周丽 结对。"
    assert director.last.text == "您的建议已由 张督导 同意：孔二 现由 周丽 结对。"
    assert [p[0] for p in await pairings_of(box, "孔二")] == ["王芳", "周丽"]
    assert await due_of(box, "孔二") == date(2026, 3, 16)
    # a second press, or another supervisor's, decides nothing more
    await supervisor.press_data(accept, proposal)
    answer = [c.params for c in box.telegram.calls if c.method == "answerCallbackQuery"][-1]
    assert answer["text"] == "该建议已由 张督导 同意。"
    assert len(await pairings_of(box, "孔二")) == 2

    # a proposal declined changes nothing; the director is told
    await director.send("/child 孔四")
    assert "建议改派" in [label for label, _ in director.last.buttons]
    await director.press("建议改派")
    await director.press("周丽 · 女 · 已结对4名")
    await director.send("周丽住得更近")
    await director.press("✅ 确认保存")
    await box.drain()
    await supervisor.press("✖ 不同意", supervisor.last)
    await box.drain()
    assert supervisor.last.text == "已不同意该建议（孔四 → 周丽），未做任何更改。"
    assert director.last.text == "您关于 孔四 改由 周丽 结对的建议未被 张督导 同意。"
    assert [p[0] for p in await pairings_of(box, "孔四")] == ["王芳"]
    async with box.services.sessions() as session:
        statuses = (await session.exec(select(ReassignProposal.status))).all()
    assert sorted(statuses) == ["accepted", "declined"]

    # a director of another village may not propose for this one; a volunteer not at all
    west = await register(box, Role.DIRECTOR, "示范县/城关镇/西村", user_id=1621, name="西村主任")
    await west.press_data(f"ra:child:{await child_id(box, '孔四')}", west.last)
    answer = [c.params for c in box.telegram.calls if c.method == "answerCallbackQuery"][-1]
    assert answer["text"] == "抱歉，您的角色无权进行此操作。"
    wang = cast["王芳"]
    await wang.press_data(f"ra:child:{await child_id(box, '孔四')}", wang.last)
    answer = [c.params for c in box.telegram.calls if c.method == "answerCallbackQuery"][-1]
    assert answer["text"] == "抱歉，您的角色无权进行此操作。"


async def test_a_proposal_nobody_can_decide_is_not_sent(box: Sandbox) -> None:
    await town(box)
    lonely = await register(
        box, Role.DIRECTOR, "示范县/河口镇/柳树村", user_id=1630, name="柳树主任"
    )
    await register(box, Role.VOLUNTEER, "示范县/河口镇/柳树村", user_id=1631, name="柳树志愿者")
    viewer = await box.services.load_viewer(1630)
    assert viewer is not None
    [village] = await children.villages(box.services, viewer)
    saved = await children.add_child(box.services, viewer, children.NewChild(
        name="曹诺若", gender=Gender.MALE, birth_date=date(2014, 8, 7),
        category=Category.LEFT_BEHIND, colour=Colour.YELLOW, village_id=village.id,
    ))  # fmt: skip  # 河口镇 has no supervisor, the county no admin
    request = reassign.MoveRequest(
        saved.child_id, None, await person(box, 1631), "", draft_key="k1"
    )
    assert await reassign.propose(box.services, viewer, request) == Refusal.NO_SUPERVISOR
    async with box.services.sessions() as session:
        assert (await session.exec(select(ReassignProposal))).all() == []
    assert lonely.inbox  # registered, told nothing more


async def test_deactivating_a_volunteer_offers_to_move_their_children_first(
    box: Sandbox,
) -> None:
    cast = await town(box)
    supervisor = cast["督导"]
    await supervisor.send("/people")
    await supervisor.press("停用 李军")
    await supervisor.press("🔁 改派 李三")
    await supervisor.press("周丽 · 女 · 已结对3名")
    await supervisor.send("李军不再担任志愿者")
    await supervisor.press("✅ 确认保存")
    assert supervisor.last.text.startswith("已改派：李三 现由 周丽 结对")
    await supervisor.send("/people")
    await supervisor.press("停用 李军")
    assert "目前仍与" not in supervisor.last.text  # nobody left to move
    await supervisor.press("确定停用")
    assert "已停用 李军" in supervisor.last.text and "缺口" not in supervisor.last.text
    await supervisor.send("/unpaired")
    assert "志愿者已停用" not in supervisor.last.text
