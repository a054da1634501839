"""Hazard reports (强制报告): alerts reach the intended people and nobody else, acknowledgement
stops the ladder and tells the reporter, the ladder climbs on a simulated clock and survives
a restart, delivery failures are handled, and outsiders cannot open or take a case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select
from telegram.error import TimedOut

from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from sandbox.telegram import ApiError
from service.alerts import escalate_due
from settings import Settings
from storage.db import key
from storage.models import Case, CaseEvent, Outbox, Person
from tests.conftest import child_id, pair_directly, register, seed_ledger, watch_errors

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ALERT_CHAT = -100999
EAST = "示范县/城关镇/东村"


@pytest.fixture
async def alerting(migrated: Settings) -> AsyncIterator[Sandbox]:
    settings = migrated.model_copy(update={"alert_chat_id": ALERT_CHAT})
    box = Sandbox(settings)
    errors = watch_errors(box)
    async with box:
        box.services.now = lambda: NOW
        yield box
    assert errors == []


class Cast:
    def __init__(self, box: Sandbox) -> None:
        self.box = box

    async def setup(self) -> None:
        box = self.box
        await seed_ledger(box)
        self.volunteer = await register(box, Role.VOLUNTEER, EAST, user_id=1300, name="王芳")
        self.sup1 = await register(
            box, Role.SUPERVISOR, "示范县/城关镇", user_id=1301, name="督导一"
        )
        self.sup2 = await register(
            box, Role.SUPERVISOR, "示范县/城关镇", user_id=1302, name="督导二"
        )
        self.director = await register(box, Role.DIRECTOR, EAST, user_id=1303, name="东村主任")
        self.west = await register(
            box, Role.DIRECTOR, "示范县/城关镇/西村", user_id=1304, name="西村主任"
        )
        self.other_town = await register(
            box, Role.SUPERVISOR, "示范县/河口镇", user_id=1305, name="河口督导"
        )
        self.admin = await register(box, Role.ADMIN, "示范县", user_id=1306, name="县管理员")
        await pair_directly(box, await child_id(box, "熊子"), 1300)
        self.seen = {p.user_id: len(p.inbox) for p in self.people}

    @property
    def people(self) -> list[SimPerson]:
        return [self.volunteer, self.sup1, self.sup2, self.director, self.west, self.other_town,
                self.admin]  # fmt: skip

    def new(self, person: SimPerson) -> list[str]:
        """What reached this person since the last look."""
        texts = [m.text for m in person.inbox[self.seen.get(person.user_id, 0) :]]
        self.seen[person.user_id] = len(person.inbox)
        return texts

    def chat(self) -> list[str]:
        return [m.text for m in self.box.telegram.chats[ALERT_CHAT]]


async def urgent_report(cast: Cast) -> int:
    volunteer = cast.volunteer
    await volunteer.send("/urgent")
    await volunteer.press("脱离监护单独居住")
    await volunteer.press("熊子")
    await volunteer.send("奶奶住院了，孩子一个人在家三天")
    await volunteer.press("✅ 确认保存")
    assert "紧急报告已送达，编号 #2026-0001" in volunteer.last.text
    async with cast.box.services.sessions() as session:
        return (await session.exec(select(key(Case.id)))).one()


async def test_urgent_report_reaches_every_intended_recipient_and_no_one_else(
    alerting: Sandbox,
) -> None:
    cast = Cast(alerting)
    await cast.setup()
    await urgent_report(cast)
    cast.new(cast.volunteer)
    await alerting.drain()
    for person in (cast.sup1, cast.sup2, cast.director):
        [alert] = cast.new(person)
        assert alert.startswith("🚨 紧急报告 #2026-0001") and "地点：东村" in alert
        assert "熊子" not in alert  # the least that lets them act; names in the case view
        assert [label for label, _ in person.last.buttons] == ["✋ 我来处理", "查看"]
    for person in (cast.volunteer, cast.west, cast.other_town, cast.admin):
        assert cast.new(person) == []
    assert cast.chat() == [
        "🚨 紧急报告 #2026-0001：脱离监护单独居住（东村）。相关人员请在与机器人的私聊中查看。"
    ]


async def test_acknowledging_stops_the_ladder_and_tells_the_reporter(alerting: Sandbox) -> None:
    cast = Cast(alerting)
    await cast.setup()
    await urgent_report(cast)
    await alerting.drain()
    cast.new(cast.volunteer)
    await cast.sup2.press("✋ 我来处理")
    await cast.director.press("✋ 我来处理")  # a moment later: already taken
    answers = [
        c.params.get("text") for c in alerting.telegram.calls if c.method == "answerCallbackQuery"
    ]
    assert answers[-2:] == [
        "已确认：#2026-0001 由您处理，报告人已收到通知。",
        "这份报告已经有人确认处理了。",
    ]
    await alerting.drain()
    assert cast.new(cast.volunteer) == [
        "您的报告 #2026-0001 已由 督导二 于 2026年11月23日 10:00:00 确认处理。"
    ]
    alerting.services.now = lambda: NOW + timedelta(hours=3)
    assert await escalate_due(alerting.services) == 0
    await alerting.drain()
    assert cast.new(cast.admin) == []


async def test_an_unacknowledged_report_climbs_the_ladder(alerting: Sandbox) -> None:
    cast = Cast(alerting)
    await cast.setup()
    await urgent_report(cast)
    await alerting.drain()
    for person in cast.people:
        cast.new(person)
    alerting.services.now = lambda: NOW + timedelta(minutes=9)
    assert await escalate_due(alerting.services) == 0
    alerting.services.now = lambda: NOW + timedelta(minutes=10, seconds=1)
    assert await escalate_due(alerting.services) == 1
    await alerting.drain()
    for person in (cast.sup1, cast.sup2, cast.admin):
        [alert] = cast.new(person)
        assert alert.startswith("⚠ 紧急报告 #2026-0001 尚无人确认")
    assert cast.new(cast.director) == [] and cast.new(cast.west) == []
    assert len(cast.chat()) == 1
    alerting.services.now = lambda: NOW + timedelta(minutes=30, seconds=1)
    assert await escalate_due(alerting.services) == 1
    await alerting.drain()
    assert cast.chat()[-1] == "⚠ 紧急报告 #2026-0001 仍未确认：脱离监护单独居住（东村）。"
    alerting.services.now = lambda: NOW + timedelta(minutes=45)
    assert await escalate_due(alerting.services) == 0  # the next repeat is at 60 minutes
    alerting.services.now = lambda: NOW + timedelta(minutes=60, seconds=1)
    assert await escalate_due(alerting.services) == 1
    await alerting.drain()
    assert len(cast.chat()) == 3
    await cast.admin.press("✋ 我来处理")
    alerting.services.now = lambda: NOW + timedelta(minutes=91)
    assert await escalate_due(alerting.services) == 0


async def test_rounds_missed_while_down_come_as_one_alert(alerting: Sandbox) -> None:
    cast = Cast(alerting)
    await cast.setup()
    await urgent_report(cast)
    await alerting.drain()
    for person in cast.people:
        cast.new(person)
    # Down for two hours: rounds 1 (county), 2 (alert chat) and three repeats were missed.
    alerting.services.now = lambda: NOW + timedelta(hours=2, minutes=1)
    assert await escalate_due(alerting.services) == 1
    assert await escalate_due(alerting.services) == 0  # not one round every 30 seconds
    await alerting.drain()
    for person in (cast.sup1, cast.sup2, cast.admin):  # the county still hears of it, once
        [alert] = cast.new(person)
        assert alert.startswith("⚠ 紧急报告 #2026-0001 尚无人确认")
    assert cast.chat()[-1] == "⚠ 紧急报告 #2026-0001 仍未确认：脱离监护单独居住（东村）。"
    assert len(cast.chat()) == 2  # the first alert, then one for all that was missed
    alerting.services.now = lambda: NOW + timedelta(hours=2, minutes=30, seconds=1)
    assert await escalate_due(alerting.services) == 1  # the ladder goes on from there
    await alerting.drain()
    assert len(cast.chat()) == 3


async def test_a_restart_mid_ladder_neither_skips_nor_repeats(migrated: Settings) -> None:
    settings = migrated.model_copy(update={"alert_chat_id": ALERT_CHAT})
    first = Sandbox(settings)
    async with first:
        first.services.now = lambda: NOW
        cast = Cast(first)
        await cast.setup()
        case_id = await urgent_report(cast)
        await first.drain()
        first.services.now = lambda: NOW + timedelta(minutes=11)
        assert await escalate_due(first.services) == 1
    second = Sandbox(settings)  # the bot comes back 25 minutes later, after round 1 was planned
    async with second:
        second.services.now = lambda: NOW + timedelta(minutes=36)
        await second.drain()  # round 1's alerts, planned before the restart, go out now
        assert await escalate_due(second.services) == 1  # round 2, once
        assert await escalate_due(second.services) == 0
        other = Sandbox(settings)  # and a second instance on the same database at once
        async with other:
            other.services.now = second.services.now
            assert await escalate_due(other.services) == 0
        async with second.services.sessions() as session:
            keys = [
                o.key for o in await session.exec(select(Outbox).where(Outbox.case_id == case_id))
            ]
            rounds = [e.detail for e in await session.exec(
                select(CaseEvent).where(CaseEvent.kind == "escalated").order_by(col(CaseEvent.id))
            )]  # fmt: skip
    assert rounds == ["round=1", "round=2"]
    assert len(keys) == len(set(keys))
    assert sum(k.startswith(f"case:{case_id}:r2:") for k in keys) == 1  # the alert chat, once


async def test_delivery_failures_are_retried_or_recorded(alerting: Sandbox) -> None:
    cast = Cast(alerting)
    await cast.setup()
    telegram = alerting.telegram
    telegram.faults[1301] = [ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})]
    telegram.faults[1302] = [TimedOut()]
    telegram.blocked.add(1303)
    await urgent_report(cast)
    await alerting.drain()
    assert cast.new(cast.sup1) == [] and cast.new(cast.sup2) == []  # both wait for a retry
    alerting.services.now = lambda: NOW + timedelta(seconds=2)
    await alerting.drain()
    assert len(cast.new(cast.sup1)) == 1 and len(cast.new(cast.sup2)) == 1
    async with alerting.services.sessions() as session:
        director = (await session.exec(select(Person).where(Person.tg_user_id == 1303))).one()
        events = [e.kind for e in await session.exec(select(CaseEvent))]
        failed = (
            await session.exec(select(Outbox).where(col(Outbox.failed_at).is_not(None)))
        ).one()
    assert director.unreachable_at is not None and failed.chat_id == 1303
    assert "undeliverable" in events
    await cast.sup1.send("/people")
    assert (
        "东村主任 · 儿童主任 · 示范县/城关镇/东村 ⚠（已屏蔽机器人，收不到提醒）"
        in cast.sup1.last.text
    )


async def test_an_alert_nobody_receives_is_escalated_at_once(alerting: Sandbox) -> None:
    cast = Cast(alerting)
    await cast.setup()
    alerting.telegram.blocked.update({1301, 1302, 1303})
    await urgent_report(cast)
    await alerting.drain()
    assert await escalate_due(alerting.services) == 1  # without waiting ten minutes
    await alerting.drain()
    assert cast.new(cast.admin)[0].startswith("⚠ 紧急报告 #2026-0001 尚无人确认")


async def test_outsiders_cannot_open_or_take_a_case(alerting: Sandbox) -> None:
    cast = Cast(alerting)
    await cast.setup()
    case_id = await urgent_report(cast)
    await alerting.drain()
    for person in (cast.other_town, cast.west, cast.volunteer):
        await person.send("/help")
        await person.press_data(f"case:ack:{case_id}", person.last)
        await person.press_data(f"case:open:{case_id}", person.last)
        await person.press_data(f"case:res:{case_id}", person.last)
    async with alerting.services.sessions() as session:
        case = (await session.exec(select(Case))).one()
        views = [e for e in await session.exec(select(CaseEvent).where(CaseEvent.kind == "viewed"))]
    assert case.status == "open" and views == []


async def test_report_with_danger_now_says_110_first_then_the_case_is_resolved(
    alerting: Sandbox,
) -> None:
    cast = Cast(alerting)
    await cast.setup()
    volunteer = cast.volunteer
    await volunteer.send("/report")
    await volunteer.press("不在我名单上的儿童")
    await volunteer.send("不详")
    await volunteer.send("河边的废弃房子，东村村口")
    await volunteer.press("疑似遭受家暴、欺凌、虐待或不法侵害")
    replies = await volunteer.press("是，现在有危险")
    assert replies[0].text.startswith("🚨 请立即拨打 110 报警")  # before the next question
    await volunteer.send_photo()
    await volunteer.press("跳过")
    assert "🚨 请核对紧急报告" in volunteer.last.text
    await volunteer.press("✅ 确认保存")
    await alerting.drain()
    # the supervisor looks at the case list, opens the case, takes it and resolves it
    await cast.sup1.send("/cases")
    assert (
        "🚨 #2026-0001 · 疑似遭受家暴、欺凌、虐待或不法侵害 · 东村 · 0分钟前 · 待确认"
        in cast.sup1.last.text
    )
    await cast.sup1.press("查看 #2026-0001")
    view = cast.sup1.last.text
    assert "儿童：不详（示范县/城关镇/东村）" in view and "地点：河边的废弃房子" in view
    assert "附有语音或照片" in view and "报告人：王芳" in view
    await cast.sup1.press("✋ 我来处理", cast.sup1.last)
    await cast.sup1.press("✅ 办结")
    await cast.sup1.send("已联系派出所和村委会，孩子已由姑姑接走照顾")
    await cast.sup1.press("✅ 确认保存")
    assert cast.sup1.last.text == "#2026-0001 已办结，报告人已收到通知。"
    await alerting.drain()
    told = [m.text for m in volunteer.inbox[-2:]]
    assert told[0].startswith("您的报告 #2026-0001 已由 督导一")
    assert told[1] == "您的报告 #2026-0001 已处理完毕：已联系派出所和村委会，孩子已由姑姑接走照顾"
    async with alerting.services.sessions() as session:
        case = (await session.exec(select(Case))).one()
    assert (case.status, case.danger_now, case.urgent) == ("resolved", True, True)
    assert case.acknowledged_at is not None and case.resolved_at is not None


async def test_a_normal_report_alerts_without_a_ladder(alerting: Sandbox) -> None:
    cast = Cast(alerting)
    await cast.setup()
    volunteer = cast.volunteer
    await volunteer.send("/report")
    await volunteer.press("熊子")
    await volunteer.press("辍学")
    await volunteer.press("否")
    await volunteer.send("已经一周没去学校")
    await volunteer.press("跳过")
    await volunteer.press("✅ 确认保存")
    assert "报告已送达，编号 #2026-0001" in volunteer.last.text
    await alerting.drain()
    assert cast.new(cast.sup1)[0].startswith("📋 新报告 #2026-0001")
    assert cast.chat() == []  # the alert chat is for urgent reports
    alerting.services.now = lambda: NOW + timedelta(hours=2)
    assert await escalate_due(alerting.services) == 0


async def test_a_red_flag_in_a_check_in_leads_to_an_urgent_report(alerting: Sandbox) -> None:
    cast = Cast(alerting)
    await cast.setup()
    volunteer = cast.volunteer
    await volunteer.send("/checkin")
    for label in ["今天", "入户走访", "身体健康", "情绪良好", "正常上学", "儿童独自居住"]:
        await volunteer.press(label)
    await volunteer.send("奶奶住院，孩子一个人在家")
    for label in ["本月与父母有联系", "✅ 选好了", "跳过", "跳过", "✅ 确认保存"]:
        await volunteer.press(label)
    await volunteer.press("🚨 立即报告")
    summary = volunteer.last.text  # situation, child and the volunteer's words are filled in
    assert "儿童：熊子" in summary and "情形：脱离监护单独居住" in summary
    assert "奶奶住院，孩子一个人在家" in summary
    await volunteer.press("✅ 确认保存")
    await volunteer.press_data(f"urg:{1}", volunteer.inbox[-3])  # the same button again
    async with alerting.services.sessions() as session:
        [case] = (await session.exec(select(Case))).all()
    assert case.visit_id is not None and case.urgent


async def test_signs_of_harm_lead_to_a_report_of_suspected_harm_with_the_note(
    alerting: Sandbox,
) -> None:
    cast = Cast(alerting)
    await cast.setup()
    volunteer = cast.volunteer
    await volunteer.send("/checkin")
    for label in ["今天", "入户走访", "身体健康", "情绪良好", "正常上学", "有受伤害或被忽视的迹象"]:
        await volunteer.press(label)
    await volunteer.send("胳膊上有淤青，说是摔的")
    for label in ["本月与父母有联系", "✅ 选好了", "跳过", "跳过", "✅ 确认保存"]:
        await volunteer.press(label)
    await volunteer.press("🚨 立即报告")
    summary = volunteer.last.text
    assert "情形：疑似遭受家暴、欺凌、虐待或不法侵害" in summary
    assert "胳膊上有淤青，说是摔的" in summary
    await volunteer.press("✅ 确认保存")
    async with alerting.services.sessions() as session:
        [case] = (await session.exec(select(Case))).all()
    assert case.situation == "abuse" and case.description == "胳膊上有淤青，说是摔的"


async def test_a_report_is_saved_when_telegram_fails_at_confirm(alerting: Sandbox) -> None:
    """Record first, talk after: every Bot API call of the Confirm press fails, and still the
    report is stored, its alerts planned, and its reply delivered once Telegram is back."""
    cast = Cast(alerting)
    await cast.setup()
    volunteer, telegram = cast.volunteer, alerting.telegram
    await volunteer.send("/urgent")
    await volunteer.press("脱离监护单独居住")
    await volunteer.press("熊子")
    await volunteer.send("奶奶住院了，孩子一个人在家三天")
    telegram.method_faults["answerCallbackQuery"] = [ApiError(502, "Bad Gateway")]
    telegram.method_faults["editMessageReplyMarkup"] = [ApiError(502, "Bad Gateway")]
    telegram.faults[volunteer.user_id] = [ApiError(429, "Too Many Requests: retry after 3",
                                                   {"retry_after": 3})]  # fmt: skip
    await volunteer.press("✅ 确认保存")
    async with alerting.services.sessions() as session:
        assert len((await session.exec(select(Case))).all()) == 1
    assert not any("抱歉" in m.text for m in volunteer.inbox)  # no apology: nothing failed
    assert "紧急报告已送达" not in volunteer.last.text  # the reply waits for Telegram
    alerting.services.now = lambda: NOW + timedelta(seconds=4)
    await alerting.drain()
    assert "紧急报告已送达，编号 #2026-0001" in volunteer.last.text
    assert [len(cast.new(p)) for p in (cast.sup1, cast.sup2, cast.director)] == [1, 1, 1]
