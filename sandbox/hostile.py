"""Hostile uploads, made in memory: spreadsheets that make a parser allocate gigabytes (issue
#12), for the tests and the import benchmark. Written member by member in pieces, so that
making a file of 200 MB unpacked does not take 200 MB; and `parse_peak`, which parses a file
in a fresh interpreter and reports its peak memory (the process's, calamine's Rust heap
included, which tracemalloc does not see).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from care.uploads import SheetLimits

_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_TYPE}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<workbook {_NS.decode()} xmlns:r="{_REL}"><sheets>'
        '<sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def _batched(parts: Iterable[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    batch: list[bytes] = []
    length = 0
    for part in parts:
        batch.append(part)
        length += len(part)
        if length >= size:
            yield b"".join(batch)
            batch, length = [], 0
    yield b"".join(batch)


def xlsx(sheet_data: Iterable[bytes], shared_strings: Iterable[bytes] = ()) -> bytes:
    """A one-sheet workbook whose <sheetData> is `sheet_data` and whose shared strings are
    `shared_strings` (each an <si> element), deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        members = {
            "xl/sharedStrings.xml": (b"<sst " + _NS + b">", shared_strings, b"</sst>"),
            "xl/worksheets/sheet1.xml": (
                b"<worksheet " + _NS + b"><sheetData>",
                sheet_data,
                b"</sheetData></worksheet>",
            ),
        }
        for name, (head, body, tail) in members.items():
            with archive.open(name, "w") as member:
                member.write(head)
                for batch in _batched(body):
                    member.write(batch)
                member.write(tail)
    return out.getvalue()


def cell(reference: str, text: str) -> bytes:
    return f'<c r="{reference}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'.encode()


def column_name(index: int) -> str:
    """0 → A, 26 → AA."""
    name, number = "", index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def rows_xml(rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """Rows of texts as <row> elements, from row 1, empty cells left out (as Excel does): a
    large ledger made in a fraction of the time openpyxl takes."""
    for number, texts in enumerate(rows, start=1):
        cells = b"".join(
            cell(f"{column_name(i)}{number}", text) for i, text in enumerate(texts) if text
        )
        yield b'<row r="%d">%s</row>' % (number, cells)


def row_bomb(rows: int = 1_000_000) -> bytes:
    """A million empty rows (2.5 MB): openpyxl took 2.25 GB over the like."""
    return xlsx(b'<row r="%d"/>' % n for n in range(1, rows + 1))


def shared_strings_bomb(megabytes: int = 100) -> bytes:
    """A ledger-looking sheet over `megabytes` of tiny shared strings (under 1 MB packed):
    openpyxl took 1.8 GB over the like, calamine 330 MB per 100 MB."""
    header = b'<row r="1">' + cell("A1", "姓名") + cell("B1", "性别") + cell("C1", "出生日期")
    count = megabytes * (1 << 20) // 18
    return xlsx([header + b"</row>"], (b"<si><t>ab</t></si>" for _ in range(count)))


def far_cell(reference: str = "XFD1048576") -> bytes:
    """Two cells, at A1 and at `reference`: calamine would hold every cell between (at
    XFD1048576, 17 billion of them: it aborts the process)."""
    row = int("".join(c for c in reference if c.isdigit()))
    return xlsx([b'<row r="1">' + cell("A1", "x") + b'</row><row r="%d">' % row +
                 cell(reference, "y") + b"</row>"])  # fmt: skip


def numbers(rows: int, columns: int, first: int = 1) -> Iterator[bytes]:
    """Rows of small numbers: the most cells (so the most memory) per unpacked byte."""
    names = [column_name(index).encode() for index in range(columns)]
    for number in range(first, first + rows):
        cells = b"".join(b'<c r="%s%d"><v>%d</v></c>' % (n, number, number) for n in names)
        yield b'<row r="%d">%s</row>' % (number, cells)


def heaviest(limits: SheetLimits) -> bytes:
    """The upload within `limits` that takes the most memory to parse: shared strings up to
    their limit (calamine holds them all), then rows of numbers as wide as allowed, up to the
    unpacked limit (calamine takes about 70 bytes a cell while it reads them)."""
    strings = (limits.max_shared_strings_bytes - 1024) // 18
    row_bytes = len(next(numbers(1, limits.max_columns, limits.max_rows - 1)))
    room = limits.max_unpacked_bytes - strings * 18 - 64 * 1024
    rows = min(room // row_bytes, limits.max_rows)
    return xlsx(numbers(rows, limits.max_columns), (b"<si><t>ab</t></si>" for _ in range(strings)))


_PARSE = """
import json, sys
from datetime import date
from care.ledger import parse_ledger

def peak_mb():  # this process's peak resident memory (ru_maxrss would count the parent's too)
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

data = open(sys.argv[1], "rb").read()
before = peak_mb()
parsed = parse_ledger(data, today=date(2026, 11, 23))
print(json.dumps({"codes": [p.code.value for p in parsed.problems if p.row is None],
                  "rows": len(parsed.rows), "before_mb": before, "peak_mb": peak_mb()}))
"""


def parse_peak(path: Path) -> dict[str, object]:
    """Parses the file at `path` with the default limits in a fresh interpreter: the file-level
    problem codes, the rows accepted, and the process's peak resident memory (MB, Linux's
    VmHWM) before and after parsing."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", _PARSE, str(path)],
        cwd=root, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result
