"""Closing and moving children's records (issue #14, 5): children who age out are listed 30
days ahead and closed on the day by the daily job; a closed record is read-only, out of the
reminders and /overdue, still shown with its history to those who keep the records; a child
moves to another village with the family and the history; an import that meets an aged-out
child closes the record, and its dry run says so. Bad input writes nothing."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from care.closing import ClosingReason
from care.idcard import make_id
from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from service import closing
from service.reminders import plan_today
from service.visits import record_visit
from storage.models import AuditLog, Child, ChildMove, Household, Pairing, Visit
from tests.conftest import FIXTURES, child_id, pair_directly, register, seed_ledger
from tests.test_use_cases_visits import check_in, viewer_of

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
EAST, WEST, TOWN = "示范县/城关镇/东村", "示范县/城关镇/西村", "示范县/城关镇"
SAMPLE_CSV = (FIXTURES / "ledger-sample.csv").read_bytes()


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=TZ)


def alerts(box: Sandbox) -> list[str]:
    """What the bot answered to button presses (the pop-ups), in order."""
    return [
        str(c.params.get("text", ""))
        for c in box.telegram.calls
        if c.method == "answerCallbackQuery"
    ]


async def child(box: Sandbox, name: str) -> Child:
    async with box.services.sessions() as session:
        return (await session.exec(select(Child).where(Child.name == name))).one()


async def audit(box: Sandbox, action: str) -> list[AuditLog]:
    async with box.services.sessions() as session:
        return list(await session.exec(select(AuditLog).where(AuditLog.action == action)))


async def run_daily_job(box: Sandbox) -> None:
    """The closing job as the job queue runs it (workers.jobs), then the outbox's sender."""
    assert box.application.job_queue is not None
    [job] = box.application.job_queue.get_jobs_by_name("aged_out")
    await job.run(box.application)
    await box.drain()


async def test_a_child_turning_16_is_listed_30_days_ahead_and_closed_on_the_day(
    box: Sandbox,
) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1600, name="东村主任")
    volunteer = await register(box, Role.VOLUNTEER, EAST, user_id=1601, name="王芳")
    await pair_directly(box, await child_id(box, "于曦皓"), 1601)  # left behind, born 2014-09-03

    box.services.now = lambda: at("2030-08-03")
    await director.send("/ageing")
    listing = director.last.text
    # 闫文思 (an orphan, born 2012-08-17) turns 18 within 30 days; 于曦皓 turns 16 in 31
    assert "• 闫文思（东村）2030年8月17日 满 18 岁，超出“孤儿”的年龄" in listing
    assert "于曦皓" not in listing
    box.services.now = lambda: at("2030-08-04")
    await director.send("/ageing")
    listing = director.last.text
    assert listing.startswith("⏳ 示范县/城关镇/东村：30 天内到龄的儿童（到龄当天档案自动结案）")
    assert listing.index("闫文思") < listing.index(
        "• 于曦皓（东村）2030年9月3日 满 16 岁，超出“农村留守儿童”的年龄"
    )
    await director.press("⏳ 于曦皓 · 2030年9月3日")
    assert director.last.text.startswith("👤 于曦皓 · 男 · 15岁")

    # The bot was down from 8/16: its first run, late on 9/2, catches up with 闫文思's
    # birthday; 于曦皓's record stays open until his own, and is closed just after midnight.
    box.services.now = lambda: at("2030-09-02", 23, 59)
    await run_daily_job(box)
    assert (await child(box, "于曦皓")).active and not (await child(box, "闫文思")).active
    box.services.now = lambda: at("2030-09-03", 0, 5)
    await run_daily_job(box)
    closed = await child(box, "于曦皓")
    assert not closed.active and closed.closed_on == date(2030, 9, 3)
    assert (closed.closed_reason, closed.closed_by) == ("aged_out", None)
    assert not any("已自动结案" in m.text for m in director.inbox)  # the notes wait for morning
    box.services.now = lambda: at("2030-09-03", 8)
    await box.drain()
    notes = [m.text for m in director.inbox if "已自动结案" in m.text]
    assert notes == [
        "🔒 闫文思（东村）已于 2030年8月17日 满 18 岁，超出“孤儿”的年龄，档案已自动结案，"
        "结对随之结束。档案保留，可用 /child 查看。",
        "🔒 于曦皓（东村）已于 2030年9月3日 满 16 岁，超出“农村留守儿童”的年龄，档案已自动结案，"
        "结对随之结束。档案保留，可用 /child 查看。",
    ]
    assert volunteer.last.text == (
        "🔒 于曦皓 的档案已结案，原因：已到龄（留守儿童满16岁，其他满18岁）。"
        "您与该儿童的结对随之结束，无需再走访。感谢您的陪伴！"
    )
    async with box.services.sessions() as session:
        pairing = (await session.exec(select(Pairing).where(Pairing.child_id == closed.id))).one()
    assert (pairing.ended_on, pairing.end_reason) == (date(2030, 9, 3), "closed:aged_out")
    # idempotent: running again closes nothing and tells nobody twice
    before = len(box.telegram.calls)
    await run_daily_job(box)
    assert len(box.telegram.calls) == before
    closings = [a.subject for a in await audit(box, "child_close")]
    assert closings.count(f"child:{closed.id}") == 1

    await director.send("/ageing")
    listing = director.last.text
    assert "🔒 近 30 天结案的档案（共 2 份）：" in listing
    assert "• 于曦皓（东村）2030年9月3日 结案：已到龄（留守儿童满16岁，其他满18岁）" in listing
    await director.press("🔒 于曦皓")
    card = director.last.text
    assert "🔒 档案已于 2030年9月3日 结案" in card and "办理人：系统" in card
    assert director.last.buttons == []


