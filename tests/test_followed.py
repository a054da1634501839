"""No child falls through the cracks (issue #14): every active child is in exactly one state
(on track, due soon, overdue, not covered); /overdue lists the children nobody is to visit
first, then the overdue, and its figures count every active child; /unpaired lists exactly
the children not covered; unpairing keeps an overdue child on the list; a deactivated
volunteer's children become gaps; a person whose access ended is told whom to ask."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, func, select

from care.children import Colour
from care.idcard import make_id
from care.roles import Role
from care.visits import Care, CheckIn, Health, Mode, Mood, Parents, State, Study, VisitRule
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from service import visits
from storage.models import Child, Pairing, Person, Visit
from tests.conftest import child_id, pair_directly, register

TZ = ZoneInfo("Asia/Shanghai")
TOWN, EAST, WEST = "示范县/城关镇", "示范县/城关镇/东村", "示范县/城关镇/西村"
DOTS = ("🔴", "🟡", "🔵", "🟢")
HEADER = ["序号", "姓名", "性别", "出生日期", "身份证号", "儿童类别", "风险等级",
          "县(区)", "镇(街道)", "村(社区)"]  # fmt: skip
# name, gender, birth date, category (all six in each village), colour, village
CHILDREN = [
    ("孔一", "女", date(2014, 5, 1), "孤儿", "红", "东村"),
    ("孔二", "男", date(2016, 2, 2), "事实无人抚养儿童", "黄", "东村"),
    ("孔三", "女", date(2012, 3, 3), "低保家庭重残重病儿童", "蓝", "东村"),
    ("孔四", "男", date(2015, 4, 4), "其他低保家庭儿童", "绿", "东村"),
    ("孔五", "女", date(2013, 5, 5), "其他困境儿童", "蓝", "东村"),
    ("孔六", "男", date(2017, 6, 6), "农村留守儿童", "黄", "东村"),
    ("李一", "男", date(2014, 7, 7), "孤儿", "绿", "西村"),
    ("李二", "女", date(2015, 8, 8), "事实无人抚养儿童", "红", "西村"),
    ("李三", "男", date(2016, 9, 9), "低保家庭重残重病儿童", "黄", "西村"),
    ("李四", "女", date(2018, 10, 10), "其他低保家庭儿童", "蓝", "西村"),
    ("李五", "男", date(2013, 11, 11), "其他困境儿童", "绿", "西村"),
    ("李六", "女", date(2012, 12, 12), "农村留守儿童", "红", "西村"),
]


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def ledger() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for n, (name, gender, birth, category, colour, village) in enumerate(CHILDREN, start=1):
        number = make_id("320999", birth, 2 * n + (1 if gender == "男" else 0))
        writer.writerow([n, name, gender, birth.isoformat(), number, category, colour,
                         "示范县", "城关镇", village])  # fmt: skip
    return out.getvalue().encode("utf-8")


async def visit(box: Sandbox, tg_user_id: int, name: str, day: str) -> None:
    """A check-in recorded by the use case, as the flow's Confirm records it."""
    box.services.now = lambda: at(day)
    viewer = await box.services.load_viewer(tg_user_id)
    assert viewer is not None
    recorded = await visits.record_visit(box.services, viewer, CheckIn(
        child_id=await child_id(box, name), visited_on=date.fromisoformat(day), mode=Mode.HOME,
        health=Health.GOOD, mood=Mood.GOOD, study=Study.NORMAL, care=Care.GOOD,
        parents=Parents.CONTACTED, draft_key=f"{name}-{day}",
    ))  # fmt: skip
    assert recorded is not None and recorded.new


