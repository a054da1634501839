from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from lunar_python import Solar

from care.children import LunarBirthday, lunar_birthday_in_year
from care.reminders import (
    BirthdayWindow,
    CareDate,
    Item,
    Kind,
    birthday_on,
    birthday_reminders,
    birthday_window,
    bundle,
    care_date_reminders,
    care_dates,
    ledger_review_reminders,
    next_birthday,
    release_at,
    reminder_key,
    still_useful,
    visit_reminders,
    visit_reminders_caught_up,
    visit_window,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUIET = (time(21, 0), time(8, 0))
T = TypeVar("T")


def simulate(remind: Callable[[date], list[T]], start: date, end: date) -> dict[date, list[T]]:
    """Every day from `start` to `end` (inclusive) on which `remind` has something to say."""
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return {day: found for day in days if (found := remind(day))}


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# --- visits ------------------------------------------------------------------------------------

DUE = d(3, 10)


def test_visit_calendar_soon_due_overdue_every_three_days_and_one_escalation() -> None:
    seen = simulate(lambda today: visit_reminders(DUE, today), d(2, 1), d(3, 31))
    assert seen == {
        d(3, 7): [Kind.VISIT_SOON],
        d(3, 10): [Kind.VISIT_DUE],
        d(3, 13): [Kind.VISIT_OVERDUE],
        d(3, 16): [Kind.VISIT_OVERDUE],
        d(3, 17): [Kind.VISIT_ESCALATED],  # 7 days late: escalation alone
        d(3, 19): [Kind.VISIT_OVERDUE],
        d(3, 22): [Kind.VISIT_OVERDUE],
        d(3, 25): [Kind.VISIT_OVERDUE],
        d(3, 28): [Kind.VISIT_OVERDUE],
        d(3, 31): [Kind.VISIT_OVERDUE],
    }


def test_overdue_reminders_keep_coming_and_escalate_once() -> None:
    seen = simulate(lambda today: visit_reminders(DUE, today), DUE, DUE + timedelta(days=365))
    late = [(day - DUE).days for day, kinds in seen.items() if kinds == [Kind.VISIT_OVERDUE]]
    assert late == list(range(3, 366, 3))
    assert [day for day, kinds in seen.items() if Kind.VISIT_ESCALATED in kinds] == [d(3, 17)]


def test_visit_due_across_the_new_year() -> None:
    seen = simulate(lambda today: visit_reminders(d(1, 2), today), d(12, 1, 2025), d(1, 11))
    assert seen == {
        d(12, 30, 2025): [Kind.VISIT_SOON],
        d(1, 2): [Kind.VISIT_DUE],
        d(1, 5): [Kind.VISIT_OVERDUE],
        d(1, 8): [Kind.VISIT_OVERDUE],
        d(1, 9): [Kind.VISIT_ESCALATED],
        d(1, 11): [Kind.VISIT_OVERDUE],
    }


def test_a_snooze_silences_and_resumes_when_it_ends() -> None:
    def with_snooze(until: date) -> dict[date, list[Kind]]:
        return simulate(lambda t: visit_reminders(DUE, t, snoozed_until=until), d(3, 1), d(3, 23))

    # snoozed over the due day; it ends 2 days late: reminded at once, then on the usual days
    assert with_snooze(d(3, 12)) == {
        d(3, 12): [Kind.VISIT_OVERDUE],
        d(3, 13): [Kind.VISIT_OVERDUE],
        d(3, 16): [Kind.VISIT_OVERDUE],
        d(3, 17): [Kind.VISIT_ESCALATED],
        d(3, 19): [Kind.VISIT_OVERDUE],
        d(3, 22): [Kind.VISIT_OVERDUE],
    }
    # snoozed past the 7th day: the escalation is postponed to the end, not lost
    late = with_snooze(d(3, 20))
    assert late == {d(3, 20): [Kind.VISIT_ESCALATED], d(3, 22): [Kind.VISIT_OVERDUE]}
    # a snooze that ends before the due day changes nothing
    assert with_snooze(d(3, 5)) == simulate(lambda t: visit_reminders(DUE, t), d(3, 1), d(3, 23))


def test_a_planned_visit_replaces_the_reminders_until_its_day() -> None:
    def with_plan(planned: date) -> dict[date, list[Kind]]:
        return simulate(lambda t: visit_reminders(DUE, t, planned=planned), d(3, 1), d(3, 23))

    # planned before the due day: no "soon", a reminder on the planned day, then as usual
    assert with_plan(d(3, 8)) == {
        d(3, 8): [Kind.VISIT_PLANNED],
        d(3, 10): [Kind.VISIT_DUE],
        d(3, 13): [Kind.VISIT_OVERDUE],
        d(3, 16): [Kind.VISIT_OVERDUE],
        d(3, 17): [Kind.VISIT_ESCALATED],
        d(3, 19): [Kind.VISIT_OVERDUE],
        d(3, 22): [Kind.VISIT_OVERDUE],
    }
    # planned late: the volunteer is left alone, the supervisors still hear at 7 days
    assert with_plan(d(3, 18)) == {
        d(3, 17): [Kind.VISIT_ESCALATED],
        d(3, 18): [Kind.VISIT_PLANNED],
        d(3, 19): [Kind.VISIT_OVERDUE],  # the plan passed without a visit
        d(3, 22): [Kind.VISIT_OVERDUE],
    }
    assert visit_reminders(DUE, d(3, 17), planned=d(3, 17)) == [
        Kind.VISIT_ESCALATED,
        Kind.VISIT_PLANNED,
    ]


def test_a_snooze_wins_over_a_plan() -> None:
    assert visit_reminders(DUE, d(3, 8), planned=d(3, 8), snoozed_until=d(3, 9)) == []
    assert visit_reminders(DUE, d(3, 9), planned=d(3, 9), snoozed_until=d(3, 9)) == [
        Kind.VISIT_PLANNED
    ]


# --- visits missed while the bot was down -------------------------------------------------------


def test_an_overdue_step_missed_is_sent_once_on_return() -> None:
    # down from 3/12 to 3/17: the overdue step of 3/13 and 3/16 and the escalation of 3/17 missed
    assert visit_reminders_caught_up(DUE, d(3, 18), d(3, 12)) == [Kind.VISIT_ESCALATED]
    # down from 3/12 to 3/14: due (3/10) passed before, the step of 3/13 missed
    assert visit_reminders_caught_up(DUE, d(3, 15), d(3, 12)) == [Kind.VISIT_OVERDUE]
    # the day after a day with a step: nothing was missed
    assert visit_reminders_caught_up(DUE, d(3, 14), d(3, 14)) == []
    assert visit_reminders_caught_up(DUE, d(3, 14), None) == []
    # a missed "soon" while the due date is still ahead
    assert visit_reminders_caught_up(DUE, d(3, 9), d(3, 6)) == [Kind.VISIT_SOON]
    # down over days that said nothing: nothing to catch up
    assert visit_reminders_caught_up(DUE, d(3, 12), d(3, 11)) == []


def test_todays_own_reminder_is_not_doubled_and_an_escalation_replaces_an_overdue_step() -> None:
    assert visit_reminders_caught_up(DUE, d(3, 16), d(3, 12)) == [Kind.VISIT_OVERDUE]
    assert visit_reminders_caught_up(DUE, d(3, 17), d(3, 12)) == [Kind.VISIT_ESCALATED]
    assert visit_reminders_caught_up(DUE, d(3, 19), d(3, 15)) == [Kind.VISIT_ESCALATED]
    assert visit_reminders_caught_up(DUE, d(3, 19), d(3, 18)) == [Kind.VISIT_OVERDUE]


def test_a_snooze_or_a_plan_silences_the_catch_up_as_it_silences_the_day() -> None:
    assert visit_reminders_caught_up(DUE, d(3, 15), d(3, 12), snoozed_until=d(3, 16)) == []
    # the snooze ended during the outage: the reminder it postponed comes now
    assert visit_reminders_caught_up(DUE, d(3, 15), d(3, 12), snoozed_until=d(3, 14)) == [
        Kind.VISIT_OVERDUE
    ]
    assert visit_reminders_caught_up(DUE, d(3, 15), d(3, 12), planned=d(3, 16)) == []
    # a planned day that passed during the outage is not reminded after it…
    assert visit_reminders_caught_up(DUE, d(3, 15), d(3, 12), planned=d(3, 13)) == []
    # …an overdue step after it is
    assert visit_reminders_caught_up(DUE, d(3, 15), d(3, 12), planned=d(3, 12)) == [
        Kind.VISIT_OVERDUE
    ]
    # an escalation is sent whatever the plan, as on its day
    assert visit_reminders_caught_up(DUE, d(3, 18), d(3, 12), planned=d(3, 18)) == [
        Kind.VISIT_ESCALATED, Kind.VISIT_PLANNED,
    ]  # fmt: skip


def _caught_up_day_by_day(
    due: date, today: date, missed_from: date, planned: date | None, snoozed: date | None
) -> list[Kind]:
    """visit_reminders_caught_up by looking at every missed day, not only those that speak."""
    todays = visit_reminders(due, today, planned, snoozed)
    if snoozed is not None and today < snoozed:
        return todays
    yesterday = today - timedelta(days=1)
    days = simulate(lambda t: visit_reminders(due, t, planned, snoozed), missed_from, yesterday)
    missed = {kind for kinds in days.values() for kind in kinds if kind != Kind.VISIT_PLANNED}
    if Kind.VISIT_ESCALATED in missed and Kind.VISIT_ESCALATED not in todays:
        return [Kind.VISIT_ESCALATED] + [k for k in todays if k == Kind.VISIT_PLANNED]
    if todays or not missed or (planned is not None and today <= planned):
        return todays
    return [Kind.VISIT_OVERDUE if due < today else Kind.VISIT_SOON]


def test_catch_up_looks_at_enough_days_and_the_window_admits_every_child_it_speaks_of() -> None:
    marks = [None, d(3, 5), d(3, 10), d(3, 14), d(3, 17), d(3, 20), d(3, 30)]
    for today in simulate(lambda t: [t], d(3, 1), d(4, 10)):
        for outage in (None, 1, 2, 3, 4, 7, 12, 40):
            missed_from = None if outage is None else today - timedelta(days=outage)
            window = visit_window(today, missed_from)
            for planned in marks:
                for snoozed in marks:
                    found = visit_reminders_caught_up(DUE, today, missed_from, planned, snoozed)
                    if missed_from is not None:
                        by_hand = _caught_up_day_by_day(DUE, today, missed_from, planned, snoozed)
                        assert found == by_hand, (today, missed_from, planned, snoozed)
                    if found:
                        assert window.admits(DUE, planned, snoozed), (today, outage)


def test_ledger_review_in_march() -> None:
    seen = simulate(ledger_review_reminders, d(1, 1), d(12, 31))
    assert seen == {d(3, 1): [Kind.LEDGER_REVIEW], d(3, 15): [Kind.LEDGER_REVIEW]}


# --- care dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "spring", "mid_autumn"),
    [
        (2025, d(1, 29, 2025), d(10, 6, 2025)),
        (2026, d(2, 17), d(9, 25)),
        (2027, d(2, 6, 2027), d(9, 15, 2027)),
        (2028, d(1, 26, 2028), d(10, 3, 2028)),
    ],
)
def test_lunar_festivals(year: int, spring: date, mid_autumn: date) -> None:
    found = dict(care_dates(year))
    assert found[CareDate.SPRING_FESTIVAL] == spring
    assert found[CareDate.MID_AUTUMN] == mid_autumn
    assert found[CareDate.LANTERN] == spring + timedelta(days=14)
    assert found[CareDate.CHILDRENS_DAY] == date(year, 6, 1)
    for care, lunar in [
        (CareDate.SPRING_FESTIVAL, (1, 1)),
        (CareDate.LANTERN, (1, 15)),
        (CareDate.MID_AUTUMN, (8, 15)),
    ]:
        day = found[care]
        on = Solar.fromYmd(day.year, day.month, day.day).getLunar()
        assert (on.getYear(), on.getMonth(), on.getDay()) == (year, *lunar)


