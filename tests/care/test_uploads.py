"""Uploads within limits (care.uploads): hostile spreadsheets are refused, with one problem,
before anything is parsed, and within the memory an import may take."""

from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
from datetime import date
from pathlib import Path

import pytest

from care.idcard import make_id
from care.ledger import LEDGER_COLUMNS, Problem, ProblemCode, parse_ledger
from care.uploads import MB, SheetLimits, _above, _letters_above
from sandbox import hostile
from sandbox.hostile import cell, xlsx

TODAY = date(2026, 11, 23)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLE_XLSX = (FIXTURES / "ledger-sample.xlsx").read_bytes()
SAMPLE_CSV = (FIXTURES / "ledger-sample.csv").read_bytes()
PEAK_MB = 300  # the most an import may take (issue #12)


def refused(data: bytes, limits: SheetLimits | None = None) -> list[tuple[ProblemCode, object]]:
    parsed = parse_ledger(data, today=TODAY, limits=limits)
    assert parsed.rows == [] and all(p.row is None for p in parsed.problems)
    return [(p.code, p.params.get("limit")) for p in parsed.problems]


def header_row(number: int = 1) -> bytes:
    cells = b"".join(cell(f"{chr(ord('A') + i)}{number}", c) for i, c in enumerate(LEDGER_COLUMNS))
    return b'<row r="%d">%s</row>' % (number, cells)


# --- the patterns of the quick scan -----------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 9, 10, 64, 99, 100, 2024, 50_000])
def test_numbers_above_a_limit(limit: int) -> None:
    pattern = re.compile(_above(limit))
    for number in [*range(1, 2100), 49_999, 50_000, 50_001, 99_999, 100_000, 10**12]:
        assert bool(pattern.match(str(number).encode())) == (number > limit), number


@pytest.mark.parametrize("limit", [1, 25, 26, 27, 52, 64, 100, 702, 703, 16_384])
def test_column_letters_above_a_limit(limit: int) -> None:
    pattern = re.compile(_letters_above(limit))
    for number in [*range(1, 800), 16_383, 16_384, 16_385, 20_000]:
        name = ""
        rest = number
        while rest:
            rest, letter = divmod(rest - 1, 26)
            name = chr(ord("A") + letter) + name
        for written in (name, name.lower()):
            found = bool(pattern.match(f"{written}1".encode()))
            assert found == (number > limit), written


# --- bombs ----------------------------------------------------------------------------------


def test_a_million_empty_rows_is_refused() -> None:
    assert refused(hostile.row_bomb()) == [(ProblemCode.TOO_MANY_ROWS, "50,000")]


def test_packed_shared_strings_are_refused() -> None:
    data = hostile.shared_strings_bomb()
    assert len(data) < 1 * MB
    assert refused(data) == [(ProblemCode.SHARED_STRINGS_TOO_BIG, "20")]


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        ("XFD1048576", ProblemCode.TOO_MANY_COLUMNS),  # both: the column is told
        ("XFD1", ProblemCode.TOO_MANY_COLUMNS),
        ("xfd1", ProblemCode.TOO_MANY_COLUMNS),  # calamine reads lower case as upper
        ("BM1", ProblemCode.TOO_MANY_COLUMNS),  # column 65
        ("A50001", ProblemCode.TOO_MANY_ROWS),
        ("A000000050001", ProblemCode.TOO_MANY_ROWS),  # leading zeros: the exact scan
    ],
)
def test_a_cell_far_away_is_refused(reference: str, code: ProblemCode) -> None:
    sheet = b'<row r="1">' + cell("A1", "x") + b'</row><row r="2">' + cell(reference, "y")
    assert [c for c, _ in refused(xlsx([sheet + b"</row>"]))] == [code]


