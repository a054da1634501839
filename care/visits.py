"""Visits (走访): the check-in's answers, which of them are red flags, when the next visit is
due, and how a child is followed (`State`). One definition of "due", "overdue" and of a
child's state, used everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

from care.children import DEFAULT_VISIT_INTERVALS, Colour

MAX_DAYS_BACK = 60  # a visit is recorded within two months
YEARLY_MINIMUM = 6  # 每年走访不少于6次 (the default of the setting YEARLY_MINIMUM_VISITS)
DUE_SOON_DAYS = 3  # "due soon" from this many days before the due date (as the first reminder)


class Mode(StrEnum):
    HOME = "home"
    PHONE = "phone"  # phone or video
    SCHOOL = "school"
    OTHER = "other"


class Health(StrEnum):
    GOOD = "good"
    UNWELL = "unwell"
    SERIOUS = "serious"  # serious illness or injury


class Mood(StrEnum):
    GOOD = "good"
    LOW = "low"
    WORRYING = "worrying"


class Study(StrEnum):
    NORMAL = "normal"
    STRUGGLING = "struggling"
    ABSENT = "absent"  # often absent
    DROPOUT_RISK = "dropout_risk"
    NOT_AT_SCHOOL_AGE = "not_school_age"


class Care(StrEnum):
    GOOD = "good"
    WEAK = "weak"  # care is not enough
    ALONE = "alone"  # the child is living alone
    HARM = "harm"  # signs of harm or neglect


class Parents(StrEnum):
    CONTACTED = "contacted"  # contact with the parents this month
    NO_CONTACT = "no_contact"


class Safety(StrEnum):
    DROWNING = "drowning"
    TRAFFIC = "traffic"
    FIRE_ELECTRICITY = "fire_electricity"
    ONLINE = "online"
    BULLYING = "bullying"
    SEXUAL_ABUSE = "sexual_abuse"


class RedFlag(StrEnum):
    """Answers that lead straight into a hazard report."""

    LIVING_ALONE = "living_alone"
    DROPOUT_RISK = "dropout_risk"
    HARM_OR_NEGLECT = "harm_or_neglect"


# The answers that need no follow-up question; any other asks one short question for details.
FINE: Mapping[str, frozenset[str]] = {
    "health": frozenset({Health.GOOD}),
    "mood": frozenset({Mood.GOOD}),
    "study": frozenset({Study.NORMAL, Study.NOT_AT_SCHOOL_AGE}),
    "care": frozenset({Care.GOOD}),
    "parents": frozenset({Parents.CONTACTED}),
}


def needs_details(question: str, answer: str | None) -> bool:
    return answer is not None and answer not in FINE[question]


def red_flags(study: str, care: str) -> list[RedFlag]:
    flags = []
    if care == Care.ALONE:
        flags.append(RedFlag.LIVING_ALONE)
    if study == Study.DROPOUT_RISK:
        flags.append(RedFlag.DROPOUT_RISK)
    if care == Care.HARM:
        flags.append(RedFlag.HARM_OR_NEGLECT)
    return flags


@dataclass(frozen=True)
class CheckIn:
    """The answers of a check-in, typed. `draft_key` names the check-in: recording it again
    (Confirm pressed twice, an update delivered twice) stores it once."""

    child_id: int
    visited_on: date
    mode: Mode
    health: Health
    mood: Mood
    study: Study
    care: Care
    parents: Parents
    draft_key: str
    notes: Mapping[str, str] = field(default_factory=dict)  # follow-up details by question
    safety: tuple[Safety, ...] = ()  # the safety lessons given
    wishes: str = ""
    problems: str = ""  # typed…
    problems_voice: str | None = None  # …or spoken: a Telegram file id

    @property
    def red_flags(self) -> tuple[RedFlag, ...]:
        """The answers that call for a hazard report."""
        return tuple(red_flags(self.study, self.care))


class DateProblem(StrEnum):
    FUTURE = "future"
    BEFORE_PAIRING = "before_pairing"
    TOO_OLD = "too_old"


def date_problem(day: date, *, today: date, since: date | None) -> DateProblem | None:
    """A visit date is not in the future, not before the pairing began, at most 60 days back."""
    if day > today:
        return DateProblem.FUTURE
    if since is not None and day < since:
        return DateProblem.BEFORE_PAIRING
    if day < today - timedelta(days=MAX_DAYS_BACK):
        return DateProblem.TOO_OLD
    return None


def next_due(
    colour: Colour,
    *,
    last_visit: date | None,
    since: date,
    intervals: Mapping[Colour, int] | None = None,
) -> date:
    """The last visit plus the colour's interval; never visited: from `since`, the day the
    child came under the programme."""
    return (last_visit or since) + timedelta(days=colour.visit_interval_days(intervals))


def days_overdue(due: date, today: date) -> int:
    """Days past the due date (0 when not overdue), counted in the configured time zone."""
    return max(0, (today - due).days)


def expected_by(today: date, minimum: int = YEARLY_MINIMUM) -> int:
    """Visits a child should have had this year by `today` to be on track for `minimum`."""
    start = date(today.year, 1, 1)
    days = (date(today.year + 1, 1, 1) - start).days
    return (minimum * ((today - start).days + 1)) // days


@dataclass(frozen=True)
class VisitRule:
    """How often children are visited: days between visits per colour, and the year's
    minimum. Configuration (settings VISIT_INTERVALS, YEARLY_MINIMUM_VISITS); the defaults
    are the programme's."""

    intervals: Mapping[Colour, int] = field(default_factory=lambda: DEFAULT_VISIT_INTERVALS)
    yearly_minimum: int = YEARLY_MINIMUM

    def __post_init__(self) -> None:
        every = {colour: colour.visit_interval_days(self.intervals) for colour in Colour}
        object.__setattr__(self, "intervals", MappingProxyType(every))

    def next_due(self, colour: Colour, *, last_visit: date | None, since: date) -> date:
        return next_due(colour, last_visit=last_visit, since=since, intervals=self.intervals)

    def expected_by(self, today: date) -> int:
        return expected_by(today, self.yearly_minimum)

    def intervals_key(self) -> str:
        """The intervals as one stable string (what stored due dates were computed with)."""
        return ",".join(f"{colour.value}={self.intervals[colour]}" for colour in Colour)


class State(StrEnum):
    """How an active child is followed: every active child is in exactly one state."""

    NOT_COVERED = "not_covered"  # nobody is to visit: no active volunteer, no area cover
    OVERDUE = "overdue"  # past the due date
    DUE_SOON = "due_soon"  # due within DUE_SOON_DAYS (today included)
    ON_TRACK = "on_track"


def soon_until(today: date) -> date:
    """The last due date that counts as "due soon" on `today`."""
    return today + timedelta(days=DUE_SOON_DAYS)


def state_of(*, covered: bool, due: date, today: date) -> State:
    """The one rule: not covered comes first, whatever the due date; then overdue (due before
    today), due soon (due by `soon_until`), on track. storage.due counts by the same bounds."""
    if not covered:
        return State.NOT_COVERED
    if due < today:
        return State.OVERDUE
    if due <= soon_until(today):
        return State.DUE_SOON
    return State.ON_TRACK