def test_care_dates_of_a_year_in_order() -> None:
    assert care_dates(2026) == [
        (CareDate.SPRING_FESTIVAL, d(2, 17)),
        (CareDate.LANTERN, d(3, 3)),
        (CareDate.CHILDRENS_DAY, d(6, 1)),
        (CareDate.MID_AUTUMN, d(9, 25)),
    ]


SCHOOL = {
    CareDate.WINTER_HOLIDAY: [d(1, 24), d(1, 5, 2028)],
    CareDate.SUMMER_HOLIDAY: [d(7, 4)],
    CareDate.TERM_START: [d(3, 2), d(9, 1)],
}


def test_configured_school_dates_join_the_year() -> None:
    assert care_dates(2026, SCHOOL) == [
        (CareDate.WINTER_HOLIDAY, d(1, 24)),
        (CareDate.SPRING_FESTIVAL, d(2, 17)),
        (CareDate.TERM_START, d(3, 2)),
        (CareDate.LANTERN, d(3, 3)),
        (CareDate.CHILDRENS_DAY, d(6, 1)),
        (CareDate.SUMMER_HOLIDAY, d(7, 4)),
        (CareDate.TERM_START, d(9, 1)),
        (CareDate.MID_AUTUMN, d(9, 25)),
    ]
    assert care_dates(2027, SCHOOL)[0] == (CareDate.SPRING_FESTIVAL, d(2, 6, 2027))
    # configuration replaces a computed date
    moved = care_dates(2026, {CareDate.CHILDRENS_DAY: [d(5, 29)]})
    assert (CareDate.CHILDRENS_DAY, d(5, 29)) in moved
    assert (CareDate.CHILDRENS_DAY, d(6, 1)) not in moved


