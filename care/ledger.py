"""The children's ledger (台账) in the layout town offices use: read CSV/XLSX, check, write back.

Columns are found by header name. The header is the first row (among the first ten, so title
rows above it are skipped) that names at least three known columns. Row numbers in problems are
the spreadsheet's own, header included, so a clerk can find them. A row with any problem is
rejected whole; the others are returned. A row is checked against everything storage holds it
to (the lengths of care.children.TEXT_LENGTHS, area names that make an area path), so a row the
dry run accepts is one the database takes. Warnings (a cell that looks like a formula) reject
nothing. A row whose only problem is the child's age (past the category's limit) is kept
apart (`LedgerParse.aged_out`): planning against the database closes the record it matches,
and rejects it when it matches none.

Uploads are read within `SheetLimits` (care.uploads): a file past them is refused whole, with
one problem, before it is parsed.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

import openpyxl
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from care import formulas
from care.children import (
    GENDER_LEDGER_NAMES,
    TEXT_LENGTHS,
    Category,
    Colour,
    Gender,
    InvalidValue,
    LunarBirthday,
    age_on,
    eligibility_problems,
    parse_category,
    parse_colour,
    parse_gender,
    parse_lunar_birthday,
)
from care.idcard import IdInfo, parse_id
from care.roles import MAX_NAME_LENGTH
from care.uploads import MB, Excess, SheetLimits, TooLarge, Unreadable, bounded, check_size
from care.uploads import xlsx_sheets as _xlsx_sheets


class ProblemCode(StrEnum):
    """Every code a `LedgerParse` can hold; each needs a translation."""

    # file level (row and column are None)
    UNSUPPORTED_FORMAT = "unsupported_format"  # {"format": "xls"}
    UNREADABLE_FILE = "unreadable_file"  # {}
    NO_HEADER = "no_header"  # {}
    MISSING_COLUMNS = "missing_columns"  # {"columns": [header, …]}
    DUPLICATE_COLUMNS = "duplicate_columns"  # {"columns": [header, …]}
    FILE_TOO_BIG = "file_too_big"  # {"limit": "10"} (MB)
    UNPACKED_TOO_BIG = "unpacked_too_big"  # {"limit": "64"} (MB)
    TOO_MANY_ROWS = "too_many_rows"  # {"limit": "50,000"}
    TOO_MANY_COLUMNS = "too_many_columns"  # {"limit": "64"}
    SHARED_STRINGS_TOO_BIG = "shared_strings_too_big"  # {"limit": "20"} (MB)
    # cell level
    REQUIRED = "required"  # {}
    ID_FORMAT = "id_format"  # {}
    ID_CHECKSUM = "id_checksum"  # {}
    ID_BIRTH_DATE = "id_birth_date"  # {}
    ID_STORED_AS_NUMBER = "id_stored_as_number"  # {}: Excel turned it into 3.2E+17
    ID_BIRTH_MISMATCH = "id_birth_mismatch"  # {"value": cell, "expected": "2013-12-15"}
    ID_GENDER_MISMATCH = "id_gender_mismatch"  # {"value": cell, "expected": "male"|"female"}
    DUPLICATE_ID = "duplicate_id"  # {"other_rows": [row, …]}
    DATE_FORMAT = "date_format"  # {"value": cell}
    BIRTH_IN_FUTURE = "birth_in_future"  # {"birth_date": "2030-01-01"}
    TOO_OLD_FOR_CATEGORY = "too_old_for_category"  # {"age": 16, "limit": 16, "category": value}
    UNKNOWN_GENDER = "unknown_gender"  # {"value": cell}
    UNKNOWN_CATEGORY = "unknown_category"  # {"value": cell}
    UNKNOWN_COLOUR = "unknown_colour"  # {"value": cell}
    UNKNOWN_CONSENT = "unknown_consent"  # {"value": cell}
    PHONE_FORMAT = "phone_format"  # {"value": cell}
    LUNAR_BIRTHDAY_FORMAT = "lunar_birthday_format"  # {"value": cell}
    LUNAR_BIRTHDAY_IMPOSSIBLE = "lunar_birthday_impossible"  # {"value": cell}
    TOO_LONG = "too_long"  # {"length": 300, "limit": 80}
    AREA_NAME = "area_name"  # {"value": cell}: a "/" in it would make another area path
    CONTROL_CHARACTER = "control_character"  # {}: no spreadsheet can hold it (the export)
    # a warning: rejects nothing
    FORMULA = "formula"  # {"value": the cell's start}
    # found when planning an import against the database
    AREA_OUTSIDE = "area_outside"  # {"area": the importer's own area path}
    RECORD_CLOSED = "record_closed"  # {"on": "2026-03-01", "reason": care.closing.ClosingReason}


@dataclass(frozen=True, slots=True)
class Problem:
    row: int | None  # spreadsheet row (header = 1); None for the whole file
    column: str | None  # canonical header, e.g. 身份证号
    code: ProblemCode
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerRow:
    row: int
    name: str
    gender: Gender
    birth_date: date
    category: Category
    colour: Colour
    village: str
    id_number: str | None = None  # normalised; None when the ledger has none for the child
    ethnicity: str | None = None
    county: str | None = None
    town: str | None = None
    household: str | None = None
    schooling: str | None = None
    school: str | None = None
    health: str | None = None
    disability: str | None = None
    guardian_name: str | None = None
    guardian_relation: str | None = None
    guardian_phone: str | None = None  # 13566537775 or 0571-12345678
    father_work: str | None = None
    mother_work: str | None = None
    lunar_birthday: LunarBirthday | None = None
    consent: bool | None = None


@dataclass(frozen=True, slots=True)
class AgedOut:
    """A row with no problem but the child's age: it closes the child's record, if there is
    one (an import does not create a record to close it); else `problem` rejects it."""

    row: LedgerRow
    problem: Problem  # TOO_OLD_FOR_CATEGORY


@dataclass(frozen=True, slots=True)
class LedgerParse:
    rows: list[LedgerRow]
    problems: list[Problem]
    warnings: list[Problem] = field(default_factory=list)  # reported; the rows are accepted
    aged_out: list[AgedOut] = field(default_factory=list)  # decided when planning

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})


SERIAL = "序号"
NAME = "姓名"
GENDER = "性别"
ETHNICITY = "民族"
BIRTH_DATE = "出生日期"
ID_NUMBER = "身份证号"
CATEGORY = "儿童类别"
COLOUR = "风险等级"
COUNTY = "县(区)"
TOWN = "镇(街道)"
VILLAGE = "村(社区)"
HOUSEHOLD = "户号"
SCHOOLING = "就学情况"
SCHOOL = "学校"
HEALTH = "健康状况"
DISABILITY = "残疾类型"
GUARDIAN_NAME = "监护人姓名"
GUARDIAN_RELATION = "与儿童关系"
GUARDIAN_PHONE = "监护人电话"
FATHER_WORK = "父亲务工地"
MOTHER_WORK = "母亲务工地"
LUNAR_BIRTHDAY = "农历生日"
CONSENT = "监护人同意"

LEDGER_COLUMNS: tuple[str, ...] = (
    SERIAL, NAME, GENDER, ETHNICITY, BIRTH_DATE, ID_NUMBER, CATEGORY, COLOUR, COUNTY, TOWN,
    VILLAGE, HOUSEHOLD, SCHOOLING, SCHOOL, HEALTH, DISABILITY, GUARDIAN_NAME, GUARDIAN_RELATION,
    GUARDIAN_PHONE, FATHER_WORK, MOTHER_WORK, LUNAR_BIRTHDAY, CONSENT,
)  # fmt: skip
# Without these a file is refused; the other columns may be left out.
REQUIRED_COLUMNS: tuple[str, ...] = (NAME, GENDER, BIRTH_DATE, ID_NUMBER, CATEGORY, COLOUR, VILLAGE)
SHEET_TITLE = "困境儿童和留守儿童台账"

# The longest text each column may hold: what storage holds the field to (an area name is one
# part of an area path). The ID number, dates and phone are checked by their formats.
COLUMN_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        NAME: TEXT_LENGTHS["name"],
        ETHNICITY: TEXT_LENGTHS["ethnicity"],
        COUNTY: MAX_NAME_LENGTH,
        TOWN: MAX_NAME_LENGTH,
        VILLAGE: MAX_NAME_LENGTH,
        HOUSEHOLD: TEXT_LENGTHS["household"],
        SCHOOLING: TEXT_LENGTHS["schooling"],
        SCHOOL: TEXT_LENGTHS["school"],
        HEALTH: TEXT_LENGTHS["health"],
        DISABILITY: TEXT_LENGTHS["disability"],
        GUARDIAN_NAME: TEXT_LENGTHS["guardian_name"],
        GUARDIAN_RELATION: TEXT_LENGTHS["guardian_relation"],
        FATHER_WORK: TEXT_LENGTHS["father_work"],
        MOTHER_WORK: TEXT_LENGTHS["mother_work"],
    }
)
AREA_COLUMNS = (COUNTY, TOWN, VILLAGE)
_AREA_SEPARATORS = ("/", "／")  # care.roles.split_area_path splits on both

# Other headers seen in county templates, for the same columns.
HEADER_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "编号": SERIAL,
        "儿童姓名": NAME,
        "出生年月日": BIRTH_DATE,
        "身份证号码": ID_NUMBER,
        "公民身份号码": ID_NUMBER,
        "身份证": ID_NUMBER,
        "类别": CATEGORY,
        "儿童类型": CATEGORY,
        "风险颜色": COLOUR,
        "分级分色": COLOUR,
        "县": COUNTY,
        "区县": COUNTY,
        "县(市、区)": COUNTY,
        "乡镇": TOWN,
        "乡镇(街道)": TOWN,
        "村": VILLAGE,
        "村(居)": VILLAGE,
        "社区": VILLAGE,
        "户编号": HOUSEHOLD,
        "监护人联系电话": GUARDIAN_PHONE,
        "联系电话": GUARDIAN_PHONE,
        "监护人与儿童关系": GUARDIAN_RELATION,
        "阴历生日": LUNAR_BIRTHDAY,
        "监护人是否同意": CONSENT,
    }
)


def _header_key(text: str) -> str:
    """县（区） and 县(区) alike; spaces and required-field stars dropped."""
    return "".join(unicodedata.normalize("NFKC", text).split()).strip("*")


_HEADERS = {
    _header_key(name): column
    for name, column in [*((c, c) for c in LEDGER_COLUMNS), *HEADER_ALIASES.items()]
}
_HEADER_SCAN_ROWS = 10
_MIN_HEADER_MATCHES = 3

_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_LANDLINE = re.compile(r"0\d{9,11}")
_PHONE_NOISE = re.compile(r"[\s()\-]")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?e\+?\d+", re.IGNORECASE)
_CONSENT = {
    **{key: True for key in ("是", "yes", "y", "true", "同意")},
    **{key: False for key in ("否", "no", "n", "false", "不同意")},
}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return formulas.unescape(value.strip())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value == datetime(value.year, value.month, value.day):
        return value.date().isoformat()
    return str(value).strip()


def _date(value: object) -> date | None:
    """A date cell or text: 2013-12-15, 2013/12/15, 2013.12.15, 20131215, 2013年12月15日.

    A bare number from 10000 to 99999 is an Excel serial date (1927–2173) whose cell lost its
    date format, as happens when values are pasted.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1e4 <= value < 1e5:
        moment: datetime = from_excel(value)  # a datetime for a serial number (untyped stub)
        return moment.date()
    text = unicodedata.normalize("NFKC", _text(value))
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def normalize_phone(text: str) -> str | None:
    """A mainland mobile (1[3-9] + 9 digits, optional +86) or a landline with area code
    (0571-12345678, 057112345678, (010)12345678); one number, no extension. Returns
    13566537775 or 0571-12345678, or None when it is neither."""
    compact = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", text))
    if match := _MOBILE.fullmatch(compact):
        return match[1]
    if _LANDLINE.fullmatch(compact):
        # area codes 010 and 02x have three digits, all others four
        split = 3 if compact[1] in "12" else 4
        if 7 <= len(compact) - split <= 8:
            return f"{compact[:split]}-{compact[split:]}"
    return None


