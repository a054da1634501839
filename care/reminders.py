"""Reminders (提醒): for visits, care dates (特殊关爱慰问), birthdays and the yearly ledger review;
when they may be sent (quiet hours) and how one person's reminders of a day become one message.

Pure: no Telegram, no SQL, no translated text. A reminder is a `Kind` (a machine code) about a
child and a date; the Telegram layer words it. Every function takes `today` (a date in the
configured time zone) and answers for that day alone, so a job that runs once a day, or again
after a restart, plans the same reminders; the outbox key (`reminder_key`) keeps them single.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from care.children import (
    LunarBirthday,
    lunar_birthday_in_year,
    lunar_month_day,
    next_lunar_birthday,
)
from care.visits import days_overdue

VISIT_NOTICE_DAYS = 3  # VISIT_SOON this many days before the due date
OVERDUE_EVERY_DAYS = 3  # VISIT_OVERDUE on due+3, due+6, due+9, …
ESCALATE_AT_DAYS = 7  # VISIT_ESCALATED, to the volunteer and the child's supervisors
FESTIVAL_NOTICE_DAYS = 7
BIRTHDAY_NOTICE_DAYS = 3
# 每年3月底前更新: at the start of March, and once more with two weeks left.
LEDGER_REVIEW_DAYS = ((3, 1), (3, 15))


class Kind(StrEnum):
    """What a reminder is about, in the order a person's daily message lists them."""

    VISIT_ESCALATED = "visit_escalated"
    VISIT_OVERDUE = "visit_overdue"
    VISIT_DUE = "visit_due"
    VISIT_SOON = "visit_soon"
    VISIT_PLANNED = "visit_planned"
    BIRTHDAY = "birthday"
    BIRTHDAY_SOON = "birthday_soon"
    FESTIVAL = "festival"
    FESTIVAL_SOON = "festival_soon"
    LEDGER_REVIEW = "ledger_review"


_RANK = {kind: rank for rank, kind in enumerate(Kind)}


# --- visits ------------------------------------------------------------------------------------


def visit_reminders(
    due: date, today: date, planned: date | None = None, snoozed_until: date | None = None
) -> list[Kind]:
    """Reminders about one child's next visit (`due` from `care.visits.next_due`).

    VISIT_SOON 3 days before, VISIT_DUE on the day, VISIT_OVERDUE every 3 days after it, and at
    exactly 7 days late VISIT_ESCALATED alone (7 is no multiple of 3; the escalation is sent once,
    after that the child stays on the overdue list).

    A snooze silences everything while `today < snoozed_until`. It postpones, never swallows: on
    the day it ends an overdue visit is reminded at once, escalated if 7 or more days late.

    A planned date (`today <= planned`) replaces the volunteer's reminders: nothing before it,
    VISIT_PLANNED on it; but a child 7 days late is escalated all the same. A plan whose day has
    passed is ignored and the ordinary reminders take over.
    """
    if snoozed_until is not None and today < snoozed_until:
        return []
    late = days_overdue(due, today)
    resumed = today == snoozed_until
    escalate = late == ESCALATE_AT_DAYS or (resumed and late > ESCALATE_AT_DAYS)
    if planned is not None and today <= planned:
        planned_today = [Kind.VISIT_PLANNED] if today == planned else []
        return ([Kind.VISIT_ESCALATED] if escalate else []) + planned_today
    if escalate:
        return [Kind.VISIT_ESCALATED]
    if late and (late % OVERDUE_EVERY_DAYS == 0 or resumed):
        return [Kind.VISIT_OVERDUE]
    if today == due:
        return [Kind.VISIT_DUE]
    if today == due - timedelta(days=VISIT_NOTICE_DAYS):
        return [Kind.VISIT_SOON]
    return []


