"""Looking children up (/children, /child, the card), editing and adding them: each role sees
and changes only what it should."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from care.idcard import make_id
from care.roles import Role
from sandbox.harness import Sandbox
from storage.models import AuditLog, Child, ColourChange
from tests.conftest import child_id, pair_directly, register, seed_ledger

EAST = "示范县/城关镇/东村"


async def test_director_browses_their_village_with_filters(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1001, name="东村主任")
    await director.send("/children")
    listing = director.last
    assert "共 10 名" in listing.text
    names = [
        label.split(" · ")[0][2:] for label, data in listing.buttons if data.startswith("chc:")
    ]
    assert names == ["于怡沐", "于曦皓", "杜晨", "杜泽阳", "梁桐宇", "熊子", "薛子", "邹泽思",
                     "闫文思", "闫曦涵"]  # fmt: skip
    await director.press("🎨 按等级")
    await director.press("🟡 黄（中风险）")
    assert "共 2 名" in director.last.text
    labels = [label for label, _ in director.last.buttons]
    assert any(label.startswith("🟡 熊子 · 东村 · 12岁") for label in labels)


async def test_supervisor_pages_and_filters_by_village(box: Sandbox) -> None:
    await seed_ledger(box)
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1002, name="督导")
    await supervisor.send("/children")
    assert "共 21 名，第 1/3 页" in supervisor.last.text
    await supervisor.press("下一页 ▶")
    assert "第 2/3 页" in supervisor.last.text
    await supervisor.press("🏘 按村")
    assert [label for label, _ in supervisor.last.buttons] == [
        "全部村（社区）", "城关镇/东村", "城关镇/南社区", "城关镇/西村",
    ]  # fmt: skip
    await supervisor.press("城关镇/西村")
    assert "共 5 名" in supervisor.last.text
    await supervisor.press_data("chl:0:0:9:purple", supervisor.last)  # forged filter
    assert "共 5 名" in supervisor.last.text


async def test_card_shows_what_each_role_is_entitled_to(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1003, name="主任")
    supervisor = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1004, name="督导")
    volunteer = await register(box, Role.VOLUNTEER, EAST, user_id=1005, name="志愿者")

    await director.send("/child 于曦皓")
    card = director.last.text
    assert "身份证号：320999********" in card and "类别：农村留守儿童" in card
    assert "同户兄弟姐妹：于怡沐" in card and "尚无结对志愿者" in card
    assert [label for label, _ in director.last.buttons] == [
        "改风险等级", "改学校", "改监护人", "🔒 结案",
    ]  # fmt: skip

    await supervisor.send("/child 于曦皓")
    full = next(line for line in supervisor.last.text.splitlines() if "身份证号" in line)
    assert "*" not in full and len(full.split("：")[1]) == 18
    assert "结对" in [label for label, _ in supervisor.last.buttons]

    await volunteer.send("/child 于曦皓")
    assert "没有找到" in volunteer.last.text  # not paired with them
    await pair_directly(box, await child_id(box, "于曦皓"), 1005)
    await volunteer.send("/child 于曦")
    card = volunteer.last.text
    assert card.startswith("👤 于曦皓 · 男 · 12岁")
    for hidden in ("身份证号", "类别", "健康状况", "残疾"):
        assert hidden not in card
    assert "监护人：" in card and volunteer.last.buttons == []
    # a forged button for a child not paired with them
    other = await child_id(box, "于怡沐")
    assert await volunteer.press_data(f"chc:{other}", volunteer.last) == []
    refusal = [c.params for c in box.telegram.calls if c.method == "answerCallbackQuery"][-1]
    assert refusal == {"callback_query_id": refusal["callback_query_id"],
                       "text": "抱歉，您无权查看这名儿童的信息。", "show_alert": True}  # fmt: skip
    async with box.services.sessions() as session:
        views = (await session.exec(select(AuditLog).where(AuditLog.action == "child_view"))).all()
    assert len(views) == 3 and all(v.subject.startswith("child:") for v in views)


async def test_director_changes_a_colour_with_a_reason(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1006, name="主任")
    await director.send("/child 熊子")
    await director.press("改风险等级")
    await director.press("🟡 黄（中风险）")
    assert "这就是当前的等级" in director.last.text
    await director.press("🔴 红（高风险）")
    await director.send_sticker()
    assert "请用文字" in director.last.text or "调整原因" in director.last.text
    await director.send("父亲外出，祖母住院，孩子独自在家")
    assert "确认调整 熊子 的风险等级为：红（高风险）" in director.last.text
    await director.press("✅ 确认保存")
    assert director.last.text == "已保存 熊子 的信息。"
    async with box.services.sessions() as session:
        child = (await session.exec(select(Child).where(Child.name == "熊子"))).one()
        history = (
            await session.exec(
                select(ColourChange)
                .where(ColourChange.child_id == child.id)
                .order_by(col(ColourChange.id))
            )
        ).all()
    assert child.colour == "red"
    assert [(h.previous, h.colour) for h in history] == [(None, "yellow"), ("yellow", "red")]
    assert history[-1].reason == "父亲外出，祖母住院，孩子独自在家"


async def test_edits_outside_ones_area_or_role_are_refused(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1007, name="主任")
    volunteer = await register(box, Role.VOLUNTEER, EAST, user_id=1008, name="志愿者")
    elsewhere = await child_id(box, "曹诺若")  # 河口镇
    await director.send("/help")
    await director.press_data(f"ce:colour:{elsewhere}", director.last)
    await director.press_data("ce:colour:abc", director.last)
    await volunteer.send("/help")
    await volunteer.press_data(f"ce:colour:{await child_id(box, '熊子')}", volunteer.last)
    answers = [
        c.params.get("text") for c in box.telegram.calls if c.method == "answerCallbackQuery"
    ]
    assert answers[-3:] == [
        "抱歉，您的角色无权进行此操作。",
        "该按钮已失效。",
        "抱歉，您的角色无权进行此操作。",
    ]
    async with box.services.sessions() as session:
        changes = (
            await session.exec(select(ColourChange).where(ColourChange.reason != "ledger"))
        ).all()
    assert changes == []


async def test_school_and_guardian_edits_check_each_answer(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1009, name="主任")
    await director.send("/child 杜晨")
    card = director.last
    await director.press("改学校", card)
    await director.press("跳过")
    await director.press("辍学")
    assert "确认 杜晨 的学校：—（辍学）" in director.last.text
    await director.press("✅ 确认保存")
    await director.press("改监护人", card)
    await director.send("杜大山")
    await director.send("祖父")
    await director.send("12345")
    assert "电话号码格式不对" in director.last.text
    await director.send("138 1234 5678")
    assert "电话 13812345678" in director.last.text
    await director.press("✏️ 修改某项")
    await director.press("关系")
    await director.send("伯父")
    assert "杜大山（伯父）" in director.last.text
    await director.press("✅ 确认保存")
    async with box.services.sessions() as session:
        child = (await session.exec(select(Child).where(Child.name == "杜晨"))).one()
        edits = (await session.exec(select(AuditLog).where(AuditLog.action == "child_edit"))).all()
    assert (child.school, child.schooling) == (None, "辍学")
    assert (child.guardian_name, child.guardian_relation, child.guardian_phone) == (
        "杜大山",
        "伯父",
        "13812345678",
    )
    assert [e.detail for e in edits] == [
        "school,schooling",
        "guardian_name,guardian_relation,guardian_phone",
    ]


async def test_add_a_child_with_and_without_an_id_number(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await register(box, Role.DIRECTOR, EAST, user_id=1010, name="主任")
    await director.send("/addchild")
    await director.send("新来的")
    await director.send("320999201312157880")  # 孔涵's number
    assert "已登记在另一名儿童名下" in director.last.text
    await director.send("320999201312157881")
    assert "校验位错误" in director.last.text
    await director.press("跳过")
    await director.press("女")
    await director.send("2009-05-01")
    await director.press("农村留守儿童")
    assert "超出“农村留守儿童”的年龄" in director.last.text
    await director.press("其他困境儿童")
    await director.press("🔵 蓝（低风险）")
    assert [label for label, _ in director.last.buttons] == ["东村"]  # their own village only
    await director.press("东村")
    await director.send("H0013")  # the household of 于曦皓 and 于怡沐
    await director.send("于奶奶")
    await director.send("祖母")
    await director.press("跳过")
    await director.press("是")
    summary = director.last.text
    assert "姓名：新来的（女）" in summary and "户号：H0013" in summary
    await director.press("✅ 确认保存")
    assert director.last.text == "已新增儿童 新来的。"
    await director.send("/child 于曦皓")
    assert "同户兄弟姐妹：" in director.last.text and "新来的" in director.last.text

    await director.send("/addchild")
    await director.send("小明")
    await director.send("320999201409271372")
    assert "已登记" in director.last.text  # 熊子

    await director.send(make_id("320999", date(2016, 6, 1), 13))
    # with an ID number, gender and birth date come from it: next is the category
    assert "儿童类别" in director.last.text
    await director.send("/cancel")
    assert "已取消" in director.last.text
    async with box.services.sessions() as session:
        added = (await session.exec(select(Child).where(Child.name == "新来的"))).one()
        assert (await session.exec(select(Child).where(Child.name == "小明"))).first() is None
    assert (added.gender, added.birth_date.isoformat(), added.consent) == (
        "female",
        "2009-05-01",
        True,
    )