def test_care_date_reminders_a_week_before_and_on_the_day() -> None:
    seen = simulate(care_date_reminders, d(1, 1), d(12, 31))
    assert seen == {
        d(2, 10): [(Kind.FESTIVAL_SOON, CareDate.SPRING_FESTIVAL, d(2, 17))],
        d(2, 17): [(Kind.FESTIVAL, CareDate.SPRING_FESTIVAL, d(2, 17))],
        d(2, 24): [(Kind.FESTIVAL_SOON, CareDate.LANTERN, d(3, 3))],
        d(3, 3): [(Kind.FESTIVAL, CareDate.LANTERN, d(3, 3))],
        d(5, 25): [(Kind.FESTIVAL_SOON, CareDate.CHILDRENS_DAY, d(6, 1))],
        d(6, 1): [(Kind.FESTIVAL, CareDate.CHILDRENS_DAY, d(6, 1))],
        d(9, 18): [(Kind.FESTIVAL_SOON, CareDate.MID_AUTUMN, d(9, 25))],
        d(9, 25): [(Kind.FESTIVAL, CareDate.MID_AUTUMN, d(9, 25))],
    }


def test_care_date_reminders_across_the_new_year() -> None:
    assert care_date_reminders(d(1, 19, 2028)) == [
        (Kind.FESTIVAL_SOON, CareDate.SPRING_FESTIVAL, d(1, 26, 2028))
    ]
    assert care_date_reminders(d(12, 31, 2027)) == []
    # a configured date early in January, seen from late December
    assert care_date_reminders(d(12, 29, 2027), SCHOOL) == [
        (Kind.FESTIVAL_SOON, CareDate.WINTER_HOLIDAY, d(1, 5, 2028))
    ]
    assert care_date_reminders(d(1, 5, 2028), SCHOOL) == [
        (Kind.FESTIVAL, CareDate.WINTER_HOLIDAY, d(1, 5, 2028))
    ]