def test_the_last_column_and_row_within_the_limits_are_read() -> None:
    rows = [header_row(), b'<row r="50000">', cell("BL50000", "y"), b"</row>"]
    problems = parse_ledger(xlsx(rows), today=TODAY).problems
    assert {p.row for p in problems} == {50_000}  # read: its name, village… are missing


@pytest.mark.parametrize(
    "sheet",
    [
        b"<row/>" * 50_001,  # rows without a reference: one after the other
        b"<row><c/></row>" * 50_001,
        b"<row>" + b'<c t="inlineStr"><is><t>x</t></is></c>' * 65 + b"</row>",  # next column
        b'<x:row r="50001"><x:c r="A50001"/></x:row>',  # a namespace prefix
        b'<row r="1"><c t="s" r="XFD1"/></row>',  # the reference not first
        b"<row r='1'><c r='XFD1'/></row>",  # single quotes
    ],
    ids=["rows", "rows of cells", "columns", "prefix", "attribute order", "quotes"],
)
def test_unusual_layouts_are_scanned_exactly(sheet: bytes) -> None:
    codes = [code for code, _ in refused(xlsx([sheet]))]
    assert codes in ([ProblemCode.TOO_MANY_ROWS], [ProblemCode.TOO_MANY_COLUMNS])


def with_sheet(text: bytes) -> bytes:
    """A workbook whose sheet is `text`, whole."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx([]))) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy,
    ):
        for info in source.infolist():
            sheet = info.filename == "xl/worksheets/sheet1.xml"
            copy.writestr(info.filename, text if sheet else source.read(info))
    return out.getvalue()


def test_a_sheet_with_a_dtd_or_broken_xml_in_an_unusual_layout_is_unreadable() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<worksheet><sheetData><row><c><v>&b;</v></c></row></sheetData></worksheet>"
    )
    assert refused(with_sheet(laughs)) == [(ProblemCode.UNREADABLE_FILE, None)]
    broken = xlsx([b'<row r="1"><c t="<" r="XFD1"/></row>'])  # "<" in an attribute
    assert refused(broken) == [(ProblemCode.UNREADABLE_FILE, None)]


def test_a_member_unpacking_past_the_limit_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(SAMPLE_XLSX)) as source, zipfile.ZipFile(out, "w") as copy:
        for info in source.infolist():
            copy.writestr(info, source.read(info), zipfile.ZIP_DEFLATED)
        copy.writestr("docProps/custom.xml", b" " * (3 * MB), zipfile.ZIP_DEFLATED)
    small = SheetLimits(max_unpacked_bytes=2 * MB)
    assert refused(out.getvalue(), small) == [(ProblemCode.UNPACKED_TOO_BIG, "2")]
    assert parse_ledger(out.getvalue(), today=TODAY).problems == []  # within 64 MB


def test_sizes_the_zip_declares_are_not_trusted() -> None:
    """A member that declares 100 bytes and unpacks to 30 MB is measured as 30 MB."""
    data = bytearray(xlsx([b'<row r="1">' + cell("A1", "x") + b"</row>"], [b" " * (30 * MB)]))
    directory = data.rfind(b"PK\x05\x06")
    (start,) = struct.unpack_from("<I", data, directory + 16)
    while data[start : start + 4] == b"PK\x01\x02":
        name_length, extra, comment = struct.unpack_from("<HHH", data, start + 28)
        struct.pack_into("<I", data, start + 24, 100)  # the uncompressed size it declares
        start += 46 + name_length + extra + comment
    lying = bytes(data)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("xl/sharedStrings.xml").file_size == 100
    assert refused(lying) == [(ProblemCode.SHARED_STRINGS_TOO_BIG, "20")]


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    small = SheetLimits(max_file_bytes=MB // 2)
    assert refused(b"PK\x03\x04" + bytes(MB), small) == [(ProblemCode.FILE_TOO_BIG, "0.5")]


def test_the_sample_ledger_over_small_limits() -> None:
    assert refused(SAMPLE_XLSX, SheetLimits(max_rows=40)) == [(ProblemCode.TOO_MANY_ROWS, "40")]
    assert refused(SAMPLE_XLSX, SheetLimits(max_columns=22)) == [
        (ProblemCode.TOO_MANY_COLUMNS, "22")
    ]
    assert parse_ledger(SAMPLE_XLSX, today=TODAY, limits=SheetLimits(max_rows=41)).problems == []


def test_csv_rows_and_columns_are_bounded_as_they_are_read() -> None:
    rows = [list(LEDGER_COLUMNS)] + [[""] * len(LEDGER_COLUMNS)] * 50_000
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    assert refused(out.getvalue().encode()) == [(ProblemCode.TOO_MANY_ROWS, "50,000")]
    wide = ",".join([*LEDGER_COLUMNS, *("x" * 50)]) + "\n"
    assert refused(wide.encode()) == [(ProblemCode.TOO_MANY_COLUMNS, "64")]


def test_row_numbers_are_the_sheets_own_after_empty_rows() -> None:
    """calamine's rows start at the sheet's first row, whatever row its first cell is on."""
    rows = [b'<row r="4">' + cell("C4", "台账") + b"</row>", header_row(6)]
    data = [f"{chr(ord('A') + i)}8" for i in range(len(LEDGER_COLUMNS))]
    values = ["1", "孔涵", "女", "汉族", "2013-12-15", "320999201312157881"]  # wrong check digit
    rows.append(b'<row r="8">' + b"".join(map(cell, data, values)) + b"</row>")
    problems = parse_ledger(xlsx(rows), today=TODAY).problems
    assert Problem(8, "身份证号", ProblemCode.ID_CHECKSUM) in problems


# --- memory ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (hostile.row_bomb, "too_many_rows"),
        (hostile.shared_strings_bomb, "shared_strings_too_big"),
        (hostile.far_cell, "too_many_rows"),
    ],
    ids=["a million empty rows", "shared strings", "a cell at XFD1048576"],
)
def test_bombs_are_refused_within_the_memory_an_import_may_take(
    make: object, code: str, tmp_path: Path
) -> None:
    """In a fresh interpreter: its peak memory includes calamine's (Rust) heap."""
    assert callable(make)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(make())
    result = hostile.parse_peak(path)
    assert result["codes"] == [code]
    assert isinstance(result["peak_mb"], float) and result["peak_mb"] < PEAK_MB