T = TypeVar("T")


class _Cells:
    """One row's cells by column, and the problems found in them."""

    __slots__ = ("cells", "columns", "number", "problems", "warnings")

    def __init__(self, number: int, cells: Sequence[object], columns: Mapping[str, int]) -> None:
        self.number, self.cells, self.columns = number, cells, columns
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def raw(self, column: str) -> object:
        index = self.columns.get(column)
        return self.cells[index] if index is not None and index < len(self.cells) else None

    def text(self, column: str) -> str:
        return _text(self.raw(column))

    def optional(self, column: str) -> str | None:
        return self.text(column) or None

    def bad(self, column: str, code: str, **params: object) -> None:
        self.problems.append(Problem(self.number, column, ProblemCode(code), params))


def _check_id(cells: _Cells) -> IdInfo | None:
    value = cells.raw(ID_NUMBER)
    text = _text(value)
    if not text:
        return None
    # Excel keeps 15 significant digits: an ID typed into a number cell has lost its tail.
    if (isinstance(value, float) and value >= 1e16) or _SCIENTIFIC.fullmatch(text):
        cells.bad(ID_NUMBER, ProblemCode.ID_STORED_AS_NUMBER)
        return None
    try:
        return parse_id(text)
    except InvalidValue as error:
        cells.bad(ID_NUMBER, error.code)
        return None