async def town(box: Sandbox) -> dict[str, SimPerson]:
    """The ledger imported in chat on 1 March; three volunteers; some children paired."""
    box.services.now = lambda: at("2026-03-01")
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1600, name="张督导")
    await supervisor.send_document("台账.csv", ledger())
    assert "新增 12 名" in supervisor.last.text
    await supervisor.press("✅ 确认导入")
    assert "导入完成：新增 12 名" in supervisor.last.text
    cast = {"督导": supervisor}
    for tg, name, path, gender in ((1601, "王芳", EAST, "ob:gender:female"),
                                   (1602, "李军", WEST, "ob:gender:male"),
                                   (1603, "周丽", WEST, "ob:gender:female")):  # fmt: skip
        cast[name] = await register(box, Role.VOLUNTEER, path, user_id=tg, name=name,
                                    gender=gender)  # fmt: skip
    await supervisor.send("/pair 孔一")  # through the chat, as a supervisor pairs
    await supervisor.press("王芳 · 女 · 已结对0名")
    await supervisor.press("✅ 确认保存")
    assert supervisor.last.text == "已结对：孔一 — 王芳。"
    for name, tg in (("孔二", 1601), ("孔四", 1601), ("孔六", 1603), ("李二", 1603),
                     ("李三", 1602), ("李五", 1603)):  # fmt: skip
        await pair_directly(box, await child_id(box, name), tg)
    await visit(box, 1601, "孔四", "2026-04-03")  # green: due 2 June
    await visit(box, 1603, "李二", "2026-05-29")  # red: due 5 June
    await visit(box, 1601, "孔一", "2026-05-30")  # red: due 6 June
    box.services.now = lambda: at("2026-06-01")
    return cast


async def expected_states(box: Sandbox, today: date) -> dict[str, State]:
    """Each active child's state worked out here from the tables, independently of the bot:
    covered = an active pairing with an active volunteer; due = the last visit, else the
    day the child came under the programme, plus the colour's interval."""
    async with box.services.sessions() as session:
        covered = set(
            await session.exec(
                select(Pairing.child_id)
                .join(Person, col(Person.id) == Pairing.volunteer_id)
                .where(col(Pairing.ended_on).is_(None), col(Person.active).is_(True))
            )
        )
        last = dict(
            (await session.exec(
                select(Visit.child_id, func.max(Visit.visited_on)).group_by(col(Visit.child_id))
            )).all()
        )  # fmt: skip
        children = (await session.exec(select(Child).where(col(Child.active).is_(True)))).all()
    rule, states = VisitRule(), {}
    for child in children:
        assert child.id is not None
        due = (last.get(child.id) or child.followed_since) + timedelta(
            days=rule.intervals[Colour(child.colour)]
        )
        if child.id not in covered:
            states[child.name] = State.NOT_COVERED
        elif due < today:
            states[child.name] = State.OVERDUE
        elif due <= today + timedelta(days=3):
            states[child.name] = State.DUE_SOON
        else:
            states[child.name] = State.ON_TRACK
    return states


async def overdue_lists(person: SimPerson) -> tuple[list[str], list[str], str]:
    """/overdue, every page: the names under "not covered", those under "overdue", and the
    first page's text."""
    await person.send("/overdue")
    first = person.last.text
    sections: dict[str, list[str]] = {"not_covered": [], "overdue": []}
    while True:
        current: list[str] | None = None
        for line in person.last.text.splitlines():
            if line.startswith("❗ 未覆盖"):
                current = sections["not_covered"]
            elif line.startswith("⏰ 逾期未走访"):
                current = sections["overdue"]
            elif line.startswith(DOTS) and current is not None:
                current.append(line.split(" ")[1])
        if "下一页 ▶" not in [label for label, _ in person.last.buttons]:
            return sections["not_covered"], sections["overdue"], first
        await person.press("下一页 ▶")


def gaps_listed(text: str) -> list[str]:
    """The children /unpaired lists as nobody's to visit (the first three kinds of gap)."""
    names: list[str] = []
    listing = False
    for line in text.splitlines():
        if line.startswith(("🚪", "❗")):
            listing = True
        elif line and not line.startswith("•"):
            listing = False
        elif line.startswith("• ") and listing:
            names.append(line[2:].split("（")[0])
    return names