async def close_xiongzi(box: Sandbox, person: SimPerson) -> None:
    """Closes 熊子's record through the card, as the person does, with each wrong answer."""
    await person.send("/child 熊子")
    await person.press("🔒 结案")
    assert person.last.text.startswith("为什么给 熊子 结案？")
    await person.press("已到龄（留守儿童满16岁，其他满18岁）")  # born 2014: not yet
    assert "熊子 要到 2030年9月27日 才满 16 岁，当天档案会自动结案" in person.last.text
    await person.press("父母返乡")
    await person.send("好")
    assert "请写 2 到 200 个字的说明" in person.last.text
    await person.send("父亲十一月回乡务农，母亲也在家")
    summary = person.last.text
    assert summary.startswith("确认给 熊子（东村）结案？\n原因：父母返乡\n说明：父亲十一月回乡务农")
    await person.press("✅ 确认保存")
    assert person.last.text == "已给 熊子 结案。档案保留（只读），可用 /child 查看。"


async def test_a_closed_record_is_read_only_out_of_reminders_and_figures_yet_shown(
    box: Sandbox,
) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    volunteer = await register(box, Role.VOLUNTEER, EAST, user_id=1610, name="王芳")
    director = await register(box, Role.DIRECTOR, EAST, user_id=1611, name="东村主任")
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1612, name="督导")
    xiongzi, xuezi = await child_id(box, "熊子"), await child_id(box, "薛子")
    for paired in (xiongzi, xuezi):
        await pair_directly(box, paired, 1610)
    await record_visit(box.services, await viewer_of(box, 1610), check_in(xiongzi))
    await supervisor.send("/overdue")
    assert "逾期未走访 1 名" in supervisor.last.text and "已结对 2 名" in supervisor.last.text

    # the director begins an edit; the supervisor closes the record meanwhile
    await director.send("/child 熊子")
    await director.press("改风险等级")
    await director.press("🔴 红（高风险）")
    await director.send("家中无人照看")
    colour_summary = director.last
    await close_xiongzi(box, supervisor)
    await director.press("✅ 确认保存", colour_summary)
    assert director.last.text == "该档案已结案，只能查看，不能修改。"
    record = await child(box, "熊子")
    assert (record.active, record.colour, record.closed_reason) == (False, "yellow", "parents_back")
    assert record.closed_note == "父亲十一月回乡务农，母亲也在家"
    [closing_audit] = await audit(box, "child_close")
    assert closing_audit.subject == f"child:{xiongzi}" and closing_audit.detail == "parents_back"

    # the card: closed, by whom and why, the visit kept; no button to change anything
    await director.send("/child 熊子")
    card = director.last
    assert card.text.splitlines()[1:4] == [
        "🔒 档案已于 2026年11月23日 结案：父母返乡。档案只读，不再提醒走访，不计入统计。",
        "办理人：督导",
        "结案说明：父亲十一月回乡务农，母亲也在家",
    ]
    assert "📅 2026年11月22日 · 王芳" in card.text and card.buttons == []
    # buttons of before, or forged: refused with a reason, nothing written
    for data in (f"ce:colour:{xiongzi}", f"close:child:{xiongzi}"):
        await director.press_data(data, card)
        assert alerts(box)[-1] == "该档案已结案，只能查看，不能修改。"
    await supervisor.press_data(f"move:child:{xiongzi}", supervisor.last)
    assert alerts(box)[-1] == "该档案已结案，只能查看，不能修改。"
    await supervisor.press_data(f"pair:child:{xiongzi}", supervisor.last)
    assert "无权" in alerts(box)[-1]
    # found by name by those who keep the records, after the open ones; not by the volunteer
    await director.send("/child 子")
    assert [label for label, _ in director.last.buttons][-1] == "🔒 熊子 · 东村 · 12岁"
    await volunteer.send("/child 熊子")
    assert "没有找到" in volunteer.last.text
    async with box.services.sessions() as session:
        assert (await session.exec(select(Visit).where(Visit.child_id == xiongzi))).all()
        pairing = (await session.exec(select(Pairing).where(Pairing.child_id == xiongzi))).one()
    assert pairing.ended_on == date(2026, 11, 23) and pairing.end_reason == "closed:parents_back"

    # the volunteer is told, and hears no more of the child
    await box.drain()
    assert "🔒 熊子 的档案已结案，原因：父母返乡。" in volunteer.last.text
    assert any(
        m.text.startswith("🔒 熊子（东村）的档案已结案。原因：父母返乡；办理人：督导。")
        for m in director.inbox
    )
    await volunteer.send("/mychildren")
    assert "薛子" in volunteer.last.text and "熊子" not in volunteer.last.text
    box.services.now = lambda: at("2026-12-20")
    await plan_today(box.services)
    await box.drain()
    reminder = volunteer.last.text
    assert reminder.startswith("🔔 今日提醒") and "薛子" in reminder and "熊子" not in reminder
    # /overdue and its figures count the open records only
    await supervisor.send("/overdue")
    assert "熊子" not in supervisor.last.text and "已结对 1 名" in supervisor.last.text
    # a visit recorded for it now is refused
    assert (
        await record_visit(box.services, await viewer_of(box, 1612), check_in(xiongzi, "k2"))
        is None
    )