def _check_gender(cells: _Cells, id_info: IdInfo | None) -> Gender | None:
    """The cell if given (it must agree with the ID), else what the ID says."""
    text = cells.text(GENDER)
    if not text:
        if id_info is None and not cells.text(ID_NUMBER):
            cells.bad(GENDER, ProblemCode.REQUIRED)
        return id_info.gender if id_info else None
    try:
        gender = parse_gender(text)
    except InvalidValue as error:
        cells.bad(GENDER, error.code, value=text)
        return None
    if id_info and gender != id_info.gender:
        expected = id_info.gender.value
        cells.bad(GENDER, ProblemCode.ID_GENDER_MISMATCH, value=text, expected=expected)
    return gender


def _check_birth_date(cells: _Cells, id_info: IdInfo | None) -> tuple[date | None, str]:
    """The birth date and the column it came from: the cell if given, else the ID."""
    text = cells.text(BIRTH_DATE)
    if not text:
        if id_info is None and not cells.text(ID_NUMBER):
            cells.bad(BIRTH_DATE, ProblemCode.REQUIRED)
        return (id_info.birth_date if id_info else None), ID_NUMBER
    birth_date = _date(cells.raw(BIRTH_DATE))
    if birth_date is None:
        cells.bad(BIRTH_DATE, ProblemCode.DATE_FORMAT, value=text)
    elif id_info and birth_date != id_info.birth_date:
        expected = id_info.birth_date.isoformat()
        cells.bad(BIRTH_DATE, ProblemCode.ID_BIRTH_MISMATCH, value=text, expected=expected)
    return birth_date, BIRTH_DATE