def visit_reminders_caught_up(
    due: date,
    today: date,
    missed_from: date | None,
    planned: date | None = None,
    snoozed_until: date | None = None,
) -> list[Kind]:
    """Today's visit reminders when the days from `missed_from` to yesterday were never planned
    (the bot was down): what those days would have said is said today, once. `missed_from`
    None (or today): nothing was missed, and this is `visit_reminders`.

    A missed escalation is sent today (to the volunteer and the supervisors) unless today's own
    reminders hold it. Any other missed visit reminder, when today says nothing about the
    child, comes as what holds today: overdue once the due date has passed, else soon. A snooze
    still running or a planned visit still ahead silences the catch-up as it silences the
    ordinary reminders; a missed planned-visit reminder is not sent after its day.
    """
    todays = visit_reminders(due, today, planned, snoozed_until)
    if missed_from is None or missed_from >= today:
        return todays
    if snoozed_until is not None and today < snoozed_until:
        return todays
    yesterday = today - timedelta(days=1)
    missed = {
        kind
        for day in _days_that_speak(due, missed_from, yesterday, planned, snoozed_until)
        for kind in visit_reminders(due, day, planned, snoozed_until)
        if kind != Kind.VISIT_PLANNED
    }
    if Kind.VISIT_ESCALATED in missed and Kind.VISIT_ESCALATED not in todays:
        # as on the day itself: the escalation alone (it names the days overdue), and a plan
        return [Kind.VISIT_ESCALATED] + [k for k in todays if k == Kind.VISIT_PLANNED]
    if todays or not missed or (planned is not None and today <= planned):
        return todays
    return [Kind.VISIT_OVERDUE if due < today else Kind.VISIT_SOON]


def _days_that_speak(
    due: date, first: date, last: date, planned: date | None, snoozed_until: date | None
) -> set[date]:
    """The days from `first` to `last` on which `visit_reminders` can say something: three
    days before the due date, the due date, the escalation, the planned day, the end of a
    snooze, and the latest overdue step (an earlier step says the same, or is silenced by a
    snooze or a plan whenever the latest is: both silence the days before a date)."""
    days = {
        due - timedelta(days=VISIT_NOTICE_DAYS), due, due + timedelta(days=ESCALATE_AT_DAYS),
        planned, snoozed_until,
    }  # fmt: skip
    steps = (last - due).days // OVERDUE_EVERY_DAYS
    if steps >= 1:
        days.add(due + timedelta(days=steps * OVERDUE_EVERY_DAYS))
    return {day for day in days if day is not None and first <= day <= last}


@dataclass(frozen=True)
class VisitWindow:
    """The due dates, plans and snoozes that can give a visit reminder on `today`, missed days
    included: the planner reads only these children from the database (`admits` says in
    Python what the planner's query says in SQL). A superset: `visit_reminders_caught_up`
    decides for each child it admits."""

    today: date
    exact: frozenset[date]  # due dates reminded today: soon, due, escalated
    every: int  # and every due date before today that lies a multiple of this many days back
    up_to: date | None  # after an outage: any due date up to this one

    def admits(self, due: date, planned: date | None, snoozed_until: date | None) -> bool:
        if due in self.exact or (self.up_to is not None and due <= self.up_to):
            return True
        if due < self.today and (self.today - due).days % self.every == 0:
            return True
        return self.today in (planned, snoozed_until)  # a planned visit, a snooze's end


def visit_window(today: date, missed_from: date | None = None) -> VisitWindow:
    """What `visit_reminders_caught_up(…, today, missed_from, …)` can speak of."""
    exact = frozenset(
        {today + timedelta(days=VISIT_NOTICE_DAYS), today, today - timedelta(days=ESCALATE_AT_DAYS)}
    )
    up_to = None
    if missed_from is not None and missed_from < today:  # soon, due or overdue on a missed day
        up_to = today - timedelta(days=1) + timedelta(days=VISIT_NOTICE_DAYS)
    return VisitWindow(today, exact, OVERDUE_EVERY_DAYS, up_to)


def ledger_review_reminders(today: date) -> list[Kind]:
    """Directors review their village ledger and pairings by the end of March (3月底前)."""
    return [Kind.LEDGER_REVIEW] if (today.month, today.day) in LEDGER_REVIEW_DAYS else []


# --- care dates (特殊关爱慰问) -------------------------------------------------------------------