async def test_closing_outside_ones_area_or_without_a_reason_writes_nothing(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1620, name="东村主任")
    volunteer = await register(box, Role.VOLUNTEER, EAST, user_id=1621, name="王芳")
    elsewhere = await child_id(box, "曹诺若")  # 河口镇
    await director.send("/help")
    await director.press_data(f"close:child:{elsewhere}", director.last)
    assert alerts(box)[-1] == "抱歉，您的角色无权进行此操作。"
    await volunteer.send("/help")
    await volunteer.press_data(f"close:child:{await child_id(box, '熊子')}", volunteer.last)
    assert "无权" in alerts(box)[-1]
    viewer = await viewer_of(box, 1620)
    xiongzi = await child_id(box, "熊子")
    for reason, note, why in (
        (ClosingReason.PARENTS_BACK, "   ", closing.Refusal.REASON),
        (ClosingReason.MOVED_AWAY, "去了外省", closing.Refusal.CHILD),
        (ClosingReason.AGED_OUT, "到龄了", closing.Refusal.NOT_AGED_OUT),
    ):
        target = elsewhere if why == closing.Refusal.CHILD else xiongzi
        with pytest.raises(closing.Refused) as refused:
            await closing.close_child(box.services, viewer, target, reason, note)
        assert refused.value.why == why
    assert (await child(box, "熊子")).active and (await child(box, "曹诺若")).active
    assert await audit(box, "child_close") == []