def test_two_care_dates_on_one_day_and_one_due_in_a_week() -> None:
    configured = {CareDate.TERM_START: [d(6, 1)], CareDate.SUMMER_HOLIDAY: [d(6, 8)]}
    assert care_date_reminders(d(6, 1), configured) == [
        (Kind.FESTIVAL, CareDate.CHILDRENS_DAY, d(6, 1)),
        (Kind.FESTIVAL, CareDate.TERM_START, d(6, 1)),
        (Kind.FESTIVAL_SOON, CareDate.SUMMER_HOLIDAY, d(6, 8)),
    ]


# --- birthdays ---------------------------------------------------------------------------------

BORN = d(4, 2, 2015)  # the solar date on the ID card; irrelevant for lunar birthdays


def birthdays(lunar: LunarBirthday | None, start: date, end: date) -> dict[date, list[Kind]]:
    return simulate(lambda today: birthday_reminders(BORN, lunar, today), start, end)


def test_solar_birthday() -> None:
    assert birthdays(None, d(1, 1), d(12, 31)) == {
        d(3, 30): [Kind.BIRTHDAY_SOON],
        d(4, 2): [Kind.BIRTHDAY],
    }
    assert birthday_on(BORN, None, 2026) == d(4, 2)


def test_born_on_29_february() -> None:
    leapling = d(2, 29, 2016)
    assert birthday_on(leapling, None, 2026) == d(2, 28)
    assert birthday_on(leapling, None, 2028) == d(2, 29, 2028)
    seen = simulate(lambda t: birthday_reminders(leapling, None, t), d(1, 1), d(12, 31))
    assert seen == {d(2, 25): [Kind.BIRTHDAY_SOON], d(2, 28): [Kind.BIRTHDAY]}