class CareDate(StrEnum):
    SPRING_FESTIVAL = "spring_festival"  # 春节, lunar 1/1
    LANTERN = "lantern"  # 元宵, lunar 1/15
    CHILDRENS_DAY = "childrens_day"  # 六一, 1 June
    MID_AUTUMN = "mid_autumn"  # 中秋, lunar 8/15
    WINTER_HOLIDAY = "winter_holiday"  # 寒假; the school dates come from configuration
    SUMMER_HOLIDAY = "summer_holiday"  # 暑假
    TERM_START = "term_start"  # 开学


# lunar month and day; these always fall in the solar year of the lunar year they belong to
_LUNAR_FESTIVALS = {
    CareDate.SPRING_FESTIVAL: LunarBirthday(1, 1),
    CareDate.LANTERN: LunarBirthday(1, 15),
    CareDate.MID_AUTUMN: LunarBirthday(8, 15),
}
_CARE_ORDER = {care: order for order, care in enumerate(CareDate)}
NOT_CONFIGURED: Mapping[CareDate, Sequence[date]] = MappingProxyType({})


def care_dates(
    year: int, configured: Mapping[CareDate, Sequence[date]] = NOT_CONFIGURED
) -> list[tuple[CareDate, date]]:
    """The care dates in solar year `year`, by date.

    `configured` holds dates of any years (those outside `year` are skipped); a care date present
    there replaces the computed one, so a county can move, say, Children's Day visits.
    """
    computed = {care: [lunar_birthday_in_year(day, year)] for care, day in _LUNAR_FESTIVALS.items()}
    computed[CareDate.CHILDRENS_DAY] = [date(year, 6, 1)]
    chosen = {**computed, **configured}
    found = {(care, day) for care, days in chosen.items() for day in days if day.year == year}
    return sorted(found, key=lambda pair: (pair[1], _CARE_ORDER[pair[0]]))


def care_date_reminders(
    today: date, configured: Mapping[CareDate, Sequence[date]] = NOT_CONFIGURED
) -> list[tuple[Kind, CareDate, date]]:
    """FESTIVAL on a care date, FESTIVAL_SOON 7 days before it (in the next year, too)."""
    soon = today + timedelta(days=FESTIVAL_NOTICE_DAYS)
    return [
        (kind, care, on)
        for kind, day in ((Kind.FESTIVAL, today), (Kind.FESTIVAL_SOON, soon))
        for care, on in care_dates(day.year, configured)
        if on == day
    ]


# --- birthdays -----------------------------------------------------------------------------------