async def test_a_supervisor_moves_a_child_with_the_family_and_the_history(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1630, name="督导")
    east = await register(box, Role.DIRECTOR, EAST, user_id=1631, name="东村主任")
    west = await register(box, Role.DIRECTOR, WEST, user_id=1632, name="西村主任")
    await register(box, Role.VOLUNTEER, EAST, user_id=1633, name="王芳")
    boy, girl = await child_id(box, "于曦皓"), await child_id(box, "于怡沐")  # household H0013
    await pair_directly(box, boy, 1633)
    await record_visit(box.services, await viewer_of(box, 1633), check_in(boy))
    due_before = (await child(box, "于曦皓")).due_on

    # a director has no other village to move a child to: no button, and a forged one refused
    await east.send("/child 于曦皓")
    assert "🏠 迁往他村" not in [label for label, _ in east.last.buttons]
    await east.press_data(f"move:child:{boy}", east.last)
    assert alerts(box)[-1] == "抱歉，您的角色无权进行此操作。"

    await supervisor.send("/child 于曦皓")
    await supervisor.press("🏠 迁往他村")
    assert supervisor.last.text.startswith("把 于曦皓 迁往哪个村（社区）？")
    assert [label for label, _ in supervisor.last.buttons] == ["南社区", "西村"]
    await supervisor.press("西村")
    await supervisor.send("全家搬到西村外婆家" + "，" * 195)  # over 200: the first part is kept
    assert "已保留前 200 字，最后 4 字未保留" in supervisor.last.text
    await supervisor.press("✏️ 修改某项")
    await supervisor.press("迁移原因")
    await supervisor.send("全家搬到西村外婆家")
    summary = supervisor.last.text
    assert summary.startswith("确认把 于曦皓 由 东村 迁往 西村？\n原因：全家搬到西村外婆家")
    assert summary.endswith("同户的 于怡沐 一同迁移。")
    await supervisor.press("✅ 确认保存")
    assert (
        supervisor.last.text
        == "已把 于曦皓、于怡沐 迁往 西村，走访记录、结对和历史随档案一起迁移。"
    )

    moved = await child(box, "于曦皓")
    async with box.services.sessions() as session:
        moves = (await session.exec(select(ChildMove).order_by(col(ChildMove.id)))).all()
        household = await session.get(Household, moved.household_id)
        visits = (await session.exec(select(Visit).where(Visit.child_id == boy))).all()
        pairing = (await session.exec(select(Pairing).where(Pairing.child_id == boy))).one()
    assert (await child(box, "于怡沐")).area_id == moved.area_id  # the family moved together
    assert household is not None
    assert (household.code, household.area_id) == ("H0013", moved.area_id)
    assert [(m.child_id, m.reason, m.to_area_id) for m in moves] == [
        (boy, "全家搬到西村外婆家", moved.area_id), (girl, "全家搬到西村外婆家", moved.area_id),
    ]  # fmt: skip
    assert len(visits) == 1 and pairing.ended_on is None and moved.due_on == due_before
    assert len(await audit(box, "child_move")) == 2

    # the card shows the move and keeps the visits; each director hears of it
    await supervisor.send("/child 于曦皓")
    card = supervisor.last.text
    assert "地区：示范县/城关镇/西村" in card
    assert "🏠 2026年11月23日 由 东村 迁入 西村（办理人：督导）" in card
    assert "📅 2026年11月22日 · 王芳" in card and "结对志愿者：王芳" in card
    await box.drain()
    note = "🏠 于曦皓、于怡沐 已由 东村 迁入 西村（办理人：督导）。"
    assert east.last.text == note and west.last.text == note
    await west.send("/child 于曦皓")
    assert west.last.text.startswith("👤 于曦皓")
    await east.send("/child 于曦皓")
    assert "没有找到" in east.last.text