def test_no_reminder_for_the_day_of_birth() -> None:
    newborn = d(3, 10)
    assert birthday_reminders(newborn, None, d(3, 7)) == []
    assert birthday_reminders(newborn, None, d(3, 10)) == []
    assert birthday_reminders(newborn, None, d(3, 10, 2027)) == [Kind.BIRTHDAY]


def test_lunar_birthday_moves_every_year() -> None:
    mid_autumn = LunarBirthday(8, 15)
    assert [birthday_on(BORN, mid_autumn, year) for year in (2025, 2026, 2027)] == [
        d(10, 6, 2025),
        d(9, 25),
        d(9, 15, 2027),
    ]
    assert birthdays(mid_autumn, d(1, 1), d(12, 31)) == {
        d(9, 22): [Kind.BIRTHDAY_SOON],
        d(9, 25): [Kind.BIRTHDAY],
    }


def test_leap_month_birthday_in_a_year_with_and_without_that_leap_month() -> None:
    # 2023 has 闰二月: 二月初十 is 1 March, 闰二月初十 a month later; 2024 has no leap month
    leap, ordinary = LunarBirthday(2, 10, leap=True), LunarBirthday(2, 10)
    assert birthday_on(BORN, ordinary, 2023) == d(3, 1, 2023)
    assert birthday_on(BORN, leap, 2023) == d(3, 31, 2023)
    assert birthday_on(BORN, leap, 2024) == birthday_on(BORN, ordinary, 2024) == d(3, 19, 2024)
    assert birthdays(leap, d(1, 1, 2023), d(12, 31, 2024)) == {
        d(3, 28, 2023): [Kind.BIRTHDAY_SOON],
        d(3, 31, 2023): [Kind.BIRTHDAY],
        d(3, 16, 2024): [Kind.BIRTHDAY_SOON],
        d(3, 19, 2024): [Kind.BIRTHDAY],
    }
    # 2025 has 闰六月 (30 days long); 2026 has none
    leap_sixth = LunarBirthday(6, 30, leap=True)
    assert birthday_on(BORN, leap_sixth, 2025) == d(8, 22, 2025)
    assert birthday_on(BORN, leap_sixth, 2026) == birthday_on(BORN, LunarBirthday(6, 30), 2026)