def _check_value(
    cells: _Cells, column: str, parse: Callable[[str], T], *, required: bool
) -> T | None:
    text = cells.text(column)
    if not text:
        if required:
            cells.bad(column, ProblemCode.REQUIRED)
        return None
    try:
        return parse(text)
    except InvalidValue as error:
        cells.bad(column, error.code, value=text)
        return None


def _phone(text: str) -> str:
    if (phone := normalize_phone(text)) is None:
        raise InvalidValue(ProblemCode.PHONE_FORMAT)
    return phone


def _consent(text: str) -> bool:
    if (consent := _CONSENT.get(text.lower())) is None:
        raise InvalidValue(ProblemCode.UNKNOWN_CONSENT)
    return consent


_FORMULA_SHOWN = 30  # characters of a suspicious cell quoted in its warning


def _check_texts(cells: _Cells) -> None:
    """What storage and the export hold the text columns to (length, area names, no control
    characters, which no worksheet can hold), and cells that a spreadsheet would take for a
    formula (a warning)."""
    for column, limit in COLUMN_LENGTHS.items():
        text = cells.text(column)
        if len(text) > limit:
            cells.bad(column, ProblemCode.TOO_LONG, length=len(text), limit=limit)
        elif ILLEGAL_CHARACTERS_RE.search(text):
            cells.bad(column, ProblemCode.CONTROL_CHARACTER)
        elif column in AREA_COLUMNS and any(s in text for s in _AREA_SEPARATORS):
            cells.bad(column, ProblemCode.AREA_NAME, value=text)
        if formulas.suspicious(text):
            value = text if len(text) <= _FORMULA_SHOWN else text[:_FORMULA_SHOWN] + "…"
            warning = Problem(cells.number, column, ProblemCode.FORMULA, {"value": value})
            cells.warnings.append(warning)


