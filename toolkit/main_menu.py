"""The main menu: a few big buttons under the message field (a persistent reply keyboard), per
role, in the person's language. A button sends its label as text; the guard takes a label for
the command it stands for (toolkit.guard), so it works like the command everywhere, inside a
flow too (where the always-open ones interrupt and the others are told to wait)."""

from __future__ import annotations

from functools import cache

from telegram import KeyboardButton, ReplyKeyboardMarkup

from care.roles import Role
from locales import LOCALES, Translator, catalog
from locales import _ as mark

# The main menu's buttons per role, two to a row: what each uses every day.
_VOLUNTEER = (("checkin", "urgent"), ("mychildren", "help"))
_DAILY = (("urgent", "overdue"), ("cases", "children"), ("checkin", "help"))
MAIN_MENU = {
    Role.VOLUNTEER: _VOLUNTEER,
    Role.DIRECTOR: _DAILY,
    Role.SUPERVISOR: _DAILY,
    Role.ADMIN: _DAILY,
}
BUTTON = {
    "checkin": mark("menu.checkin"), "urgent": mark("menu.urgent"),
    "mychildren": mark("menu.mychildren"), "help": mark("menu.help"),
    "overdue": mark("menu.overdue"), "cases": mark("menu.cases"),
    "children": mark("menu.children"),
}  # fmt: skip


def main_menu(role: Role, t: Translator) -> list[list[tuple[str, str]]]:
    """The role's main menu as rows of (label, "") — the form the outbox stores."""
    return [[(t(BUTTON[command]), "") for command in row] for row in MAIN_MENU[role]]


def main_keyboard(role: Role, t: Translator) -> ReplyKeyboardMarkup:
    return reply_keyboard(main_menu(role, t))


def reply_keyboard(rows: list[list[tuple[str, str]]]) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label) for label, _ in row] for row in rows],
        resize_keyboard=True, is_persistent=True,
    )  # fmt: skip


@cache
def _commands_by_label() -> dict[str, str]:
    return {catalog(locale)[key]: command for command, key in BUTTON.items() for locale in LOCALES}


def command_of(text: str | None) -> str | None:
    """The command a main-menu button stands for, whatever the language it was sent in."""
    return _commands_by_label().get(text or "")



