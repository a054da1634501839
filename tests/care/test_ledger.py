import csv
import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet

from care import children, idcard
from care.children import Category, Colour, Gender, InvalidValue, LunarBirthday
from care.idcard import make_id
from care.ledger import (
    LEDGER_COLUMNS,
    REQUIRED_COLUMNS,
    LedgerParse,
    LedgerRow,
    Problem,
    ProblemCode,
    normalize_phone,
    parse_ledger,
    parse_ledger_rows,
    row_to_cells,
    write_ledger_csv,
    write_ledger_xlsx,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"  # the sample ledger town offices use
TODAY = date(2026, 11, 23)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_cells() -> list[list[str]]:
    return list(csv.reader(io.StringIO(fixture("ledger-sample.csv").decode("utf-8-sig"))))


def to_csv(
    rows: Sequence[Sequence[object]], encoding: str = "utf-8-sig", delimiter: str = ","
) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def to_xlsx(*sheets: Sequence[Sequence[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    assert workbook.active is not None  # a new workbook has one sheet
    workbook.remove(workbook.active)
    for number, rows in enumerate(sheets):
        sheet = workbook.create_sheet(f"Sheet{number}")
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def sample() -> LedgerParse:
    return parse_ledger(fixture("ledger-sample.csv"), today=TODAY)


# --- the shared fixtures ---------------------------------------------------------------------


def test_both_fixtures_give_the_same_forty_valid_rows(sample: LedgerParse) -> None:
    from_xlsx = parse_ledger(fixture("ledger-sample.xlsx"), today=TODAY)
    assert sample.problems == []
    assert len(sample.rows) == 40
    assert [row.row for row in sample.rows] == list(range(2, 42))
    assert from_xlsx == sample


def test_fixture_first_row_in_full(sample: LedgerParse) -> None:
    assert sample.rows[0] == LedgerRow(
        row=2,
        name="孔涵",
        gender=Gender.FEMALE,
        ethnicity="汉族",
        birth_date=date(2013, 12, 15),
        id_number="320999201312157880",
        category=Category.UNSUPPORTED,
        colour=Colour.BLUE,
        county="示范县",
        town="城关镇",
        village="南社区",
        household="H0001",
        schooling="在校",
        school="城关镇中心小学",
        health="健康",
        disability=None,
        guardian_name="孔明怡",
        guardian_relation="母亲",
        guardian_phone="19846885253",
        father_work="广东东莞",
        mother_work="浙江杭州",
        lunar_birthday=None,
        consent=True,
    )


def test_fixture_details(sample: LedgerParse) -> None:
    by_row = {row.row: row for row in sample.rows}
    assert by_row[6].lunar_birthday == LunarBirthday(12, 30)
    assert by_row[6].disability == "听力一级"
    assert by_row[24].lunar_birthday == LunarBirthday(5, 22)
    assert by_row[41].id_number == "32099920160412612X"
    assert [row.row for row in sample.rows if row.consent is False] == [25, 37]
    assert {row.household for row in sample.rows if row.guardian_name == "曹轩天"} == {"H0004"}
    categories = {row.category for row in sample.rows}
    assert categories == set(Category)
    assert sum(row.category.needs_caring_family for row in sample.rows) == 11


def test_export_reproduces_the_fixture_cells(sample: LedgerParse) -> None:
    header, *rows = fixture_cells()
    assert header == list(LEDGER_COLUMNS)
    assert [row_to_cells(row) for row in sample.rows] == rows


@pytest.mark.parametrize(
    "encode",
    [
        lambda rows: to_csv(rows, "utf-8"),
        lambda rows: to_csv(rows, "gb18030"),
        lambda rows: to_csv(rows, "utf-16", delimiter="\t"),
        lambda rows: to_csv(rows, "utf-8-sig", delimiter="\t"),
    ],
    ids=["utf-8 without BOM", "gb18030", "utf-16 tab-separated", "utf-8 tab-separated"],
)
def test_other_encodings_read_alike(
    sample: LedgerParse, encode: Callable[[list[list[str]]], bytes]
) -> None:
    assert parse_ledger(encode(fixture_cells()), today=TODAY) == sample


def test_round_trip_through_csv_and_xlsx(sample: LedgerParse) -> None:
    assert parse_ledger(write_ledger_csv(sample.rows), today=TODAY) == sample
    assert parse_ledger(write_ledger_xlsx(sample.rows), today=TODAY) == sample


def test_exported_xlsx_keeps_ids_dates_and_phones_as_text(sample: LedgerParse) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(write_ledger_xlsx(sample.rows))).active
    assert isinstance(sheet, Worksheet)
    assert [cell.value for cell in sheet[1]] == list(LEDGER_COLUMNS)
    last = {LEDGER_COLUMNS[i]: cell for i, cell in enumerate(sheet[41])}
    for column in ("身份证号", "出生日期", "监护人电话"):
        assert isinstance(last[column].value, str)
        assert last[column].number_format == "@"
    assert last["身份证号"].value == "32099920160412612X"
    assert last["序号"].value == "40"


def test_export_numbers_its_rows_from_one(sample: LedgerParse) -> None:
    some = [sample.rows[4], sample.rows[9]]
    assert row_to_cells(some[1])[0] == "10"
    assert row_to_cells(some[1], serial=2)[0] == "2"
    again = parse_ledger(write_ledger_xlsx(some), today=TODAY)
    assert again.rows == [replace(some[0], row=2), replace(some[1], row=3)]
    assert parse_ledger(write_ledger_csv(some), today=TODAY) == again


def test_csv_export_has_a_bom_for_excel(sample: LedgerParse) -> None:
    data = write_ledger_csv(sample.rows[:1])
    assert data.startswith("\ufeff序号,姓名".encode())
    assert data.count(b"\r\n") == 2


# --- headers ---------------------------------------------------------------------------------


def test_headers_by_name_in_any_order_with_spaces_aliases_and_full_width(
    sample: LedgerParse,
) -> None:
    header, *rows = fixture_cells()
    renamed = {
        "县(区)": " 县（区） ",
        "镇(街道)": "镇（街道）",
        "村(社区)": "村 (社区)",
        "身份证号": "*公民身份号码",
        "监护人电话": "监护人联系电话",
    }
    header = [renamed.get(name, name) for name in header]
    order = list(reversed(range(len(header))))
    shuffled = [[cells[i] for i in order] + ["备注"] for cells in [header, *rows]]
    assert parse_ledger(to_csv(shuffled), today=TODAY) == sample


def test_title_rows_above_the_header_are_skipped() -> None:
    header, first, second = fixture_cells()[:3]
    rows = [
        ["城关镇困境儿童和留守儿童台账"],
        ["填报单位：城关镇", "", "2026年11月"],
        header,
        first,
        second,
    ]
    result = parse_ledger(to_csv(rows), today=TODAY)
    assert result.problems == []
    assert [(row.row, row.name) for row in result.rows] == [(4, "孔涵"), (5, "刘轩宇")]


def test_missing_required_columns_refuse_the_file() -> None:
    header, *rows = fixture_cells()
    keep = [i for i, name in enumerate(header) if name not in ("身份证号", "风险等级", "民族")]
    cut = [[cells[i] for i in keep] for cells in [header, *rows]]
    result = parse_ledger(to_csv(cut), today=TODAY)
    assert result == LedgerParse(
        [],
        [Problem(None, None, ProblemCode.MISSING_COLUMNS, {"columns": ["身份证号", "风险等级"]})],
    )


def test_optional_columns_may_be_left_out() -> None:
    rows = [
        list(REQUIRED_COLUMNS),
        ["孔涵", "女", "2013-12-15", "320999201312157880", "孤儿", "蓝", "南社区"],
    ]
    result = parse_ledger(to_csv(rows), today=TODAY)
    assert result.problems == []
    assert result.rows[0].county is None and result.rows[0].guardian_phone is None


def test_duplicate_columns_refuse_the_file() -> None:
    header, first = fixture_cells()[:2]
    rows = [[*header, "身份证号码"], [*first, first[5]]]
    result = parse_ledger(to_csv(rows), today=TODAY)
    assert result.problems == [
        Problem(None, None, ProblemCode.DUPLICATE_COLUMNS, {"columns": ["身份证号"]})
    ]


@pytest.mark.parametrize(
    ("data", "code", "params"),
    [
        (b"", ProblemCode.NO_HEADER, {}),
        ("名单\n张三,李四\n".encode(), ProblemCode.NO_HEADER, {}),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
            ProblemCode.UNSUPPORTED_FORMAT,
            {"format": "xls"},
        ),
        (b"PK\x03\x04 not really a zip", ProblemCode.UNREADABLE_FILE, {}),
        (b"\xff\xff\xff\xff", ProblemCode.UNREADABLE_FILE, {}),
    ],
)
def test_file_level_problems(data: bytes, code: ProblemCode, params: dict[str, object]) -> None:
    assert parse_ledger(data, today=TODAY) == LedgerParse([], [Problem(None, None, code, params)])


def test_xlsx_without_any_header_and_a_zip_that_is_not_a_workbook() -> None:
    assert parse_ledger(to_xlsx([["说明"]], [["a", "b"]]), today=TODAY).problems == [
        Problem(None, None, ProblemCode.NO_HEADER)
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert parse_ledger(out.getvalue(), today=TODAY).problems == [
        Problem(None, None, ProblemCode.UNREADABLE_FILE)
    ]


# --- rows: a generated ledger with each kind of bad row --------------------------------------

BORN = date(2015, 3, 1)
VALID_ID = make_id("320999", BORN, 11)  # a boy


def child(**cells: str) -> list[str]:
    values = {
        "序号": "1",
        "姓名": "张三",
        "性别": "男",
        "民族": "汉族",
        "出生日期": "2015-03-01",
        "身份证号": VALID_ID,
        "儿童类别": "农村留守儿童",
        "风险等级": "黄",
        "县(区)": "示范县",
        "镇(街道)": "城关镇",
        "村(社区)": "东村",
        "户号": "H1",
        "监护人电话": "13812345678",
        "监护人同意": "是",
    } | cells
    return [values.get(column, "") for column in LEDGER_COLUMNS]


def unique_id(sequence: int, born: date = BORN) -> str:
    return make_id("320999", born, sequence)


def test_each_kind_of_bad_row() -> None:
    bad_check = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")
    bad_date_id = "32099920150230" + "011"
    bad_date_id += idcard.check_digit(bad_date_id)
    future = date(2027, 1, 1)
    old = date(2010, 1, 1)
    lines = [
        child(身份证号=unique_id(1)),  # row 2: valid
        child(姓名="", 身份证号=unique_id(3)),
        child(**{"村(社区)": " ", "身份证号": unique_id(5)}),
        child(身份证号=bad_check),  # row 5
        child(身份证号="12345"),
        child(身份证号=bad_date_id),
        child(身份证号="3.20999201503011E+17"),
        child(出生日期="2015-03-02", 身份证号=unique_id(7)),
        child(性别="女", 身份证号=unique_id(9)),  # row 10
        child(性别="未知", 身份证号=unique_id(13)),
        child(儿童类别="特困儿童", 身份证号=unique_id(15)),
        child(儿童类别="", 身份证号=unique_id(17)),
        child(风险等级="紫", 身份证号=unique_id(19)),
        child(风险等级="", 身份证号=unique_id(21)),  # row 15
        child(出生日期="2015年13月1日", 身份证号=unique_id(23)),
        child(出生日期="2027-01-01", 身份证号=unique_id(25, future)),
        child(出生日期="2010-01-01", 身份证号=unique_id(27, old)),
        child(监护人电话="1381234567", 身份证号=unique_id(29)),
        child(农历生日="十三月初一", 身份证号=unique_id(31)),  # row 20
        child(农历生日="中秋", 身份证号=unique_id(33)),
        child(监护人同意="也许", 身份证号=unique_id(35)),
        child(姓名="", 风险等级="紫", 身份证号=unique_id(37)),
        child(性别="", 出生日期="", 身份证号=""),
        child(
            出生日期="2010-01-01", 儿童类别="其他困境儿童", 身份证号=unique_id(39, old)
        ),  # row 25
    ]
    result = parse_ledger(to_csv([list(LEDGER_COLUMNS), *lines]), today=TODAY)

    def p(row: int, column: str, code: str, **params: object) -> Problem:
        return Problem(row, column, ProblemCode(code), params)

    assert result.problems == [
        p(3, "姓名", "required"),
        p(4, "村(社区)", "required"),
        p(5, "身份证号", "id_checksum"),
        p(6, "身份证号", "id_format"),
        p(7, "身份证号", "id_birth_date"),
        p(8, "身份证号", "id_stored_as_number"),
        p(9, "出生日期", "id_birth_mismatch", value="2015-03-02", expected="2015-03-01"),
        p(10, "性别", "id_gender_mismatch", value="女", expected="male"),
        p(11, "性别", "unknown_gender", value="未知"),
        p(12, "儿童类别", "unknown_category", value="特困儿童"),
        p(13, "儿童类别", "required"),
        p(14, "风险等级", "unknown_colour", value="紫"),
        p(15, "风险等级", "required"),
        p(16, "出生日期", "date_format", value="2015年13月1日"),
        p(17, "出生日期", "birth_in_future", birth_date="2027-01-01"),
        p(19, "监护人电话", "phone_format", value="1381234567"),
        p(20, "农历生日", "lunar_birthday_impossible", value="十三月初一"),
        p(21, "农历生日", "lunar_birthday_format", value="中秋"),
        p(22, "监护人同意", "unknown_consent", value="也许"),
        p(23, "姓名", "required"),
        p(23, "风险等级", "unknown_colour", value="紫"),
        p(24, "性别", "required"),
        p(24, "出生日期", "required"),
    ]
    assert [row.row for row in result.rows] == [2, 25]
    assert result.rows[1].category == Category.OTHER_DIFFICULTY
    # too old and nothing else: kept apart, for the import to close the child's record
    [aged] = result.aged_out
    assert aged.row.row == 18 and aged.row.category == Category.LEFT_BEHIND
    assert aged.problem == p(
        18, "儿童类别", "too_old_for_category", age=16, limit=16, category="left_behind"
    )
    assert result.rejected_rows == [n for n in range(3, 25) if n != 18]


def test_a_row_too_old_and_wrong_otherwise_is_rejected_with_both_problems() -> None:
    old = date(2008, 1, 1)
    line = child(出生日期="2008-01-01", 监护人电话="123", 身份证号=unique_id(51, old))
    result = parse_ledger_rows([list(LEDGER_COLUMNS), line], today=TODAY)
    assert [p.code for p in result.problems] == ["too_old_for_category", "phone_format"]
    assert result.rows == [] and result.aged_out == []


def test_duplicate_ids_reject_every_row_that_has_them() -> None:
    twice, thrice = unique_id(41), unique_id(43)
    lines = [
        child(身份证号=twice),
        child(身份证号=thrice),
        child(身份证号=unique_id(45)),
        child(身份证号=twice.lower() if twice.endswith("X") else twice),
        child(身份证号=thrice),
        child(身份证号=thrice),
    ]
    result = parse_ledger_rows([list(LEDGER_COLUMNS), *lines], today=TODAY)
    assert [row.row for row in result.rows] == [4]
    assert [(p.row, p.column, p.code, p.params) for p in result.problems] == [
        (2, "身份证号", "duplicate_id", {"other_rows": [5]}),
        (3, "身份证号", "duplicate_id", {"other_rows": [6, 7]}),
        (5, "身份证号", "duplicate_id", {"other_rows": [2]}),
        (6, "身份证号", "duplicate_id", {"other_rows": [3, 7]}),
        (7, "身份证号", "duplicate_id", {"other_rows": [3, 6]}),
    ]


def test_a_duplicate_is_reported_even_when_its_twin_has_other_problems() -> None:
    same = unique_id(47)
    lines = [child(身份证号=same), child(身份证号=same, 监护人电话="123")]
    result = parse_ledger_rows([list(LEDGER_COLUMNS), *lines], today=TODAY)
    assert result.rows == []
    assert [(p.row, p.code) for p in result.problems] == [
        (2, "duplicate_id"),
        (3, "duplicate_id"),
        (3, "phone_format"),
    ]


def test_a_row_without_id_needs_gender_and_birth_date() -> None:
    result = parse_ledger_rows(
        [list(LEDGER_COLUMNS), child(身份证号=""), child(身份证号="", 性别="女")], today=TODAY
    )
    assert result.problems == []
    assert [(r.id_number, r.gender, r.birth_date) for r in result.rows] == [
        (None, Gender.MALE, BORN),
        (None, Gender.FEMALE, BORN),
    ]


def test_gender_and_birth_date_come_from_the_id_when_blank() -> None:
    girl = make_id("320999", date(2019, 6, 7), 80)
    result = parse_ledger_rows(
        [list(LEDGER_COLUMNS), child(性别="", 出生日期="", 身份证号=girl)], today=TODAY
    )
    assert result.problems == []
    assert (result.rows[0].gender, result.rows[0].birth_date) == (Gender.FEMALE, date(2019, 6, 7))


def test_future_birth_from_the_id_is_reported_on_the_id() -> None:
    future = make_id("320999", date(2027, 5, 1), 11)
    result = parse_ledger_rows(
        [list(LEDGER_COLUMNS), child(出生日期="", 身份证号=future)], today=TODAY
    )
    assert result.problems == [
        Problem(2, "身份证号", ProblemCode.BIRTH_IN_FUTURE, {"birth_date": "2027-05-01"})
    ]


def test_blank_rows_are_skipped_but_counted() -> None:
    rows = [
        list(LEDGER_COLUMNS),
        child(身份证号=unique_id(51)),
        [""] * len(LEDGER_COLUMNS),
        [],
        ["3"] + [" "] * (len(LEDGER_COLUMNS) - 1),  # a template's numbered empty row
        child(身份证号=unique_id(53), 姓名=""),
    ]
    result = parse_ledger_rows(rows, today=TODAY)
    assert [row.row for row in result.rows] == [2]
    assert result.problems == [Problem(6, "姓名", ProblemCode.REQUIRED)]


@pytest.mark.parametrize(
    "written",
    ["2015-03-01", "2015/3/1", "2015.03.01", "20150301", "2015年3月1日", "2015-03-01 00:00:00"],
)
def test_birth_date_spellings(written: str) -> None:
    result = parse_ledger_rows([list(LEDGER_COLUMNS), child(出生日期=written)], today=TODAY)
    assert result.problems == []
    assert result.rows[0].birth_date == BORN


@pytest.mark.parametrize(
    ("written", "consent"),
    [("是", True), ("否", False), ("YES", True), ("no", False), ("同意", True), ("", None)],
)
def test_consent_spellings(written: str, consent: bool | None) -> None:
    result = parse_ledger_rows([list(LEDGER_COLUMNS), child(监护人同意=written)], today=TODAY)
    assert result.rows[0].consent is consent


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0571-12345678", "0571-12345678"),
        ("057112345678", "0571-12345678"),
        ("0571 8765432", "0571-8765432"),
        ("010-12345678", "010-12345678"),
        ("(010)12345678", "010-12345678"),
        ("02512345678", "025-12345678"),
    ],
)
def test_phone_numbers_accepted(written: str, stored: str) -> None:
    assert normalize_phone(written) == stored


@pytest.mark.parametrize(
    "written",
    [
        "1381234567",  # 10 digits
        "138123456789",
        "12812345678",  # no mobile prefix 12
        "0571-123456",  # local part too short
        "0571-123456789",
        "571-12345678",
        "13812345678,13912345678",
        "0571-12345678转123",
        "电话",
    ],
)
def test_phone_numbers_refused(written: str) -> None:
    assert normalize_phone(written) is None


# --- typed cells and the xlsx reader ---------------------------------------------------------


def test_typed_xlsx_cells() -> None:
    typed: list[object] = list(child(身份证号=unique_id(61)))
    typed[0] = 1.0
    typed[4] = datetime(2015, 3, 1)  # a date cell
    typed[18] = 13812345678  # a phone as a number
    typed[22] = True
    number_id: list[object] = list(child(身份证号=unique_id(63)))
    number_id[5] = 320999201503010630  # Excel keeps 15 significant digits: 3.20999201503011E+17
    serial: list[object] = list(child(身份证号=unique_id(65)))
    serial[4] = 42064  # 2015-03-01 as a bare Excel serial
    data = to_xlsx([list(LEDGER_COLUMNS), typed, number_id, serial])
    result = parse_ledger(data, today=TODAY)
    assert result.problems == [Problem(3, "身份证号", ProblemCode.ID_STORED_AS_NUMBER)]
    first, third = result.rows
    assert (first.birth_date, first.guardian_phone, first.consent) == (BORN, "13812345678", True)
    assert third.birth_date == BORN


def test_an_id_given_as_an_exact_whole_number_is_read() -> None:
    number = next(n for n in map(unique_id, range(1, 99, 2)) if not n.endswith("X"))
    cells: list[object] = list(child(身份证号=""))
    cells[5] = int(number)
    result = parse_ledger_rows([list(LEDGER_COLUMNS), cells], today=TODAY)
    assert result.problems == []
    assert result.rows[0].id_number == number


def test_instructions_sheet_before_the_ledger_is_skipped(sample: LedgerParse) -> None:
    data = to_xlsx([["填表说明"], ["1. 身份证号请设为文本格式"]], fixture_cells())
    assert parse_ledger(data, today=TODAY) == sample


# An Excel-style workbook written by hand: shared strings (with rich-text runs and a phonetic
# guide), a Chinese built-in date format (31), a custom date format, a sheet
# path given absolutely, an instructions sheet first, and a row left out.
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def excel_style_workbook(rows: Mapping[int, Sequence[object]]) -> bytes:
    strings: list[str] = []

    def shared(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    def column(index: int) -> str:
        return chr(ord("A") + index)

    note = shared("本表由村儿童主任填写")
    sheet_rows = []
    for number, cells in rows.items():
        xml_cells = []
        for index, value in enumerate(cells):
            ref = f"{column(index)}{number}"
            if value in (None, ""):
                continue  # Excel leaves empty cells out
            if isinstance(value, tuple):  # (serial, style)
                xml_cells.append(f'<c r="{ref}" s="{value[1]}"><v>{value[0]}</v></c>')
            elif value == "身份证号":
                xml_cells.append(f'<c r="{ref}" t="s"><v>{len(strings)}</v></c>')
                strings.append("RICH")
            else:
                xml_cells.append(f'<c r="{ref}" t="s"><v>{shared(str(value))}</v></c>')
        sheet_rows.append(f'<row r="{number}">{"".join(xml_cells)}</row>')
    items = []
    for text in strings:
        if text == "RICH":
            items.append(
                "<si><r><t>身份</t></r><r><rPr><b/></rPr><t>证号</t></r>"
                '<rPh sb="0" eb="2"><t>シェンフェン</t></rPh></si>'
            )
        else:
            items.append(f"<si><t>{text}</t></si>")
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPES}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPES}.worksheet+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{_TYPES}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_TYPES}.sharedStrings+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_TYPES}.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f"<workbook {_NS} {_R_NS}><workbookPr/><sheets>"
            '<sheet name="填表说明" sheetId="1" r:id="rId1"/>'
            '<sheet name="台账" sheetId="2" r:id="rId2"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId4" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'<styleSheet {_NS}><numFmts count="1">'
            '<numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
            "</numFmts>"
            '<fonts count="1"><font/></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="3">'
            '<xf numFmtId="0"/><xf numFmtId="31" applyNumberFormat="1"/>'
            '<xf numFmtId="176" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ),
        "xl/worksheets/sheet1.xml": (
            f"<worksheet {_NS}><sheetData>"
            f'<row r="1"><c r="A1" t="s"><v>{note}</v></c></row>'
            "</sheetData></worksheet>"
        ),
        "xl/worksheets/sheet2.xml": (
            f"<worksheet {_NS}><sheetData>{''.join(sheet_rows)}</sheetData></worksheet>"
        ),
    }
    parts["xl/sharedStrings.xml"] = f"<sst {_NS}>{''.join(items)}</sst>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_excel_style_workbook(sample: LedgerParse) -> None:
    header, first_text, second_text = fixture_cells()[:3]
    first: list[object] = list(first_text)
    second: list[object] = list(second_text)
    first[4] = (to_excel(datetime(2013, 12, 15)), 1)  # built-in 31
    second[4] = (to_excel(datetime(2015, 1, 28)), 2)  # custom 年月日
    data = excel_style_workbook({1: header, 2: first, 4: second})
    result = parse_ledger(data, today=TODAY)
    assert result.problems == []
    assert result.rows == [sample.rows[0], replace(sample.rows[1], row=4)]


# --- codes -----------------------------------------------------------------------------------


def test_every_code_the_parsers_raise_is_a_problem_code() -> None:
    raised = set()
    calls = [
        (children.parse_gender, "?"),
        (children.parse_category, "?"),
        (children.parse_colour, "?"),
        (children.parse_lunar_birthday, "?"),
        (children.parse_lunar_birthday, "十三月初一"),
        (idcard.parse_id, "1"),
        (idcard.parse_id, "320999201312157881"),
        (idcard.parse_id, "32099920130230123" + idcard.check_digit("32099920130230123")),
    ]
    for call, text in calls:
        with pytest.raises(InvalidValue) as caught:
            call(text)
        raised.add(caught.value.code)
    raised |= set(children.eligibility_problems(date(2030, 1, 1), Category.ORPHAN, TODAY))
    raised |= set(children.eligibility_problems(date(2000, 1, 1), Category.ORPHAN, TODAY))
    assert raised <= set(ProblemCode)
    assert len(raised) == 10