def _check_row(
    cells: _Cells, today: date
) -> tuple[LedgerRow | None, IdInfo | None, Problem | None]:
    """The row if it has no problem, what its ID number says (for duplicates), and the
    problem of a child past the category's age limit, when that is the row's only one (then
    it is not among the row's problems: planning decides)."""
    name, village = cells.text(NAME), cells.text(VILLAGE)
    for column, value in ((NAME, name), (VILLAGE, village)):
        if not value:
            cells.bad(column, ProblemCode.REQUIRED)
    _check_texts(cells)
    id_info = _check_id(cells)
    gender = _check_gender(cells, id_info)
    birth_date, birth_column = _check_birth_date(cells, id_info)
    category = _check_value(cells, CATEGORY, parse_category, required=True)
    colour = _check_value(cells, COLOUR, parse_colour, required=True)
    too_old = None
    if birth_date and category:
        for code in eligibility_problems(birth_date, category, today):
            if code == ProblemCode.BIRTH_IN_FUTURE:
                cells.bad(birth_column, code, birth_date=birth_date.isoformat())
            else:
                age, limit = age_on(birth_date, today), category.age_limit
                too_old = Problem(
                    cells.number, CATEGORY, ProblemCode(code),
                    {"age": age, "limit": limit, "category": category.value},
                )  # fmt: skip
    phone = _check_value(cells, GUARDIAN_PHONE, _phone, required=False)
    lunar_birthday = _check_value(cells, LUNAR_BIRTHDAY, parse_lunar_birthday, required=False)
    consent = _check_value(cells, CONSENT, _consent, required=False)
    if cells.problems and too_old is not None:
        cells.problems.append(too_old)  # rejected anyway: the age is one of its problems
        too_old = None
    if cells.problems or not (gender and birth_date and category and colour):
        return None, id_info, None
    optional = cells.optional
    row = LedgerRow(
        row=cells.number,
        name=name,
        gender=gender,
        birth_date=birth_date,
        category=category,
        colour=colour,
        village=village,
        id_number=id_info.number if id_info else None,
        ethnicity=optional(ETHNICITY),
        county=optional(COUNTY),
        town=optional(TOWN),
        household=optional(HOUSEHOLD),
        schooling=optional(SCHOOLING),
        school=optional(SCHOOL),
        health=optional(HEALTH),
        disability=optional(DISABILITY),
        guardian_name=optional(GUARDIAN_NAME),
        guardian_relation=optional(GUARDIAN_RELATION),
        guardian_phone=phone,
        father_work=optional(FATHER_WORK),
        mother_work=optional(MOTHER_WORK),
        lunar_birthday=lunar_birthday,
        consent=consent,
    )
    return row, id_info, too_old


def _find_header(rows: Iterator[Sequence[object]]) -> tuple[int, list[object]] | None:
    """The header's row number and cells; the iterator is left at the first data row."""
    for number, cells in enumerate(rows, start=1):
        if sum(_header_key(_text(c)) in _HEADERS for c in cells) >= _MIN_HEADER_MATCHES:
            return number, list(cells)
        if number == _HEADER_SCAN_ROWS:
            break
    return None


def _column_indexes(header: Sequence[object]) -> tuple[dict[str, int], list[Problem]]:
    columns: dict[str, int] = {}
    duplicated: list[str] = []
    for index, cell in enumerate(header):
        column = _HEADERS.get(_header_key(_text(cell)))
        if column is None:
            continue  # columns we do not keep are ignored
        if column in columns:
            duplicated.append(column)
        columns.setdefault(column, index)
    problems = []
    if missing := [c for c in REQUIRED_COLUMNS if c not in columns]:
        problems.append(Problem(None, None, ProblemCode.MISSING_COLUMNS, {"columns": missing}))
    if duplicated:
        problems.append(Problem(None, None, ProblemCode.DUPLICATE_COLUMNS, {"columns": duplicated}))
    return columns, problems