def test_the_heaviest_file_within_the_limits_is_read_within_that_memory(tmp_path: Path) -> None:
    """Shared strings and cells up to the limits: what calamine holds is bounded by them."""
    path = tmp_path / "heavy.xlsx"
    path.write_bytes(hostile.heaviest(SheetLimits()))
    result = hostile.parse_peak(path)
    assert result["codes"] == ["no_header"]  # read in full: numbers, no header
    assert isinstance(result["peak_mb"], float) and result["peak_mb"] < PEAK_MB


def ledger_of(count: int) -> bytes:
    """The sample's 40 children again and again, each copy with ID numbers of its own."""
    header, *rows = list(csv.reader(io.StringIO(SAMPLE_CSV.decode("utf-8-sig"))))
    born, number = header.index("出生日期"), header.index("身份证号")
    copies = []
    for n in range(count):
        row = list(rows[n % len(rows)])
        birth = date.fromisoformat(row[born])
        sequence = int(row[number][14:17]) % 2 + 2 * (n // len(rows) % 400)  # keeps the gender
        row[number] = make_id(f"32{n // 16000:04d}", birth, sequence)
        copies.append(row)
    return xlsx(hostile.rows_xml([header, *copies]))


def test_a_large_ledger_parses_within_the_memory_an_import_may_take(tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(ledger_of(10_000))
    result = hostile.parse_peak(path)
    assert result["codes"] == [] and result["rows"] == 10_000
    assert isinstance(result["peak_mb"], float) and result["peak_mb"] < PEAK_MB