def test_a_30th_the_month_lacks_falls_on_its_last_day() -> None:
    # lunar 2025's 腊月 has 29 days: 腊月三十 is kept on 腊月廿九, the eve of 16 February 2026
    eve = LunarBirthday(12, 30)
    assert birthday_on(BORN, eve, 2025) == d(2, 16)
    assert birthdays(eve, d(2, 1), d(2, 28)) == {
        d(2, 13): [Kind.BIRTHDAY_SOON],
        d(2, 16): [Kind.BIRTHDAY],
    }
    # 2023's 闰二月 has 29 days too
    assert birthday_on(BORN, LunarBirthday(2, 30, leap=True), 2023) == d(4, 19, 2023)
    for year in (2023, 2024, 2025, 2026):
        day = birthday_on(BORN, eve, year)
        lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
        assert (lunar.getMonth(), lunar.getDay()) in {(12, 29), (12, 30)}
        assert Solar.fromYmd(day.year, day.month, day.day).next(1).getLunar().getDay() == 1


def test_a_la_yue_birthday_near_the_solar_new_year() -> None:
    # 腊月初三 of lunar 2024 is 2 January 2025: the "soon" comes in the old solar year
    third = LunarBirthday(12, 3)
    assert birthday_on(BORN, third, 2024) == d(1, 2, 2025)
    assert birthdays(third, d(12, 1, 2024), d(1, 31, 2025)) == {
        d(12, 30, 2024): [Kind.BIRTHDAY_SOON],
        d(1, 2, 2025): [Kind.BIRTHDAY],
    }
    # a solar year may hold a lunar birthday twice: 2027 has lunar 2026's and lunar 2027's
    assert birthdays(third, d(1, 1, 2027), d(12, 31, 2027)) == {
        d(1, 7, 2027): [Kind.BIRTHDAY_SOON],
        d(1, 10, 2027): [Kind.BIRTHDAY],
        d(12, 27, 2027): [Kind.BIRTHDAY_SOON],
        d(12, 30, 2027): [Kind.BIRTHDAY],
    }
    assert next_birthday(BORN, third, d(1, 11, 2027)) == d(12, 30, 2027)


def test_the_birthday_window_admits_every_birthday_reminded_on_a_day() -> None:
    lunar_birthdays = [
        LunarBirthday(m, day, leap) for m in range(1, 13) for day in range(1, 31)
        for leap in (False, True)
    ]  # fmt: skip
    solar_births = [date(2012, 1, 1) + timedelta(days=n) for n in range(366)]  # a leap year
    windows: dict[date, BirthdayWindow] = {}

    def window(today: date) -> BirthdayWindow:
        return windows.get(today) or windows.setdefault(today, birthday_window(today))

    for year in (2025, 2026, 2028):  # 2025 has a leap 6th month, 2028 a leap 5th and 29 Feb
        for lunar in lunar_birthdays:
            day = lunar_birthday_in_year(lunar, year)
            for today in (day, day - timedelta(days=3)):
                assert birthday_reminders(BORN, lunar, today), (lunar, today)
                assert window(today).admits(BORN, lunar), (lunar, today)
        for born in solar_births:
            day = birthday_on(born, None, year)
            for today in (day, day - timedelta(days=3)):
                assert window(today).admits(born, None), (born, today)
    quiet = birthday_window(d(4, 10))  # only today's and those in three days
    assert quiet.solar == {(4, 10), (4, 13)} and len(quiet.lunar) == 2


# --- quiet hours -------------------------------------------------------------------------------