def parse_ledger_rows(rows: Iterable[Sequence[object]], *, today: date) -> LedgerParse:
    """Check a sheet given as rows of cell values (str, int, float, date, datetime, None)."""
    iterator = iter(rows)
    found = _find_header(iterator)
    if found is None:
        return LedgerParse([], [Problem(None, None, ProblemCode.NO_HEADER)])
    header_row, header = found
    columns, problems = _column_indexes(header)
    if problems:
        return LedgerParse([], problems)
    serial = columns.get(SERIAL)
    checked: list[LedgerRow] = []
    aged: list[AgedOut] = []
    warnings: list[Problem] = []
    rows_by_id: dict[str, list[int]] = defaultdict(list)
    for number, cells in enumerate(iterator, start=header_row + 1):
        # skip blank rows, and rows a template numbered in advance but nobody filled
        if not any(_text(c) for i, c in enumerate(cells) if i != serial):
            continue
        row_cells = _Cells(number, cells, columns)
        row, id_info, too_old = _check_row(row_cells, today)
        if row is not None and too_old is not None:
            aged.append(AgedOut(row, too_old))
        elif row is not None:
            checked.append(row)
        if id_info is not None:
            rows_by_id[id_info.number].append(number)
        problems.extend(row_cells.problems)
        warnings.extend(row_cells.warnings)
    problems.extend(_duplicate_ids(rows_by_id))
    rejected = {p.row for p in problems}
    order = {column: i for i, column in enumerate(LEDGER_COLUMNS)}
    problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", 0)))
    return LedgerParse(
        [r for r in checked if r.row not in rejected], problems, warnings,
        [a for a in aged if a.row.row not in rejected],
    )  # fmt: skip


def _duplicate_ids(rows_by_id: Mapping[str, list[int]]) -> list[Problem]:
    """Every row whose ID number another row of the file also has."""
    return [
        Problem(n, ID_NUMBER, ProblemCode.DUPLICATE_ID, {"other_rows": [m for m in same if m != n]})
        for same in rows_by_id.values()
        if len(same) > 1
        for n in same
    ]


def parse_ledger(data: bytes, *, today: date, limits: SheetLimits | None = None) -> LedgerParse:
    """Read an uploaded ledger: XLSX, or CSV in UTF-8 (with or without BOM), GB18030 or UTF-16,
    within `limits` (by default `SheetLimits()`); a file past them is refused with one problem
    before it is parsed (an .xlsx) or as soon as the rows pass them (a CSV).

    The format is told by the content, not the file name.
    """
    limits = limits or SheetLimits()
    try:
        check_size(data, limits)
        if data.startswith(b"PK\x03\x04"):
            return _parse_xlsx(data, today, limits)
        if data.startswith(b"\xd0\xcf\x11\xe0"):  # the old binary .xls
            return _file_problem(ProblemCode.UNSUPPORTED_FORMAT, format="xls")
        return _parse_csv(data, today, limits)
    except TooLarge as too_large:
        return _too_large(too_large)
    except Unreadable:
        return _file_problem(ProblemCode.UNREADABLE_FILE)


def _parse_csv(data: bytes, today: date, limits: SheetLimits) -> LedgerParse:
    text = _decode(data)
    if text is None:
        return _file_problem(ProblemCode.UNREADABLE_FILE)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return parse_ledger_rows(bounded(rows, limits), today=today)
    except csv.Error:  # e.g. a field over the csv module's size limit: not a ledger
        return _file_problem(ProblemCode.UNREADABLE_FILE)