async def test_every_active_child_is_in_exactly_one_state_and_counted(box: Sandbox) -> None:
    cast = await town(box)
    supervisor = cast["督导"]

    # 李军 leaves: his child 李三 is offered to be moved first; deactivated anyway, a gap
    await supervisor.send("/people")
    await supervisor.press("停用 李军")
    text = supervisor.last.text
    assert "李军 目前仍与 1 名儿童结对：\n• 李三（西村）" in text
    assert [label for label, _ in supervisor.last.buttons] == ["🔁 改派 李三", "仍然停用", "返回"]
    await supervisor.press("仍然停用")
    assert "其结对的 1 名儿童已列为缺口（志愿者已停用）" in supervisor.last.text

    today = box.services.today()
    states = await expected_states(box, today)
    assert len(states) == 12
    by_state = {s: sorted(n for n, state in states.items() if state == s) for s in State}
    assert by_state == {
        State.NOT_COVERED: sorted(["孔三", "孔五", "李一", "李四", "李六", "李三"]),
        State.OVERDUE: sorted(["孔二", "孔六", "李五"]),
        State.DUE_SOON: ["孔四"],
        State.ON_TRACK: sorted(["孔一", "李二"]),
    }  # the cast's own check: each child set up in the state it should be in

    not_covered, overdue, first = await overdue_lists(supervisor)
    # /overdue lists exactly the children not covered (first) and the overdue, each once
    assert sorted(not_covered) == by_state[State.NOT_COVERED]
    assert sorted(overdue) == by_state[State.OVERDUE]
    assert len(not_covered + overdue) == len(set(not_covered + overdue))
    # …and its figures count every active child, each in one state
    assert "需跟进 9 名（未覆盖 6 名，逾期 3 名" in first
    assert "在册儿童 12 名：按期 2，即将到期 1，逾期 3，未覆盖 6" in first
    assert "🔵 孔三 · 无人结对 · 逾期 62 天" in first  # blue: 1 March + 30 days
    assert "🟡 李三 · 志愿者已停用：李军 · 逾期 77 天" in first

    # /unpaired lists exactly the children not covered, each once
    await supervisor.send("/unpaired")
    report = supervisor.last.text
    assert sorted(gaps_listed(report)) == by_state[State.NOT_COVERED]
    assert "🚪 志愿者已停用、尚未改派（1）：\n• 李三（西村） — 李军（已停用）" in report
    assert "❗ 孤儿、事实无人抚养、重残重病儿童尚无爱心家庭结对（2）：" in report  # 孔三, 李一
    assert "❗ 其他儿童无人结对、无人负责走访（3）：" in report  # 孔五, 李四, 李六

    # the card marks the volunteer who left, and says how the child is followed
    await supervisor.send("/child 李三")
    card = supervisor.last.text
    assert (
        "结对志愿者：李军（已停用）" in card
        and "跟进：❗ 未覆盖（无人负责走访），已逾期 77 天" in card
    )
    await supervisor.send("/child 孔四")
    assert "跟进：🔔 即将到期，应于 2026年6月2日 前走访" in supervisor.last.text

    # the directors of each village see their own village, all of it counted
    director = await register(box, Role.DIRECTOR, WEST, user_id=1604, name="西村主任")
    await director.send("/overdue")
    assert "在册儿童 6 名：按期 1，即将到期 0，逾期 1，未覆盖 4" in director.last.text


async def test_unpairing_keeps_an_overdue_child_on_the_list(box: Sandbox) -> None:
    cast = await town(box)
    supervisor = cast["督导"]
    await supervisor.send("/overdue")
    await supervisor.press("🟡")
    assert "🟡 孔六 · 逾期 77 天 · 志愿者：周丽" in supervisor.last.text
    due_of_kong = select(col(Child.due_on)).where(Child.name == "孔六")
    async with box.services.sessions() as session:
        due_before = (await session.exec(due_of_kong)).one()

    await supervisor.send("/unpair 孔六")
    await supervisor.press("周丽")
    await supervisor.send("志愿者调往外地")
    await supervisor.press("✅ 确认保存")
    assert "已解除结对" in supervisor.last.text

    await supervisor.send("/overdue")
    await supervisor.press("🟡")
    text = supervisor.last.text
    assert "🟡 孔六 · 无人结对 · 逾期 77 天" in text  # still there, as overdue as before
    assert "需跟进 3 名（未覆盖 1 名，逾期 2 名" in text  # yellow: 孔六; 孔二 and 李三
    async with box.services.sessions() as session:
        due_after = (await session.exec(due_of_kong)).one()
    assert due_after == due_before == date(2026, 3, 16)
    _nc, _ov, first = await overdue_lists(supervisor)
    assert "在册儿童 12 名：按期 2，即将到期 1，逾期 3，未覆盖 6" in first