DAY = d(3, 7)


def at(hour: int, minute: int = 0, day: date = DAY, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


@pytest.mark.parametrize(
    ("moment", "released"),
    [
        (at(8), at(8)),  # quiet hours end at 08:00
        (at(12, 30), at(12, 30)),
        (at(20, 59), at(20, 59)),
        (at(21), at(8, day=d(3, 8))),
        (at(23, 45), at(8, day=d(3, 8))),
        (at(0), at(8)),
        (at(7, 59), at(8)),
    ],
)
def test_quiet_hours_across_midnight(moment: datetime, released: datetime) -> None:
    assert release_at(moment, *QUIET, SHANGHAI) == released


def test_quiet_hours_are_in_the_configured_time_zone() -> None:
    # 13:30 UTC is 21:30 in Shanghai: held until 08:00 there, which is midnight UTC
    held = release_at(datetime(2026, 3, 7, 13, 30, tzinfo=UTC), *QUIET, SHANGHAI)
    assert held == at(8, day=d(3, 8))
    assert held.astimezone(UTC) == datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    assert held.utcoffset() == timedelta(hours=8)
    # 23:00 UTC is already 07:00 the next morning in Shanghai: held one hour
    early = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    assert release_at(early, *QUIET, SHANGHAI) == at(8, day=d(3, 8))
    # 03:00 UTC is 11:00 in Shanghai: sent as is
    moment = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)
    assert release_at(moment, *QUIET, SHANGHAI) is moment
    # and Urumqi's clocks are two hours behind Beijing's for the same instant
    urumqi = ZoneInfo("Asia/Urumqi")
    assert release_at(at(22), *QUIET, urumqi) == at(22)  # 20:00 there
    assert release_at(at(23, 30), *QUIET, urumqi) == datetime(2026, 3, 8, 8, 0, tzinfo=urumqi)


def test_quiet_hours_within_a_day() -> None:
    nap = (time(12, 0), time(14, 0))
    assert release_at(at(11, 59), *nap, SHANGHAI) == at(11, 59)
    assert release_at(at(12), *nap, SHANGHAI) == at(14)
    assert release_at(at(13, 30), *nap, SHANGHAI) == at(14)
    assert release_at(at(14), *nap, SHANGHAI) == at(14)
    assert release_at(at(23), *nap, SHANGHAI) == at(23)
    assert release_at(at(3), time(8), time(8), SHANGHAI) == at(3)  # start == end: none


def test_release_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError):
        release_at(datetime(2026, 3, 7, 22, 0), *QUIET, SHANGHAI)


# --- bundling, keys, missed reminders ---------------------------------------------------------


def test_bundle_one_list_per_person_in_order_without_duplicates() -> None:
    today = d(3, 17)
    lantern = Item(Kind.FESTIVAL, None, today, CareDate.LANTERN)
    items = [
        (1, Item(Kind.LEDGER_REVIEW, None, today)),
        (1, lantern),
        (1, Item(Kind.BIRTHDAY_SOON, 9, d(3, 20))),
        (1, Item(Kind.BIRTHDAY, 8, today)),
        (1, Item(Kind.VISIT_PLANNED, 3, today)),
        (1, Item(Kind.VISIT_SOON, 5, d(3, 20))),
        (1, Item(Kind.VISIT_DUE, 7, today)),
        (1, Item(Kind.VISIT_DUE, 2, today)),
        (1, Item(Kind.VISIT_OVERDUE, 4, d(3, 14))),
        (1, Item(Kind.VISIT_OVERDUE, 6, d(3, 8))),  # most overdue
        (1, Item(Kind.VISIT_ESCALATED, 1, d(3, 10))),
        (2, Item(Kind.VISIT_ESCALATED, 1, d(3, 10))),  # a supervisor gets the escalation
        (1, lantern),  # the same item twice
        (1, Item(Kind.FESTIVAL_SOON, None, d(3, 24), CareDate.TERM_START)),
    ]
    assert bundle(items) == {
        1: [
            Item(Kind.VISIT_ESCALATED, 1, d(3, 10)),
            Item(Kind.VISIT_OVERDUE, 6, d(3, 8)),
            Item(Kind.VISIT_OVERDUE, 4, d(3, 14)),
            Item(Kind.VISIT_DUE, 2, today),
            Item(Kind.VISIT_DUE, 7, today),
            Item(Kind.VISIT_SOON, 5, d(3, 20)),
            Item(Kind.VISIT_PLANNED, 3, today),
            Item(Kind.BIRTHDAY, 8, today),
            Item(Kind.BIRTHDAY_SOON, 9, d(3, 20)),
            lantern,
            Item(Kind.FESTIVAL_SOON, None, d(3, 24), CareDate.TERM_START),
            Item(Kind.LEDGER_REVIEW, None, today),
        ],
        2: [Item(Kind.VISIT_ESCALATED, 1, d(3, 10))],
    }