def _decode(data: bytes) -> str | None:
    encodings = ("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ()
    for encoding in (*encodings, "utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _parse_xlsx(data: bytes, today: date, limits: SheetLimits) -> LedgerParse:
    """The first sheet with a header row (an instructions sheet before it is skipped)."""
    for rows in _xlsx_sheets(data, limits):
        result = parse_ledger_rows(rows, today=today)
        if [p.code for p in result.problems] != [ProblemCode.NO_HEADER]:
            return result
    return _file_problem(ProblemCode.NO_HEADER)


_EXCESS = {
    Excess.FILE: ProblemCode.FILE_TOO_BIG,
    Excess.UNPACKED: ProblemCode.UNPACKED_TOO_BIG,
    Excess.ROWS: ProblemCode.TOO_MANY_ROWS,
    Excess.COLUMNS: ProblemCode.TOO_MANY_COLUMNS,
    Excess.SHARED_STRINGS: ProblemCode.SHARED_STRINGS_TOO_BIG,
}
_IN_MEGABYTES = (Excess.FILE, Excess.UNPACKED, Excess.SHARED_STRINGS)


def _too_large(error: TooLarge) -> LedgerParse:
    limit = f"{error.limit / MB:g}" if error.excess in _IN_MEGABYTES else f"{error.limit:,}"
    return _file_problem(_EXCESS[error.excess], limit=limit)


def file_too_big(limits: SheetLimits) -> Problem:
    """What `parse_ledger` says of a file over the size limit, for those who can tell before
    they read it (a document's declared size, a file's)."""
    [problem] = _too_large(TooLarge(Excess.FILE, limits.max_file_bytes)).problems
    return problem


def _file_problem(code: ProblemCode, **params: object) -> LedgerParse:
    return LedgerParse([], [Problem(None, None, code, params)])


def row_to_cells(row: LedgerRow, serial: int | None = None) -> list[str]:
    """The row in `LEDGER_COLUMNS` order, all text; 序号 is `serial`, by default `row.row - 1`
    (the header being row 1)."""

    def show(value: str | None) -> str:
        return value or ""

    consent = "" if row.consent is None else ("是" if row.consent else "否")
    serial = row.row - 1 if serial is None else serial
    return [
        str(serial), row.name, GENDER_LEDGER_NAMES[row.gender], show(row.ethnicity),
        row.birth_date.isoformat(), show(row.id_number), row.category.ledger_name,
        row.colour.ledger_name, show(row.county), show(row.town), row.village,
        show(row.household), show(row.schooling), show(row.school), show(row.health),
        show(row.disability), show(row.guardian_name), show(row.guardian_relation),
        show(row.guardian_phone), show(row.father_work), show(row.mother_work),
        str(row.lunar_birthday or ""), consent,
    ]  # fmt: skip


def write_ledger_csv(rows: Iterable[LedgerRow]) -> bytes:
    """UTF-8 with BOM, which Excel needs to show Chinese. Excel still reads long digit strings
    as numbers when it opens a CSV: prefer XLSX for people who edit in Excel. A cell that
    Excel would run as a formula gets a leading apostrophe, which the import takes off."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(LEDGER_COLUMNS)
    writer.writerows(
        [formulas.csv_text(text) for text in row_to_cells(row, serial)]
        for serial, row in enumerate(rows, start=1)
    )
    return out.getvalue().encode("utf-8-sig")


_TEXT_COLUMNS = frozenset(LEDGER_COLUMNS.index(c) for c in (BIRTH_DATE, ID_NUMBER, GUARDIAN_PHONE))


Sheet = tuple[str, Sequence[str], Iterable[Sequence[object]]]  # title, header, rows
PAIRINGS_SHEET = (
    "结对情况",
    ("姓名", "身份证号", "村(社区)", "结对志愿者", "结对日期", "复核日期"),
)
VISITS_SHEET = ("最近走访", ("姓名", "身份证号", "村(社区)", "最近走访日期"))


def _text_cell(sheet: WriteOnlyWorksheet, text: str, *, text_format: bool = False) -> str | Cell:
    """A cell that holds `text` as text, never as a formula or an error value: openpyxl makes
    any text that starts with "=" a formula, so such text gets a cell typed as a string, marked
    with Excel's quote prefix (the apostrophe a person types) so that it stays text when
    someone edits it. Its value is unchanged: the export re-imports as it is."""
    # No worksheet holds control characters (openpyxl raises): the import refuses them, and a
    # record that has one anyway (stored before, or typed in a form) must not stop the export.
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if not (text_format or formulas.needs_text_type(text)):
        return text  # openpyxl writes it as a string
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if text_format:
        cell.number_format = "@"
    if formulas.needs_text_type(text):
        cell.quotePrefix = True
    return cell


def write_ledger_xlsx(rows: Iterable[LedgerRow], extra: Sequence[Sheet] = ()) -> bytes:
    """The ledger sheet first (so the file re-imports as it is), then any `extra` sheets.
    Every cell of every sheet is text, never a formula (`_text_cell`); ID, date and phone cells
    also carry the text format (@), so that Excel keeps them as text when someone edits them."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.append(list(LEDGER_COLUMNS))
    for serial, row in enumerate(rows, start=1):
        texts = enumerate(row_to_cells(row, serial))
        sheet.append([_text_cell(sheet, text, text_format=i in _TEXT_COLUMNS) for i, text in texts])
    for title, header, values in extra:
        other = workbook.create_sheet(title)
        other.append(list(header))
        for value_row in values:
            other.append([_text_cell(other, "" if v is None else str(v)) for v in value_row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
