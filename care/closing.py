"""Closing a child's record and moving it to another village: the reasons, who may, and the
age rules (a category's age limit, care.children) turned into dates.

Pure: no Telegram, no SQL, no translated text. A closed record is kept, read-only, with its
history (DESIGN.md: records are closed with a reason, never deleted).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from care.children import Category, age_on
from care.roles import Role, Viewer

AHEAD_DAYS = 30  # children who age out within this many days are listed for their director
NOTE_LENGTH = (2, 200)  # a closing's or a move's reason, in characters


class ClosingReason(StrEnum):
    AGED_OUT = "aged_out"  # reached the category's age limit (16 left-behind, else 18)
    PARENTS_BACK = "parents_back"  # parents back home: no longer left behind
    MOVED_AWAY = "moved_away"  # left the programme's area (a move within it is a transfer)
    NOT_ELIGIBLE = "not_eligible"  # no longer eligible for another reason
    DIED = "died"


def may_close(viewer: Viewer) -> bool:
    """Directors close the records of their village; supervisors and admins of their area."""
    return viewer.at_least(Role.DIRECTOR)


def may_move(viewer: Viewer) -> bool:
    """Moving a child to another village is a supervisor's or an admin's, within their area.
    A director's area is one village, so they have no other village to move a child to: they
    ask their town's supervisor (a child who leaves the programme's area is closed as
    MOVED_AWAY instead)."""
    return viewer.at_least(Role.SUPERVISOR)


def clean_note(text: str) -> str | None:
    """A reason single-spaced, or None when empty or too long to be one."""
    note = " ".join(text.split())
    return note if NOTE_LENGTH[0] <= len(note) <= NOTE_LENGTH[1] else None


def aged_out(birth_date: date, category: Category, day: date) -> bool:
    """Has the child reached the category's age limit on `day`?"""
    return age_on(birth_date, day) >= category.age_limit


def age_out_day(birth_date: date, category: Category) -> date:
    """The day the child reaches the category's age limit: that birthday (one born on
    29 February, in a year without it, on 1 March, as care.children.age_on counts)."""
    year = birth_date.year + category.age_limit
    try:
        return birth_date.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 3, 1)


def born_by(day: date, years: int) -> date:
    """The latest birth date of someone `years` old (or older) on `day`: a child has reached
    `years` on `day` exactly when born on or before it (a query can then use a range)."""
    year = day.year - years
    try:
        return day.replace(year=year)
    except ValueError:  # `day` is 29 February, `year` has none: 28 February is the last
        return day.replace(year=year, day=28)


def ageing_window(today: date, years: int, days: int = AHEAD_DAYS) -> tuple[date, date]:
    """Birth dates (after the first, up to the second) of children who reach `years` in the
    next `days` days: not yet on `today`, but by `today + days`."""
    return born_by(today, years), born_by(today + timedelta(days=days), years)