def birthday_on(birth_date: date, lunar: LunarBirthday | None, year: int) -> date:
    """The child's birthday of `year`: of the solar year, or for a birthday kept by the lunar
    calendar, of the lunar year `year` (腊月初三 of lunar 2024 is 2 January 2025).

    A lunar year is shorter than a solar one: a solar year may hold a lunar birthday twice or not
    at all, so use `next_birthday` to find the one that comes next. Someone born on 29 February
    keeps 28 February in other years, so the birthday stays in the month of birth.
    """
    if lunar is not None:
        return lunar_birthday_in_year(lunar, year)
    if (birth_date.month, birth_date.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return birth_date.replace(year=year)


def next_birthday(birth_date: date, lunar: LunarBirthday | None, on_or_after: date) -> date:
    """The first birthday on or after `on_or_after`."""
    if lunar is not None:
        return next_lunar_birthday(lunar, on_or_after)
    year = on_or_after.year
    this_year = birthday_on(birth_date, None, year)
    return this_year if this_year >= on_or_after else birthday_on(birth_date, None, year + 1)


def birthday_reminders(birth_date: date, lunar: LunarBirthday | None, today: date) -> list[Kind]:
    """BIRTHDAY on the day, BIRTHDAY_SOON 3 days before; never for the day of birth itself."""
    coming = next_birthday(birth_date, lunar, today)
    if coming <= birth_date:
        return []
    if coming == today:
        return [Kind.BIRTHDAY]
    if coming == today + timedelta(days=BIRTHDAY_NOTICE_DAYS):
        return [Kind.BIRTHDAY_SOON]
    return []


@dataclass(frozen=True)
class BirthdayWindow:
    """The birthdays that can give a reminder on a day: solar (month, day) of birth and lunar
    (month, day); the planner reads only these children (`admits` mirrors its query). A
    superset: `birthday_reminders` decides."""

    solar: frozenset[tuple[int, int]]
    lunar: frozenset[tuple[int, int]]

    def admits(self, birth_date: date, lunar: LunarBirthday | None) -> bool:
        if lunar is not None:
            return (lunar.month, lunar.day) in self.lunar
        return (birth_date.month, birth_date.day) in self.solar


def birthday_window(today: date) -> BirthdayWindow:
    """What `birthday_reminders(…, today)` can speak of: birthdays today and in three days.
    Only today: a birthday missed while the bot was down is not reminded after it."""
    solar: set[tuple[int, int]] = set()
    lunar: set[tuple[int, int]] = set()
    for day in (today, today + timedelta(days=BIRTHDAY_NOTICE_DAYS)):
        solar.add((day.month, day.day))
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            solar.add((2, 29))  # born on 29 February: the 28th in other years
        month, lunar_day, length = lunar_month_day(day)
        lunar.add((month, lunar_day))
        if lunar_day == length < 30:
            lunar.add((month, 30))  # a 30th that this month lacks falls on its last day
    return BirthdayWindow(frozenset(solar), frozenset(lunar))


# --- sending: quiet hours, one message a day, the outbox key, reminders missed ------------------


def release_at(moment: datetime, quiet_start: time, quiet_end: time, tz: ZoneInfo) -> datetime:
    """When a reminder due at `moment` (aware) may go out: `moment` itself outside the quiet
    hours, else the end of the quiet hours in `tz`. The window may span midnight (21:00–08:00)
    or not (12:00–14:00); start == end means no quiet hours."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    local = moment.astimezone(tz)
    now = local.time()
    if quiet_start <= quiet_end:
        quiet = quiet_start <= now < quiet_end
    else:
        quiet = now >= quiet_start or now < quiet_end
    if not quiet:
        return moment
    day = local.date() if now < quiet_end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet_end, tzinfo=tz)


@dataclass(frozen=True)
class Item:
    """One reminder for one person. `on` is the date it is about: the due date for visit kinds
    (so the earliest is the most overdue), the planned date, the birthday, the care date, or the
    day of a ledger review. `extra` is a short machine code, e.g. the `CareDate` of a festival."""

    kind: Kind
    child_id: int | None
    on: date
    extra: str = ""


def _order(item: Item) -> tuple[int, date, bool, int, str]:
    return _RANK[item.kind], item.on, item.child_id is None, item.child_id or 0, item.extra


def bundle(items: Iterable[tuple[int, Item]]) -> dict[int, list[Item]]:
    """A day's reminders as one list per person id (one message each): exact duplicates dropped,
    ordered by kind (escalations, overdue, due, soon, planned, birthdays, festivals, ledger
    review), then by date, then by child."""
    people: dict[int, set[Item]] = {}
    for person_id, item in items:
        people.setdefault(person_id, set()).add(item)
    return {person: sorted(found, key=_order) for person, found in sorted(people.items())}


def reminder_key(
    kind: Kind, person_id: int, child_id: int | None, day: date, extra: str = ""
) -> str:
    """The outbox key of a reminder sent on `day` (not the date it is about: overdue reminders
    about one due date recur). `extra` tells apart two care dates on one day."""
    child = "-" if child_id is None else str(child_id)
    return f"remind:{kind}:{person_id}:{child}:{day.isoformat()}" + (f":{extra}" if extra else "")


def still_useful(kind: Kind, on: date, today: date) -> bool:
    """Whether a reminder about `on`, missed (the bot was down), is worth sending `today`.

    Visit reminders are: the child still waits for a visit. Birthday and festival reminders are
    not after the day, nor is a "soon" on the day itself (that day's own reminder goes instead);
    a planned-visit reminder is not after the planned day (the ordinary reminders take over); the
    ledger review not after March.
    """
    if kind in (Kind.BIRTHDAY_SOON, Kind.FESTIVAL_SOON):
        return today < on
    if kind in (Kind.BIRTHDAY, Kind.FESTIVAL, Kind.VISIT_PLANNED):
        return today <= on
    if kind == Kind.LEDGER_REVIEW:
        return today <= date(on.year, 3, 31)
    return True
