"""Uploaded spreadsheets read within limits: the file's size, what it unpacks to, how many rows
and columns a sheet spans, how large its shared strings are; all checked before a parser
allocates anything, then the sheets read row by row.

An .xlsx is a zip of XML. A 5 MB file of a million empty rows, 0.8 MB of packed shared strings,
or a sheet with one cell at A1 and one at XFD1048576 make a parser allocate gigabytes: calamine
holds a sheet as one block from its first cell to its last (and aborts the process when that
block cannot be had), and reads every shared string up front. So before calamine opens a file,
each member is unpacked here as a stream, counting the bytes it really unpacks to (the sizes a
zip declares are not trusted), and the sheets' row and cell references are scanned for the
furthest row and column.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from xml.parsers import expat

from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook, SheetTypeEnum

MB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class SheetLimits:
    """What an upload may be. The defaults fit a county's ledger (50,000 rows of 23 columns
    unpack to about 57 MB as our own export writes them, less as Excel saves them) and keep the
    peak memory of a parse near 200 MB whatever the file (benchmarks/import_ledger.py): calamine
    takes about 70 bytes a cell while it reads a sheet, and 3 bytes per byte of shared
    strings."""

    max_file_bytes: int = 10 * MB
    max_unpacked_bytes: int = 64 * MB  # all members of an .xlsx together
    max_rows: int = 50_000  # of a sheet, header included
    max_columns: int = 64
    max_shared_strings_bytes: int = 20 * MB  # calamine holds every shared string at once


class Excess(StrEnum):
    FILE = "file"
    UNPACKED = "unpacked"
    ROWS = "rows"
    COLUMNS = "columns"
    SHARED_STRINGS = "shared_strings"


class TooLarge(Exception):
    """The upload passes one of its limits; nothing of it was parsed."""

    def __init__(self, excess: Excess, limit: int) -> None:
        super().__init__(f"{excess.value} over {limit}")
        self.excess, self.limit = excess, limit


class Unreadable(Exception):
    """Not a spreadsheet we can read (a broken or encrypted zip, a sheet calamine refuses)."""


def check_size(data: bytes, limits: SheetLimits) -> None:
    if len(data) > limits.max_file_bytes:
        raise TooLarge(Excess.FILE, limits.max_file_bytes)


def bounded(rows: Iterable[Sequence[object]], limits: SheetLimits) -> Iterator[Sequence[object]]:
    """The rows, refused (TooLarge) past the row or column limit: for CSV, whose rows are only
    known as they are read, and as a second guard behind `check_xlsx`."""
    for number, row in enumerate(rows, start=1):
        if number > limits.max_rows:
            raise TooLarge(Excess.ROWS, limits.max_rows)
        if len(row) > limits.max_columns:
            raise TooLarge(Excess.COLUMNS, limits.max_columns)
        yield row


# -- the zip, unpacked as a stream ------------------------------------------------------------

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, …, name length, extra length
_PIECE = 1 << 16


def _unpacked(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A member's bytes as they really unpack, in pieces of at most 64 KB: from the packed
    bytes the central directory points at (as calamine's zip reader finds them), whatever
    sizes the zip declares."""
    if info.flag_bits & 0x1:
        raise Unreadable("encrypted")
    start = info.header_offset
    header = data[start : start + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size:
        raise Unreadable("truncated")
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    if signature != b"PK\x03\x04":
        raise Unreadable("no local header")
    start += _LOCAL_HEADER.size + name_length + extra_length
    packed = memoryview(data)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        for offset in range(0, len(packed), _PIECE):
            yield bytes(packed[offset : offset + _PIECE])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise Unreadable("compression")
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for offset in range(0, len(packed), _PIECE):
            piece = inflate.decompress(packed[offset : offset + _PIECE], _PIECE)
            while piece:
                yield piece
                piece = inflate.decompress(inflate.unconsumed_tail, _PIECE)
            if inflate.eof:
                return
    except zlib.error as error:
        raise Unreadable("inflate") from error


# -- how far a sheet reaches -------------------------------------------------------------------


def _above(limit: int) -> bytes:
    """A pattern for the decimal numbers (without leading zeros) greater than `limit`; it
    matches their first digits, so a number of any length is found in its first few bytes."""
    digits = str(limit)
    options = [b"[0-9]{%d}" % (len(digits) + 1)]
    for index, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - index - 1
            options.append(b"%s[%d-9][0-9]{%d}" % (digits[:index].encode(), int(digit) + 1, rest))
    return b"(?:" + b"|".join(options) + b")"


def _column_name(number: int) -> str:
    """1 → A, 27 → AA."""
    name = ""
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _letters_above(limit: int) -> bytes:
    """A pattern for the start of a cell reference whose column is past column number
    `limit`, in either case (calamine reads `zz1` as ZZ1): more letters than the limit's name
    has (found in the first few), or as many and later in the alphabet."""
    name = _column_name(limit)

    def either(char: str) -> bytes:
        return b"[%s%s]" % (char.encode(), char.lower().encode())

    options = [b"[A-Za-z]{%d}" % (len(name) + 1)]
    for index, char in enumerate(name):
        if char != "Z":
            low = chr(ord(char) + 1)
            later = b"[%s-Z%s-z]" % (low.encode(), low.lower().encode())
            same = b"".join(either(c) for c in name[:index])
            rest = len(name) - index - 1
            options.append(same + later + b"[A-Za-z]{%d}[0-9]" % rest)
    return b"(?:" + b"|".join(options) + b")"


# What Excel, WPS and openpyxl write: every row and cell tag with its reference first, a number
# without leading zeros. Anything else (a tag without a reference, or with other attributes
# first, or with a namespace prefix; a "<" that starts no tag, as in CDATA or a malformed
# attribute) sends the member to the exact scan.
_UNUSUAL = re.compile(
    rb"<(?:c(?=[\s/>])(?! r=\")|row(?=[\s/>])(?! r=\")|c r=\"[A-Za-z]*0|row r=\"0"
    rb"|[\w.-]+:(?:c|row)[\s/>]|(?![A-Za-z_/?!]))"
)
_RUN = 1 << 20  # text without a "<" is passed on in pieces of this size


def _pieces_of_tags(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The text again, in pieces that end before a "<", so that the start of a tag (up to the
    first megabyte of a longer one) is never cut in two."""
    rest = b""
    for piece in pieces:
        text = rest + piece
        cut = text.rfind(b"<")
        if cut > 0:
            yield text[:cut]
            rest = text[cut:]
        elif len(text) > _RUN:
            yield text
            rest = b""
        else:
            rest = text
    if rest:
        yield rest


@cache
def _far(rows: int, columns: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Patterns for a row, and a cell, whose reference is past these limits."""
    row = re.compile(b'<row r="' + _above(rows))
    column = b"(?P<column>" + _letters_above(columns) + b")"
    return row, re.compile(b'<c r="(?:' + column + b"|[A-Za-z]+" + _above(rows) + b")")


class _Reach:
    """How far a sheet's cells reach, as calamine places them: a row or a cell with a reference
    where it says; one without, right after the one before (counted here from the furthest so
    far, which can only be further). The usual layout is checked with a few regular
    expressions over each piece of text, any other layout element by element with expat."""

    def __init__(self, limits: SheetLimits) -> None:
        self.limits = limits
        self.row = 0  # the furthest row so far
        self.column = 0  # the furthest column of the current row
        self._big_row, self._big_cell = _far(limits.max_rows, limits.max_columns)

    def fast(self, text: bytes) -> bool:
        """Checks `text` (from `_pieces_of_tags`) for a reference past the limits; False when
        the member is not in the usual layout and needs `exact`."""
        if self._big_row.search(text):
            raise TooLarge(Excess.ROWS, self.limits.max_rows)
        if found := self._big_cell.search(text):
            if found["column"] is not None:
                raise TooLarge(Excess.COLUMNS, self.limits.max_columns)
            raise TooLarge(Excess.ROWS, self.limits.max_rows)
        return _UNUSUAL.search(text) is None

    def exact(self, pieces: Iterable[bytes]) -> None:
        """The whole member, element by element; malformed XML, or a DTD (which could define
        entities), is Unreadable."""
        parser = expat.ParserCreate()
        parser.StartElementHandler = self._element
        parser.StartDoctypeDeclHandler = _no_doctype
        try:
            for piece in pieces:
                parser.Parse(piece, False)
            parser.Parse(b"", True)
        except expat.ExpatError as error:
            raise Unreadable("xml") from error

    def _element(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        reference = attributes.get("r", "").strip()
        if local == "row":
            number = reference.lstrip("0")
            self.row = _number(number) if number.isdigit() else self.row + 1
            self.column = 0
        elif local == "c":
            parts = _CELL_REFERENCE.fullmatch(reference)
            if parts is None:
                self.column += 1  # no reference (or one calamine refuses): the next column
            else:
                self.column = _column(parts[1].upper())
                self.row = max(self.row, _number(parts[2].lstrip("0")))
        else:
            return
        if self.row > self.limits.max_rows:
            raise TooLarge(Excess.ROWS, self.limits.max_rows)
        if self.column > self.limits.max_columns:
            raise TooLarge(Excess.COLUMNS, self.limits.max_columns)


_CELL_REFERENCE = re.compile(r"([A-Za-z]+)([0-9]+)")
_HUGE = 1 << 30  # past any limit


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= 9 else _HUGE  # int() refuses 4,300 digits and more


def _column(letters: str) -> int:
    if len(letters) > 4:
        return _HUGE
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - ord("A") + 1
    return column


def _no_doctype(*_args: object) -> None:
    raise expat.ExpatError("a DTD in a spreadsheet")


def check_xlsx(data: bytes, limits: SheetLimits) -> None:
    """Raises TooLarge (or Unreadable) unless every member of the .xlsx `data` unpacks within
    the limits and no sheet reaches past the row or column limit. Every member is scanned as
    a possible sheet: the workbook's relations may name any of them."""
    check_size(data, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise Unreadable("zip") from error
    total = 0
    unusual: list[zipfile.ZipInfo] = []
    for info in members:
        reach = _Reach(limits)
        shared = "sharedstrings" in info.filename.lower()
        size, usual = 0, True
        for text in _pieces_of_tags(_unpacked(data, info)):
            size += len(text)
            if total + size > limits.max_unpacked_bytes:
                raise TooLarge(Excess.UNPACKED, limits.max_unpacked_bytes)
            if shared and size > limits.max_shared_strings_bytes:
                raise TooLarge(Excess.SHARED_STRINGS, limits.max_shared_strings_bytes)
            if usual:
                usual = reach.fast(text)
        total += size
        if not usual:
            unusual.append(info)
    for info in unusual:  # read again, element by element (within the sizes just checked)
        _Reach(limits).exact(_unpacked(data, info))


# -- reading ---------------------------------------------------------------------------------


def xlsx_sheets(data: bytes, limits: SheetLimits) -> Iterator[Iterator[Sequence[object]]]:
    """Each worksheet of an .xlsx (after `check_xlsx`) as its rows of cell values (str, int,
    float, bool, date, datetime; "" for an empty cell), from the sheet's first row, so that the
    n-th row is the spreadsheet's row n. One sheet is held at a time; its cells are turned into
    Python values a row at a time."""
    check_xlsx(data, limits)
    try:
        with CalamineWorkbook.from_object(io.BytesIO(data)) as workbook:
            for index, sheet in enumerate(workbook.sheets_metadata):
                if sheet.typ == SheetTypeEnum.WorkSheet:
                    yield _rows(workbook.get_sheet_by_index(index), limits)
    except CalamineError as error:
        raise Unreadable("calamine") from error


def _rows(sheet: CalamineSheet, limits: SheetLimits) -> Iterator[Sequence[object]]:
    try:
        yield from bounded(sheet.iter_rows(), limits)
    except (CalamineError, ValueError, OverflowError) as error:  # e.g. a date past year 9999
        raise Unreadable("cell") from error
