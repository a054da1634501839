"""Ledger (台账) import and export, from chat and from the command line."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
from sqlmodel import col, select

from bot import import_ledger
from care.idcard import make_id
from care.ledger import LEDGER_COLUMNS
from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from settings import Settings
from storage import migrate
from storage.db import Sessions, make_engine, make_sessions
from storage.models import AuditLog, Child, ColourChange
from tests.conftest import exported_ledger, register, sql

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE_XLSX = (FIXTURES / "ledger-sample.xlsx").read_bytes()
SAMPLE_CSV = (FIXTURES / "ledger-sample.csv").read_bytes()

DUMP = """
SELECT c.name, c.gender, c.birth_date, c.id_number, c.category, c.colour, a.path, h.code,
       c.school, c.guardian_phone, c.lunar_month, c.lunar_day,
       CASE WHEN c.lunar_leap THEN 1 ELSE 0 END,
       CASE WHEN c.consent IS NULL THEN NULL WHEN c.consent THEN 1 ELSE 0 END
FROM child c JOIN area a ON a.id = c.area_id LEFT JOIN household h ON h.id = c.household_id
ORDER BY c.id_number
"""


async def dump(sessions: Sessions) -> list[tuple[object, ...]]:
    async with sessions() as session:
        return [tuple(str(v) for v in row) for row in (await sql(session, DUMP)).all()]


async def admin(box: Sandbox) -> SimPerson:
    return await register(box, Role.ADMIN, "示范县", user_id=900, name="县管理员")


async def test_chat_import_dry_run_then_confirm(box: Sandbox) -> None:
    person = await admin(box)
    await person.send_document("ledger-sample.xlsx", SAMPLE_XLSX)
    dry = person.last.text
    assert "尚未写入" in dry and "新增 40 名，更新 0 名，无变化 0 名，拒绝 0 行" in dry
    async with box.services.sessions() as session:
        assert (await session.exec(select(Child))).all() == []  # the dry run wrote nothing
    await person.press("✅ 确认导入")
    assert "导入完成：新增 40 名" in person.last.text
    assert len(await dump(box.services.sessions)) == 40
    # a second press of the (removed) button, delivered anyway, writes nothing more
    confirm = next(m for m in person.inbox if "确认写入" in m.text)
    await person.press_data("imp:ok", confirm)
    assert len(await dump(box.services.sessions)) == 40

    # the same ledger again: nothing to write; the CSV layout gives the same children
    for name, data in (("again.xlsx", SAMPLE_XLSX), ("same.csv", SAMPLE_CSV)):
        await person.send_document(name, data)
        assert "新增 0 名，更新 0 名，无变化 40 名" in person.last.text
        assert "没有可写入的内容" in person.last.text and not person.last.buttons


async def test_chat_and_command_line_give_the_same_records(box: Sandbox, tmp_path: Path) -> None:
    person = await admin(box)
    await person.send_document("ledger-sample.xlsx", SAMPLE_XLSX)
    await person.press("✅ 确认导入")
    from_chat = await dump(box.services.sessions)

    other = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
    )
    engine = make_engine(other.database_url)
    await migrate.upgrade(engine)
    ledger = tmp_path / "ledger.xlsx"
    ledger.write_bytes(SAMPLE_XLSX)
    assert await import_ledger(other, ledger, dry_run=True, area=None) == 0
    assert await dump(make_sessions(engine)) == []
    assert await import_ledger(other, ledger, dry_run=False, area=None) == 0
    assert await dump(make_sessions(engine)) == from_chat
    await engine.dispose()


async def test_export_reimports_without_changes_and_is_audited(box: Sandbox) -> None:
    person = await admin(box)
    await person.send_document("ledger-sample.csv", SAMPLE_CSV)
    await person.press("✅ 确认导入")
    await person.send("/export")
    exported = person.inbox[-2]
    assert exported.document is not None and exported.document["file_name"].endswith(".zip")
    assert "勿转发到群聊" in exported.text and person.last.text.startswith("压缩包密码：")
    content = exported_ledger(person)
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert workbook.sheetnames == ["困境儿童和留守儿童台账", "结对情况", "最近走访"]
    header = next(workbook.worksheets[0].iter_rows(values_only=True))
    assert tuple(header) == LEDGER_COLUMNS
    await person.send_document("export.xlsx", content)
    assert "新增 0 名，更新 0 名，无变化 40 名，拒绝 0 行" in person.last.text
    async with box.services.sessions() as session:
        actions = [a.action for a in await session.exec(select(AuditLog))]
    assert "export" in actions


async def test_updated_ledger_updates_matching_children_and_records_what_changed(
    box: Sandbox,
) -> None:
    person = await admin(box)
    await person.send_document("ledger-sample.csv", SAMPLE_CSV)
    await person.press("✅ 确认导入")
    rows = list(csv.reader(io.StringIO(SAMPLE_CSV.decode("utf-8-sig"))))
    header = rows[0]
    rows[1][header.index("风险等级")] = "红"
    rows[2][header.index("学校")] = "新学校"
    changed = io.StringIO()
    csv.writer(changed).writerows(rows)
    await person.send_document("updated.csv", changed.getvalue().encode())
    assert "新增 0 名，更新 2 名，无变化 38 名" in person.last.text
    await person.press("✅ 确认导入")
    id_number = rows[1][header.index("身份证号")]
    async with box.services.sessions() as session:
        child = (await session.exec(select(Child).where(Child.id_number == id_number))).one()
        history = (
            await session.exec(
                select(ColourChange)
                .where(ColourChange.child_id == child.id)
                .order_by(col(ColourChange.id))
            )
        ).all()
        updates = (
            await session.exec(select(AuditLog).where(AuditLog.action == "ledger_update"))
        ).all()
    assert child.colour == "red"
    assert [(h.previous, h.colour) for h in history] == [(None, "blue"), ("blue", "red")]
    assert sorted(u.detail for u in updates) == ["colour", "school"]
    assert all(id_number not in u.detail for u in updates)  # no personal data in the audit


def bad_ledger() -> bytes:
    """One good row and one row for each kind of mistake town offices make."""
    good = make_id("320999", date(2015, 3, 1), 12)  # even sequence: a girl
    base = {
        "姓名": "好孩子", "性别": "女", "出生日期": "2015-03-01", "身份证号": good,
        "儿童类别": "农村留守儿童", "风险等级": "蓝", "县(区)": "示范县", "镇(街道)": "城关镇",
        "村(社区)": "东村", "监护人电话": "13812345678", "户号": "H9",
    }  # fmt: skip
    wrong_digit = good[:-1] + ("0" if good[-1] != "0" else "1")
    old = make_id("320999", date(2005, 1, 1), 11)
    future = make_id("320999", date(2030, 1, 1), 12)
    girl = [make_id("320999", date(2015, 3, 1), 2 * n) for n in range(20, 30)]
    bad = [
        {"身份证号": wrong_digit},
        {"儿童类别": "普通儿童", "身份证号": girl[0]},
        {"风险等级": "紫", "身份证号": girl[1]},
        {"出生日期": "2030-01-01", "身份证号": future},
        {"出生日期": "2005-01-01", "身份证号": old, "性别": "男"},
        {"身份证号": good},  # the same ID as the good row
        {"姓名": "", "身份证号": girl[2]},
        {"村(社区)": "", "身份证号": girl[3]},
        {"监护人电话": "12345", "身份证号": girl[4]},
        {"性别": "未知", "身份证号": girl[5]},
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(base))
    writer.writeheader()
    writer.writerow(base)
    for changes in bad:
        writer.writerow({**base, **changes})
    return out.getvalue().encode("utf-8-sig")


async def test_bad_rows_are_reported_row_by_row_and_never_written(box: Sandbox) -> None:
    person = await admin(box)
    await person.send_document("bad.csv", bad_ledger())
    report = person.last.text
    assert "新增 0 名" in report and "拒绝 11 行" in report  # the good row's ID is duplicated
    for expected in (
        "第 3 行「身份证号」：身份证号校验位错误",
        "第 4 行「儿童类别」：无法识别的儿童类别：普通儿童",
        "第 5 行「风险等级」：无法识别的风险等级：紫",
        "第 6 行「出生日期」：出生日期 2030-01-01 晚于今天",
        "第 7 行「儿童类别」：21岁，已超出“农村留守儿童”的年龄（应小于16岁）",
        "第 2 行「身份证号」：身份证号与第 8 行重复",
        "第 9 行「姓名」：不能为空",
        "第 10 行「村(社区)」：不能为空",
        "第 11 行「监护人电话」：电话号码格式不对：12345",
        "第 12 行「性别」：无法识别的性别：未知",
    ):
        assert any(line.startswith("• " + expected) for line in report.splitlines()), expected
    assert "没有可写入的内容" in report and not person.last.buttons
    async with box.services.sessions() as session:
        assert (await session.exec(select(Child))).all() == []
        assert (await sql(session, "SELECT count(*) FROM area")).one()[0] == 1


async def test_rows_outside_the_importers_area_are_rejected(box: Sandbox) -> None:
    await register(box, Role.VOLUNTEER, "示范县/河口镇/柳树村", user_id=901, name="占位")
    person = await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=902, name="城关督导")
    await person.send_document("ledger-sample.xlsx", SAMPLE_XLSX)
    text_ = person.last.text
    assert "新增 21 名" in text_ and "拒绝 19 行" in text_
    assert "该村不在您的管辖范围（示范县/城关镇）内" in text_
    # the full list of 19 goes as an attached file
    report = next(m for m in person.inbox if m.document)
    assert report.document is not None
    lines = report.document["content"].decode("utf-8-sig").splitlines()
    assert lines[0] == "行,列,问题" and len(lines) == 20
    await person.press("✅ 确认导入")
    async with box.services.sessions() as session:
        paths = (await sql(session, "SELECT DISTINCT a.path FROM child c JOIN area a "
                                    "ON a.id = c.area_id ORDER BY 1")).all()  # fmt: skip
    assert [p[0] for p in paths] == [
        "示范县/城关镇/东村",
        "示范县/城关镇/南社区",
        "示范县/城关镇/西村",
    ]


async def test_who_may_import_and_what_files(box: Sandbox) -> None:
    director = await register(box, Role.DIRECTOR, "示范县/城关镇/东村", user_id=903, name="主任")
    await director.send_document("ledger.xlsx", SAMPLE_XLSX)
    assert "无权" in director.last.text
    person = await admin(box)
    await person.send_document("ledger.xls", b"\xd0\xcf\x11\xe0old")
    assert "请发送 .xlsx 或 .csv" in person.last.text
    await person.send_document("notes.csv", "随便写的\n一些字\n".encode())
    assert "找不到表头行" in person.last.text
    await person.send_document("ledger.xlsx", b"PK\x03\x04 not really a zip")
    assert "无法读取该文件" in person.last.text


async def test_bad_input_while_confirming_an_import(box: Sandbox) -> None:
    person = await admin(box)
    await person.send_document("ledger-sample.xlsx", SAMPLE_XLSX)
    for act in (person.send("好的"), person.send_sticker(), person.send("/people")):
        replies = await act
        assert replies and [label for label, _ in replies[-1].buttons] == ["✅ 确认导入", "取消"]
    await person.send("/invite")  # another flow waits until this one is finished
    assert "请先完成当前步骤" in person.last.text
    [cancelled] = await person.press("取消")
    assert "已取消导入" in cancelled.text and not cancelled.buttons
    async with box.services.sessions() as session:
        assert (await session.exec(select(Child))).all() == []
