"""Inline keyboards. Callback data is `<flow>:<action>[:<arg>...]`, at most 64 bytes, and
never trusted: every press is re-checked by the guard and the handler."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from care.children import Colour
from care.pairing import Rule
from locales import Translator, labels
from service.pairing import Offer
from storage.children import ChildLine


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return _markup(tuple(tuple(row) for row in rows))


@functools.lru_cache(maxsize=4096)
def _markup(rows: tuple[tuple[tuple[str, str], ...], ...]) -> InlineKeyboardMarkup:
    # The same questions are asked over and over: their keyboards are built once (PTB's objects
    # are frozen, so one can be sent any number of times).
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def column(buttons: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    return keyboard([[button] for button in buttons])


def pager(
    to: str | Callable[[int], str], page: int, pages: int, prev_label: str, next_label: str
) -> list[tuple[str, str]]:
    """◀ / ▶ buttons for a paged list; empty when everything fits on one page. `to` builds a
    page's callback data: an Action (`PAGE(n)`) or any function of the page number; a plain
    prefix string still works (`<prefix>:<page>`)."""
    data = (lambda n: f"{to}:{n}") if isinstance(to, str) else to
    row: list[tuple[str, str]] = []
    if page > 0:
        row.append((f"◀ {prev_label}", data(page - 1)))
    if page + 1 < pages:
        row.append((f"{next_label} ▶", data(page + 1)))
    return row


def child_label(line: ChildLine, t: Translator, age: int) -> str:
    """A child on a button: colour, name, village, age (no more: buttons are seen by all);
    a closed record is marked 🔒 instead of its colour."""
    dot = labels.COLOUR_DOT[Colour(line.colour)] if line.active else "🔒"
    village = line.area_path.rsplit("/", 1)[-1]
    return f"{dot} {line.name} · {village} · {t('child.age', age=age)}"


def rule_names(rules: Sequence[str], t: Translator) -> str:
    """The pairing rules a choice breaks, named in the reader's language."""
    return "；".join(t(labels.RULE[Rule(r)]) for r in rules)


def candidate_label(offer: Offer, t: Translator) -> str:
    """A volunteer offered for a child (to pair or to reassign): load, sibling family, rules."""
    label = t("pair.candidate", name=offer.name, gender=t(labels.GENDER[offer.gender]),
              load=offer.load)  # fmt: skip
    if offer.sibling_family:
        label = "👪 " + label
    if offer.breaks:
        label += " ⚠ " + rule_names(offer.breaks, t)
    return label
