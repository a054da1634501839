"""/checkin: the whole flow in both languages, every follow-up, editing, a restart midway,
duplicate delivery, forged and stale buttons, and what stays in the chat afterwards."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import select

from care.access import ChildScope
from care.roles import Role
from care.visits import Care, CheckIn, Health, Mode, Mood, Parents, Study
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from settings import Settings
from storage import visits
from storage.models import Pairing, Visit
from tests.conftest import child_id, pair_directly, register, seed_ledger, watch_errors
from workers.drafts import sweep

EAST = "示范县/城关镇/东村"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def volunteer_with(box: Sandbox, *names: str, language: str = "中文") -> SimPerson:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    person = await register(box, Role.VOLUNTEER, EAST, user_id=1200, name="王芳", language=language)
    for name in names:
        await pair_directly(box, await child_id(box, name), 1200)  # paired on 2026-03-01
    return person


async def stored_visits(box: Sandbox) -> list[Visit]:
    async with box.services.sessions() as session:
        return list((await session.exec(select(Visit))).all())


HAPPY = ["今天", "入户走访", "身体健康", "情绪良好", "正常上学", "照料良好", "本月与父母有联系",
         "☐ 防溺水", "☐ 交通安全", "✅ 选好了", "跳过", "跳过", "✅ 确认保存"]  # fmt: skip


async def test_happy_path_by_tapping_only(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    chat_before = {m.message_id for m in volunteer.inbox}
    await volunteer.send("/checkin")  # one child: no need to choose
    assert volunteer.last.text == "走访日期："
    taps = 0
    for label in HAPPY:
        await volunteer.press(label)
        taps += 1
    assert taps <= 15
    [visit] = await stored_visits(box)
    assert (visit.visited_on.isoformat(), visit.mode, visit.health, visit.care) == (
        "2026-11-23", "home", "good", "good",
    )  # fmt: skip
    assert visit.safety == "drowning,traffic" and visit.red_flags == ""
    # the flow's questions and answers left the chat: the receipt and the next due date stay
    new = [m.text for m in volunteer.inbox if m.message_id not in chat_before]
    assert new == [
        "✅ 子 · 2026年11月23日 · 走访已记录",
        "走访已记录。熊子 下次走访请不晚于 2026年12月8日。",
    ]
    remaining = [c.get("text") for c in box.telegram.from_people[1200].values()]
    assert "/checkin" not in remaining  # the person's own messages of the flow are gone too


async def test_english_with_two_children_overdue_first(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子", "薛子", language="English")
    earlier = NOW.date() - timedelta(days=3)  # a visit three days ago, stored as a check-in is
    child = await child_id(box, "薛子")
    async with box.services.engine.begin() as connection:
        await visits.save(
            connection,
            CheckIn(
                child_id=child, visited_on=earlier, mode=Mode.HOME,
                health=Health.GOOD, mood=Mood.GOOD, study=Study.NORMAL, care=Care.GOOD,
                parents=Parents.CONTACTED, draft_key="old",
            ),
            person_id=1, scope=ChildScope(area_path=EAST), rule=box.services.settings.visit_rule,
        )  # fmt: skip
    await volunteer.send("/checkin")
    assert volunteer.last.text == "Which child did you visit?"
    assert [label for label, _ in volunteer.last.buttons] == ["⏰ 熊子 (252 days overdue)", "薛子"]
    await volunteer.press("⏰ 熊子 (252 days overdue)")
    for label in ["Today", "phone or video", "healthy", "in good spirits", "at school as usual",
                  "well looked after", "in touch with the parents this month", "✅ Done",
                  "Skip", "Skip"]:  # fmt: skip
        await volunteer.press(label)
    assert "Please check the visit: 熊子, November 23, 2026" in volunteer.last.text
    assert "Safety lessons: (none)" in volunteer.last.text
    await volunteer.press("✅ Save")
    assert volunteer.last.text == "The visit is recorded. Visit 熊子 again by December 8, 2026."


async def test_every_follow_up_and_red_flags(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    await volunteer.press("昨天")
    await volunteer.press("电话/视频")
    await volunteer.press("有小病或不适")
    assert "身体情况" in volunteer.last.text
    await volunteer.send("感冒发烧两天")
    await volunteer.press("情绪低落")
    await volunteer.send("想妈妈")
    await volunteer.press("有辍学风险")
    await volunteer.send("说不想上学了")
    await volunteer.press("儿童独自居住")
    assert "只需描述所见" in volunteer.last.text
    await volunteer.send("祖母住院，孩子一个人在家")
    await volunteer.press("本月与父母无联系")
    await volunteer.press("跳过")
    await volunteer.press("☐ 防溺水")
    await volunteer.press("☑ 防溺水")  # unticked again
    await volunteer.press("☐ 网络安全")
    await volunteer.press("✅ 选好了")
    await volunteer.send("想要一个书包")
    await volunteer.send_voice()
    summary = volunteer.last.text
    for part in ("有小病或不适：感冒发烧两天", "有辍学风险：说不想上学了", "安全教育：网络安全",
                 "心愿：想要一个书包", "🎤 语音", "⚠ 危险信号：独自居住、辍学风险"):  # fmt: skip
        assert part in summary, part
    replies = await volunteer.press("✅ 确认保存")
    assert "⚠ 已记录危险信号：独自居住、辍学风险" in replies[-1].text and "110" in replies[-1].text
    [visit] = await stored_visits(box)
    assert visit.visited_on.isoformat() == "2026-11-22"
    assert visit.red_flags == "living_alone,dropout_risk"
    assert json.loads(visit.notes) == {
        "health": "感冒发烧两天", "mood": "想妈妈", "study": "说不想上学了",
        "care": "祖母住院，孩子一个人在家",
    }  # fmt: skip
    assert visit.problems_voice is not None and visit.safety == "online"


async def test_change_an_answer_from_the_summary(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    for label in HAPPY[:-1]:
        await volunteer.press(label)
    await volunteer.press("✏️ 修改某项")
    await volunteer.press("照料")
    await volunteer.press("照料不足")
    await volunteer.send("家里很乱，饭菜不够")  # the follow-up the new answer needs
    assert "照料不足：家里很乱，饭菜不够" in volunteer.last.text
    await volunteer.press("✅ 确认保存")
    [visit] = await stored_visits(box)
    assert visit.care == "weak" and visit.safety == "drowning,traffic"


async def test_dates_are_checked(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    await volunteer.press("其他日期")
    for typed, problem in (("明天", "无法识别的日期"), ("2026-12-01", "不能晚于今天"),
                           ("2026-02-01", "不能早于结对开始（2026年3月1日）"),
                           ("2026-09-01", "只能补记60天内")):  # fmt: skip
        await volunteer.send(typed)
        assert problem in volunteer.last.text, typed
    await volunteer.send("11月20日")
    assert volunteer.last.text == "走访方式："


async def test_bad_input_at_every_kind_of_step(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    question = volunteer.last.text
    for act in (volunteer.send("今天"), volunteer.send_sticker(), volunteer.send_photo(),
                volunteer.send_voice(), volunteer.send("/children")):  # fmt: skip
        replies = await act
        assert replies[-1].text.endswith(question) and replies[-1].buttons
    await volunteer.press_data("ci:a:2099-01-01", volunteer.last)  # forged choice
    assert volunteer.last.text.endswith(question)
    await volunteer.press_data("ob:lang:en", volunteer.last)  # another flow's old button
    assert volunteer.last.text.endswith(question)
    await volunteer.press("今天")
    old = next(m for m in volunteer.inbox if m.text == "走访日期：")
    await volunteer.press_data("ci:a:yesterday", old)  # the keyboard is gone from that one
    assert volunteer.last.text.endswith("走访方式：")
    # someone else's button in a shared chat never reaches the flow
    await volunteer.in_group(-100777).press_data("ci:a:home", volunteer.last)
    assert await stored_visits(box) == []
    await volunteer.send("/cancel")
    assert "已取消" in volunteer.last.text
    await volunteer.press_data("ci:a:home", volunteer.inbox[-2])
    assert await stored_visits(box) == []


async def test_confirm_twice_and_duplicate_delivery_store_one_visit(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    for label in HAPPY[:-1]:
        await volunteer.press(label)
    summary = volunteer.last
    await volunteer.press("✅ 确认保存")
    await box.deliver(volunteer.last_update)  # Telegram delivers the same update again
    await volunteer.press_data("ci:ok", summary)  # and the person presses again
    assert len(await stored_visits(box)) == 1


async def test_a_child_unpaired_before_confirm_is_not_saved(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    for label in HAPPY[:-1]:
        await volunteer.press(label)
    async with box.services.sessions.begin() as session:  # a supervisor unpairs meanwhile
        await session.exec(update(Pairing).values(ended_on=NOW.date()))
    await volunteer.press("✅ 确认保存")
    assert volunteer.last.text.startswith("抱歉，这名儿童已不在您的走访名单中")
    assert volunteer.last.buttons == [] and await stored_visits(box) == []
    await volunteer.send("你好")  # the flow is over: no question of it comes back
    assert volunteer.last.text == "抱歉，我没有理解。发送 /help 查看可用命令。"


async def test_a_restart_midway_continues_where_it_stopped(migrated: Settings) -> None:
    first = Sandbox(migrated)
    async with first:  # the bot runs, the volunteer answers four questions, the bot stops
        volunteer = await volunteer_with(first, "熊子")
        await volunteer.send("/checkin")
        for label in HAPPY[:4]:
            await volunteer.press(label)
        asked = volunteer.last
        assert asked.text.endswith("学习和上学情况：")
    errors = watch_errors(second := Sandbox(migrated))
    async with second:  # a new process on the same database
        second.services.now = lambda: NOW
        second.telegram.chats[1200] = volunteer.inbox  # the same chat on the person's screen
        again = second.person(1200, "王芳")
        await again.press("正常上学", asked)
        assert again.last.text.endswith("监护和照料情况：")
        for label in HAPPY[5:]:
            await again.press(label)
        assert "走访已记录" in again.last.text
        assert len(await stored_visits(second)) == 1
    assert errors == []


async def test_unfinished_check_in_is_reminded_then_dropped(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子")
    await volunteer.send("/checkin")
    await volunteer.press("今天")
    await sweep(box.application)
    assert volunteer.last.text.endswith("走访方式：")  # nothing yet
    box.services.now = lambda: NOW + timedelta(hours=25)
    await sweep(box.application)
    await box.drain()  # the reminder goes through the outbox
    assert "还没有填完" in volunteer.last.text
    await sweep(box.application)
    await box.drain()
    assert sum("还没有填完" in m.text for m in volunteer.inbox) == 1  # one reminder only
    box.services.now = lambda: NOW + timedelta(days=8)
    await sweep(box.application)
    await box.drain()
    assert "已被清除" in volunteer.last.text
    await volunteer.press("入户走访")
    assert "已过期或已取消" in volunteer.last.text
    await volunteer.send("/checkin")
    assert volunteer.last.text == "走访日期："  # a fresh start works


async def test_my_children_and_the_card_show_visits(box: Sandbox) -> None:
    volunteer = await volunteer_with(box, "熊子", "薛子")
    await volunteer.send("/mychildren")
    text = volunteer.last.text
    assert "⏰ 熊子：上次 尚未走访，已逾期 252 天" in text and "本年 0/6 次" in text
    await volunteer.press("记录走访：熊子")
    for label in HAPPY:
        await volunteer.press(label)
    await volunteer.send("/mychildren")
    assert "熊子：上次 2026年11月23日，下次不晚于 2026年12月8日，本年 1/6 次" in volunteer.last.text
    await volunteer.send("/child 熊子")
    assert "最近走访：\n📅 2026年11月23日 · 王芳 · 入户走访" in volunteer.last.text
    # a supervisor sees the visit at once
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1201, name="督导")
    await supervisor.send("/child 熊子")
    assert "📅 2026年11月23日 · 王芳" in supervisor.last.text


async def test_directors_check_in_children_of_their_village_only(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1202, name="主任")
    await director.send("/checkin")
    assert len(director.last.buttons) == 10
    elsewhere = await child_id(box, "曹诺若")
    await director.press_data(f"cin:{elsewhere}", director.last)
    assert "无权查看" in director.last.text
    await director.send("/checkin")
    await director.press_data(f"ci:a:{elsewhere}", director.last)
    assert director.last.text.endswith("走访了哪名儿童？")