def test_bundle_keeps_items_that_differ_only_in_extra() -> None:
    two = [(1, Item(Kind.FESTIVAL, 5, d(6, 1), care)) for care in ("term_start", "childrens_day")]
    assert bundle(two) == {1: [two[1][1], two[0][1]]}
    assert bundle([]) == {}


def test_reminder_keys_are_unique_per_kind_person_child_and_day() -> None:
    key = reminder_key(Kind.VISIT_OVERDUE, 12, 34, d(3, 13))
    assert key == "remind:visit_overdue:12:34:2026-03-13"
    assert key != reminder_key(Kind.VISIT_OVERDUE, 12, 34, d(3, 16))
    assert reminder_key(Kind.LEDGER_REVIEW, 12, None, d(3, 1)) == (
        "remind:ledger_review:12:-:2026-03-01"
    )
    assert reminder_key(Kind.FESTIVAL, 1, 2, d(6, 1), CareDate.TERM_START) != reminder_key(
        Kind.FESTIVAL, 1, 2, d(6, 1), CareDate.CHILDRENS_DAY
    )
    longest = reminder_key(Kind.VISIT_ESCALATED, 2**63, 2**63, d(12, 31), CareDate.SUMMER_HOLIDAY)
    assert len(longest) <= 120  # the outbox key's column


@pytest.mark.parametrize(
    ("kind", "on", "today", "useful"),
    [
        (Kind.BIRTHDAY, d(4, 2), d(4, 2), True),
        (Kind.BIRTHDAY, d(4, 2), d(4, 3), False),
        (Kind.BIRTHDAY_SOON, d(4, 2), d(4, 1), True),
        (Kind.BIRTHDAY_SOON, d(4, 2), d(4, 2), False),  # the day's own reminder goes instead
        (Kind.FESTIVAL, d(2, 17), d(2, 17), True),
        (Kind.FESTIVAL, d(2, 17), d(2, 18), False),
        (Kind.FESTIVAL_SOON, d(2, 17), d(2, 12), True),
        (Kind.FESTIVAL_SOON, d(2, 17), d(2, 20), False),
        (Kind.VISIT_SOON, d(3, 10), d(3, 12), True),
        (Kind.VISIT_DUE, d(3, 10), d(3, 20), True),
        (Kind.VISIT_OVERDUE, d(3, 10), d(5, 1), True),
        (Kind.VISIT_ESCALATED, d(3, 10), d(5, 1), True),
        (Kind.VISIT_PLANNED, d(3, 8), d(3, 8), True),
        (Kind.VISIT_PLANNED, d(3, 8), d(3, 9), False),
        (Kind.LEDGER_REVIEW, d(3, 1), d(3, 31), True),
        (Kind.LEDGER_REVIEW, d(3, 15), d(4, 1), False),
    ],
)
def test_still_useful(kind: Kind, on: date, today: date, useful: bool) -> None:
    assert still_useful(kind, on, today) is useful
