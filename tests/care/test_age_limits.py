"""The age rules of closing records as dates (care.closing), checked against care.children's
own count of whole years, leap days included."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from care.children import Category, age_on
from care.closing import age_out_day, aged_out, ageing_window, born_by, clean_note


def test_the_age_out_day_is_the_birthday_of_the_limit() -> None:
    assert age_out_day(date(2014, 9, 3), Category.LEFT_BEHIND) == date(2030, 9, 3)
    assert age_out_day(date(2014, 9, 3), Category.ORPHAN) == date(2032, 9, 3)
    # born on 29 February: a year older on 1 March when the year has no 29 February
    assert age_out_day(date(2012, 2, 29), Category.LEFT_BEHIND) == date(2028, 2, 29)
    assert age_out_day(date(2012, 2, 29), Category.ORPHAN) == date(2030, 3, 1)


def test_aged_out_on_and_after_the_day_only() -> None:
    born = date(2014, 9, 3)
    assert not aged_out(born, Category.LEFT_BEHIND, date(2030, 9, 2))
    assert aged_out(born, Category.LEFT_BEHIND, date(2030, 9, 3))
    assert not aged_out(born, Category.OTHER_DIFFICULTY, date(2030, 9, 3))


@pytest.mark.parametrize("years", [16, 18])
def test_born_by_is_the_latest_birth_date_of_that_age_every_day(years: int) -> None:
    day = date(2027, 1, 1)
    while day < date(2033, 1, 1):  # two leap years, and the years around them
        latest = born_by(day, years)
        assert age_on(latest, day) >= years
        assert age_on(latest + timedelta(days=1), day) < years
        day += timedelta(days=1)


def test_the_window_holds_exactly_who_reaches_the_age_within_the_days() -> None:
    today = date(2030, 8, 4)
    after, until = ageing_window(today, 16, 30)
    for born in (date(2014, 9, 3), date(2014, 8, 5)):  # 16 on 9/3 (day 30), on 8/5 (day 1)
        assert after < born <= until
    for born in (date(2014, 8, 4), date(2014, 9, 4)):  # 16 today already; on day 31
        assert not after < born <= until


def test_a_note_is_single_spaced_and_neither_empty_nor_too_long() -> None:
    assert clean_note("  父母  返乡 ") == "父母 返乡"
    assert clean_note("   ") is None and clean_note("好") is None
    assert clean_note("字" * 200) == "字" * 200 and clean_note("字" * 201) is None