async def test_moving_outside_ones_area_or_without_a_reason_writes_nothing(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    supervisor = await register(box, Role.SUPERVISOR, TOWN, user_id=1640, name="督导")
    other = await register(box, Role.SUPERVISOR, "示范县/河口镇", user_id=1641, name="河口督导")
    boy = await child_id(box, "于曦皓")
    await other.send("/help")
    await other.press_data(f"move:child:{boy}", other.last)  # a child of another town
    assert alerts(box)[-1] == "抱歉，您的角色无权进行此操作。"
    viewer = await viewer_of(box, 1640)
    willow = (await child(box, "陈涵天")).area_id  # 河口镇/柳树村
    east = (await child(box, "于曦皓")).area_id
    west = (await child(box, "刘轩宇")).area_id
    for village, reason, why in (
        (willow, "搬到柳树村", closing.Refusal.AREA),
        (east, "还在东村", closing.Refusal.SAME_VILLAGE),
        (west, " ", closing.Refusal.REASON),
    ):
        with pytest.raises(closing.Refused) as refused:
            await closing.move_child(box.services, viewer, boy, village, reason)
        assert refused.value.why == why
    assert (await child(box, "于曦皓")).area_id == east
    assert await audit(box, "child_move") == []
    # a button of an old summary whose village is not offered any more is stale
    await supervisor.send("/child 于曦皓")
    await supervisor.press("🏠 迁往他村")
    await supervisor.press_data(f"fmv:a:{willow}", supervisor.last)
    assert alerts(box)[-1] == "该按钮已失效。"


async def test_an_import_closes_an_aged_out_record_and_the_dry_run_says_so(box: Sandbox) -> None:
    # the repeating job would close her by itself: here the import is to do it
    assert box.application.job_queue is not None
    for job in box.application.job_queue.get_jobs_by_name("aged_out"):
        job.schedule_removal()
    box.services.now = lambda: NOW
    await seed_ledger(box)
    admin = await register(box, Role.ADMIN, "示范县", user_id=1650, name="县管理员")
    director = await register(
        box, Role.DIRECTOR, "示范县/河口镇/柳树村", user_id=1651, name="柳树主任"
    )

    # 2029-03-21: 曹桐可 turns 18, and nobody else of the ledger is past the age limit yet
    box.services.now = lambda: at("2029-03-21")
    rows = list(csv.reader(io.StringIO(SAMPLE_CSV.decode("utf-8-sig"))))
    rows[1][rows[0].index("学校")] = "新学校"  # and an ordinary update…
    duchen = next(r for r in rows if r[1] == "杜晨")
    duchen[rows[0].index("村(社区)")] = "西村"  # …and a move, kept like one from the card
    changed = io.StringIO()
    csv.writer(changed).writerows(rows)
    await admin.send_document("ledger.csv", changed.getvalue().encode("utf-8-sig"))
    dry = admin.last.text
    assert "新增 0 名，更新 2 名，无变化 37 名，拒绝 0 行" in dry
    assert (
        "以下 1 名儿童已到龄，导入时将为其档案结案：\n"
        "• 第 33 行「儿童类别」：18岁，已超出“其他低保家庭儿童”的年龄（应小于18岁）"
    ) in dry
    assert (await child(box, "曹桐可")).active  # the dry run wrote nothing
    await admin.press("✅ 确认导入")
    assert admin.last.text == (
        "导入完成：新增 0 名，更新 2 名；拒绝 0 行未写入。\n已给 1 名到龄儿童的档案结案。"
    )
    closed = await child(box, "曹桐可")
    assert (closed.active, closed.closed_reason, closed.closed_on) == (
        False, "aged_out", date(2029, 3, 21),
    )  # fmt: skip
    assert [a.subject for a in await audit(box, "ledger_close")] == [f"child:{closed.id}"]
    async with box.services.sessions() as session:
        [move] = (await session.exec(select(ChildMove))).all()
    assert (move.child_id, move.reason) == (await child_id(box, "杜晨"), "ledger")
    await box.drain()
    assert director.last.text == (
        "🔒 曹桐可（柳树村）的档案已结案。原因：已到龄（留守儿童满16岁，其他满18岁）；"
        "办理人：县管理员。档案保留，可用 /child 查看。"
    )

    # the same ledger again: the closed record is left as it is, nothing rejected
    await admin.send_document("again.csv", changed.getvalue().encode("utf-8-sig"))
    assert "新增 0 名，更新 0 名，无变化 40 名，拒绝 0 行" in admin.last.text
    # a row that would change a closed record is refused, saying so
    box.services.now = lambda: at("2029-03-22")
    rows = list(csv.reader(io.StringIO(SAMPLE_CSV.decode("utf-8-sig"))))
    xiongzi = next(r for r in rows if r[1] == "熊子")
    rows = [rows[0], xiongzi]
    viewer = await viewer_of(box, 1650)
    xiongzi_id = await child_id(box, "熊子")
    await closing.close_child(box.services, viewer, xiongzi_id, ClosingReason.DIED, "意外身故")
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    await admin.send_document("one.csv", out.getvalue().encode("utf-8-sig"))
    report = admin.last.text
    assert "拒绝 1 行" in report
    assert (
        "• 第 2 行「姓名」：该儿童的档案已于 2029-03-22 结案（儿童去世），导入不会修改已结案的档案"
        in report.splitlines()
    )
    # a row past the age limit with no record to close is rejected, as before
    newcomer = dict(zip(rows[0], xiongzi, strict=True)) | {
        "姓名": "新来的", "身份证号": make_id("320999", date(2011, 1, 5), 23), "出生日期": "",
        "儿童类别": "其他困境儿童",
    }  # fmt: skip
    out = io.StringIO()
    csv.writer(out).writerows([rows[0], [newcomer[c] for c in rows[0]]])
    await admin.send_document("new.csv", out.getvalue().encode("utf-8-sig"))
    report = admin.last.text
    assert "新增 0 名，更新 0 名，无变化 0 名，拒绝 1 行" in report
    assert "• 第 2 行「儿童类别」：18岁，已超出“其他困境儿童”的年龄（应小于18岁）" in report
