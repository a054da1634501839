"""Joining by invite: the happy path in both languages and every refusal."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from care.roles import Role
from sandbox.harness import Sandbox
from storage.models import AuditLog, Invite, Person
from tests.conftest import make_invite, register


async def all_people(box: Sandbox) -> list[Person]:
    async with box.services.sessions() as session:
        return list(await session.exec(select(Person)))


async def test_unknown_person_is_told_the_bot_is_invite_only(box: Sandbox) -> None:
    stranger = box.person(501, "Stranger")
    replies = await stranger.send("/start")
    assert len(replies) == 1
    assert "仅限受邀人员" in replies[0].text
    assert replies[0].buttons == []
    await stranger.send("hello")
    assert "仅限受邀人员" in stranger.last.text
    assert await all_people(box) == []


async def test_register_with_invite_in_chinese(box: Sandbox) -> None:
    code = await make_invite(box, Role.VOLUNTEER, "示范县/城关镇/东村")
    volunteer = box.person(502, "Fang", "zh-hans")
    replies = await volunteer.send(f"/start {code}")
    assert "结对志愿者" in replies[0].text
    assert [label for label, _ in volunteer.last.buttons] == ["中文", "English"]
    await volunteer.press("中文")
    assert "请输入您的姓名" in volunteer.last.text
    await volunteer.send("  王   芳 ")
    assert "性别" in volunteer.last.text
    replies = await volunteer.press("女")
    assert "注册完成，王 芳" in replies[-1].text
    assert "/help" in replies[-1].text and "/invite" not in replies[-1].text

    [person] = await all_people(box)
    assert (person.name, person.role, person.gender, person.locale) == (
        "王 芳",
        "volunteer",
        "female",
        "zh_CN",
    )
    assert box.telegram.chat_commands(502) == [
        "urgent",
        "report",
        "checkin",
        "mychildren",
        "help",
        "language",
        "cancel",
        "child",
    ]
    async with box.services.sessions() as session:
        invite = (await session.exec(select(Invite))).one()
        actions = [a.action for a in await session.exec(select(AuditLog))]
    assert invite.used_by == person.id and invite.used_at is not None
    assert actions == ["invite", "register"]


async def test_register_in_english_switches_language_at_once(box: Sandbox) -> None:
    code = await make_invite(box, Role.SUPERVISOR, "示范县/城关镇")
    person = box.person(503, "Lily", "zh-hans")
    await person.send(f"/start {code}")
    await person.press("English")
    assert person.last.text.startswith("Please type your name")
    await person.send("Lily Chen")
    assert "gender" in person.last.text
    await person.press("female")
    assert "You are registered, Lily Chen" in person.last.text
    assert "/invite — Invite someone" in person.last.text
    await person.send("/help")
    assert person.last.text.startswith("Your role: children's supervisor")


async def test_telegram_language_picks_the_first_language(box: Sandbox) -> None:
    english = box.person(504, "Tom", "en-GB")
    await english.send("/start")
    assert english.last.text.startswith("Hello!")
    traditional = box.person(505, "Mei", "zh-hant")
    await traditional.send("/start")
    assert traditional.last.text.startswith("您好")
    nobody_knows = box.person(506, "X", None)
    await nobody_knows.send("/start")
    assert nobody_knows.last.text.startswith("您好")


async def test_used_invite_is_refused(box: Sandbox) -> None:
    code = await make_invite(box, Role.VOLUNTEER, "示范县/城关镇/东村")
    first = box.person(510, "A")
    await first.send(f"/start {code}")
    await first.press("中文")
    await first.send("甲")
    await first.press("男")
    second = box.person(511, "B")
    replies = await second.send(f"/start {code}")
    assert len(replies) == 1 and "已被使用" in replies[0].text
    assert [p.tg_user_id for p in await all_people(box)] == [510]


async def test_expired_invite_is_refused(box: Sandbox) -> None:
    code = await make_invite(box, Role.VOLUNTEER, "示范县/城关镇/东村")
    start = box.services.now()
    box.services.now = lambda: start + timedelta(days=7, seconds=1)
    person = box.person(512, "Late")
    replies = await person.send(f"/start {code}")
    assert len(replies) == 1 and "已过期" in replies[0].text
    assert await all_people(box) == []


async def test_invite_expiring_during_registration_writes_nothing(box: Sandbox) -> None:
    code = await make_invite(box, Role.VOLUNTEER, "示范县/城关镇/东村")
    start = box.services.now()
    person = box.person(513, "Slow")
    await person.send(f"/start {code}")
    await person.press("中文")
    await person.send("慢慢")
    box.services.now = lambda: start + timedelta(days=8)
    await person.press("女")
    assert "已过期" in person.last.text
    assert await all_people(box) == []


async def test_unknown_and_malformed_codes_are_refused(box: Sandbox) -> None:
    person = box.person(514, "Guess")
    for code in ("abc", "x" * 200, "<script>", "a" * 24):
        replies = await person.send(f"/start {code}")
        assert len(replies) == 1 and "邀请码无效" in replies[0].text
    assert await all_people(box) == []


async def test_invite_used_by_someone_else_mid_registration(box: Sandbox) -> None:
    code = await make_invite(box, Role.VOLUNTEER, "示范县/城关镇/东村")
    slow, fast = box.person(515, "Slow"), box.person(516, "Fast")
    await slow.send(f"/start {code}")
    await slow.press("中文")
    await slow.send("慢")
    await fast.send(f"/start {code}")
    await fast.press("中文")
    await fast.send("快")
    await fast.press("男")
    await slow.press("女")
    assert "已被使用" in slow.last.text
    assert [p.name for p in await all_people(box)] == ["快"]


async def test_deactivated_person_is_treated_as_unknown(box: Sandbox) -> None:
    admin = await register(box, Role.ADMIN, "示范县", user_id=520, name="老李")
    await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=522, name="张督导")
    volunteer = await register(box, Role.VOLUNTEER, "示范县/城关镇/东村", user_id=521, name="小王")
    await admin.send("/people")
    await admin.press("停用 小王")
    assert "确定停用 小王" in admin.last.text
    await admin.press("确定停用")
    assert "已停用 小王" in admin.last.text
    assert box.telegram.chat_commands(521) == ["start", "help"]  # back to the guest menu

    # told that their access ended, when, and whom to ask: who deactivated them, the
    # supervisor of their town; in every answer a stranger would get
    ended = (
        f"您使用本机器人的权限已于 {box.services.translator().date(box.services.today())} 停用。"
        "如有疑问或需要恢复，请联系：老李（管理员）、张督导（儿童督导员）。"
    )
    await volunteer.send("/help")
    assert volunteer.last.text.startswith(ended) and "仅限受邀人员" in volunteer.last.text
    for attempt in ("/language", "/checkin", "你好", "/start"):
        await volunteer.send(attempt)
        assert volunteer.last.text == ended, attempt
    english = await register(box, Role.VOLUNTEER, "示范县/城关镇/东村", user_id=523, name="Li",
                             language="English")  # fmt: skip
    await admin.send("/people")
    await admin.press("停用 Li")
    await admin.press("确定停用")
    await english.send("/mychildren")  # in the language they chose
    assert english.last.text.startswith("Your access to this bot ended on ")
    assert english.last.text.endswith(
        "please contact: 老李 (administrator), 张督导 (children's supervisor)."
    )
    # a new invite brings them back, with the new role and area
    await register(box, Role.DIRECTOR, "示范县/城关镇/西村", user_id=521, name="小王")
    await volunteer.send("/help")
    assert volunteer.last.text.startswith("您的角色：儿童主任")


async def test_registered_person_using_start_again(box: Sandbox) -> None:
    person = await register(box, Role.VOLUNTEER, "示范县/城关镇/东村", user_id=530, name="阿明")
    await person.send("/start")
    assert "欢迎回来" in person.last.text
    code = await make_invite(box, Role.ADMIN, "示范县")
    await person.send(f"/start {code}")
    assert "您已注册" in person.last.text
    async with box.services.sessions() as session:
        invite = (await session.exec(select(Invite).where(Invite.role == "admin"))).one()
    assert invite.used_at is None  # not consumed by someone already registered


async def test_bad_input_during_onboarding(box: Sandbox) -> None:
    code = await make_invite(box, Role.VOLUNTEER, "示范县/城关镇/东村")
    person = box.person(540, "Messy")
    await person.send(f"/start {code}")
    # language step: text, sticker, photo, a foreign button, a command
    for act in (person.send("中文"), person.send_sticker(), person.send_photo()):
        replies = await act
        assert "请点击下方按钮" in replies[0].text
        assert [label for label, _ in replies[0].buttons] == ["中文", "English"]
    await person.press_data("ppl:off:1", person.last)
    assert [label for label, _ in person.last.buttons] == ["中文", "English"]
    await person.send("/help")
    assert "请先完成当前步骤" in person.last.text
    await person.press("中文")
    # name step
    await person.send_sticker()
    assert "请用文字回答" in person.last.text
    await person.send("名" * 41)
    assert "1到40个字" in person.last.text
    await person.send("/people")
    assert "请先完成当前步骤" in person.last.text
    await person.send("好名字")
    # gender step: a stale language button from earlier
    language_message = next(m for m in person.inbox if m.text == "语言：中文")
    await person.press_data("ob:lang:en", language_message)
    assert "性别" in person.last.text
    await person.press_data("ob:gender:unknown", person.last)
    assert "性别" in person.last.text
    assert await all_people(box) == []
    await person.press("男")
    assert "注册完成" in person.last.text


async def test_cancel_leaves_nothing_and_the_invite_still_works(box: Sandbox) -> None:
    code = await make_invite(box, Role.VOLUNTEER, "示范县/城关镇/东村")
    person = box.person(550, "Undecided")
    await person.send(f"/start {code}")
    await person.press("中文")
    await person.send("/cancel")
    assert "已取消" in person.last.text
    await person.send("某某")
    assert "仅限受邀人员" in person.last.text  # no flow is waiting any more
    assert await all_people(box) == []
    await person.send("/cancel")
    assert "当前没有进行中的操作" in person.last.text
    await person.send(f"/start {code}")
    await person.press("中文")
    await person.send("某某")
    await person.press("女")
    assert "注册完成" in person.last.text


async def test_start_in_a_group_points_to_private_chat(box: Sandbox) -> None:
    person = box.person(560, "Grouped").in_group(-100123)
    replies = await person.send("/start abc")
    assert len(replies) == 1 and "私聊" in replies[0].text
