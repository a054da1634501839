from collections.abc import Callable
from datetime import date, timedelta

import pytest
from lunar_python import Solar

from care.children import (
    DEFAULT_VISIT_INTERVALS,
    Category,
    Colour,
    Gender,
    InvalidValue,
    LunarBirthday,
    age_on,
    eligibility_problems,
    lunar_birthday_in_year,
    lunar_month_day,
    next_lunar_birthday,
    parse_category,
    parse_colour,
    parse_gender,
    parse_lunar_birthday,
)


def code_of(parse: Callable[[str], object], text: str) -> str:
    with pytest.raises(InvalidValue) as caught:
        parse(text)
    return caught.value.code


# --- gender, category, colour ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gender"),
    [
        ("男", Gender.MALE),
        (" 女 ", Gender.FEMALE),
        ("男性", Gender.MALE),
        ("Female", Gender.FEMALE),
        ("MALE", Gender.MALE),
        ("m", Gender.MALE),
        ("F", Gender.FEMALE),
        ("Ｆ", Gender.FEMALE),  # full-width
    ],
)
def test_parse_gender(text: str, gender: Gender) -> None:
    assert parse_gender(text) == gender


@pytest.mark.parametrize("text", ["", "x", "男女", "unknown", "1"])
def test_unknown_gender(text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_gender(text)
    assert (caught.value.code, caught.value.params) == ("unknown_gender", {"value": text})


def test_categories_follow_the_design_table() -> None:
    table = [(c.ledger_name, c.age_limit, c.needs_caring_family) for c in Category]
    assert table == [
        ("孤儿", 18, True),
        ("事实无人抚养儿童", 18, True),
        ("低保家庭重残重病儿童", 18, True),
        ("其他低保家庭儿童", 18, False),
        ("其他困境儿童", 18, False),
        ("农村留守儿童", 16, False),
    ]


def test_parse_category() -> None:
    for category in Category:
        assert parse_category(category.ledger_name) == category
        assert parse_category(f" {category.ledger_name} ") == category
        assert parse_category(category.value.upper()) == category
    assert parse_category("留守儿童") == Category.LEFT_BEHIND
    for text in ("", "困境", "留守", "孤 儿x"):
        assert code_of(parse_category, text) == "unknown_category"


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("红", Colour.RED),
        ("黄色", Colour.YELLOW),
        (" 蓝 ", Colour.BLUE),
        ("绿色", Colour.GREEN),
        ("Red", Colour.RED),
        ("GREEN", Colour.GREEN),
        ("高风险", Colour.RED),
        ("中风险", Colour.YELLOW),
        ("低风险", Colour.BLUE),
        ("健康成长", Colour.GREEN),
    ],
)
def test_parse_colour(text: str, colour: Colour) -> None:
    assert parse_colour(text) == colour


def test_unknown_colour() -> None:
    for text in ("", "紫", "橙色", "r"):
        assert code_of(parse_colour, text) == "unknown_colour"


def test_colour_names_and_default_intervals() -> None:
    assert [c.ledger_name for c in Colour] == ["红", "黄", "蓝", "绿"]
    assert [c.visit_interval_days() for c in Colour] == [7, 15, 30, 60]
    assert dict(DEFAULT_VISIT_INTERVALS) == {"red": 7, "yellow": 15, "blue": 30, "green": 60}


def test_intervals_are_configuration() -> None:
    configured = {Colour.RED: 3, Colour.GREEN: 90}
    assert [c.visit_interval_days(configured) for c in Colour] == [3, 15, 30, 90]
    assert Colour.BLUE.visit_interval_days({}) == 30
    with pytest.raises(TypeError):
        DEFAULT_VISIT_INTERVALS[Colour.RED] = 1  # type: ignore[index]  # read-only, as tested


# --- age and eligibility ---------------------------------------------------------------------


def test_age_in_whole_years() -> None:
    born = date(2010, 6, 15)
    assert age_on(born, date(2010, 6, 15)) == 0
    assert age_on(born, date(2026, 6, 14)) == 15
    assert age_on(born, date(2026, 6, 15)) == 16
    assert age_on(born, date(2026, 12, 31)) == 16


def test_age_of_a_leap_day_child() -> None:
    born = date(2012, 2, 29)
    assert age_on(born, date(2030, 2, 28)) == 17
    assert age_on(born, date(2030, 3, 1)) == 18
    assert age_on(born, date(2032, 2, 29)) == 20


def test_eligibility() -> None:
    today = date(2026, 11, 23)
    assert eligibility_problems(date(2008, 11, 24), Category.ORPHAN, today) == []  # 17
    assert eligibility_problems(date(2008, 11, 23), Category.ORPHAN, today) == [
        "too_old_for_category"
    ]
    assert eligibility_problems(date(2010, 11, 24), Category.LEFT_BEHIND, today) == []  # 15
    assert eligibility_problems(date(2010, 11, 23), Category.LEFT_BEHIND, today) == [
        "too_old_for_category"
    ]
    assert eligibility_problems(date(2010, 11, 23), Category.OTHER_DIFFICULTY, today) == []
    assert eligibility_problems(today, Category.LEFT_BEHIND, today) == []
    assert eligibility_problems(today + timedelta(days=1), Category.ORPHAN, today) == [
        "birth_in_future"
    ]


# --- lunar birthdays -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "month", "day", "leap"),
    [
        ("八月十五", 8, 15, False),
        ("闰四月初八", 4, 8, True),
        ("正月初一", 1, 1, False),
        ("元月十五", 1, 15, False),
        ("腊月廿三", 12, 23, False),
        ("冬月三十", 11, 30, False),
        ("十一月二十", 11, 20, False),
        ("十二月三十", 12, 30, False),
        ("三月卅", 3, 30, False),
        ("十月初十", 10, 10, False),
        ("二月十九", 2, 19, False),
        ("五月廿", 5, 20, False),
        ("农历八月十五", 8, 15, False),
        ("农历：闰四月初八", 4, 8, True),
        ("阴历 七月 初七", 7, 7, False),
        ("八月十五日", 8, 15, False),
        ("8-15", 8, 15, False),
        ("闰4-8", 4, 8, True),
        ("08/05", 8, 5, False),
        ("12.30", 12, 30, False),
        ("8月15日", 8, 15, False),
        ("８－１５", 8, 15, False),  # full-width
        ("润四月初八", 4, 8, True),  # a common slip for 闰
    ],
)
def test_parse_lunar_birthday(text: str, month: int, day: int, leap: bool) -> None:
    assert parse_lunar_birthday(text) == LunarBirthday(month, day, leap)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("十三月初一", "lunar_birthday_impossible"),
        ("八月三十一", "lunar_birthday_impossible"),
        ("八月卅一", "lunar_birthday_impossible"),
        ("0-5", "lunar_birthday_impossible"),
        ("13-1", "lunar_birthday_impossible"),
        ("8-0", "lunar_birthday_impossible"),
        ("8-31", "lunar_birthday_impossible"),
        ("", "lunar_birthday_format"),
        ("八月", "lunar_birthday_format"),
        ("初一", "lunar_birthday_format"),
        ("八月初十一", "lunar_birthday_format"),
        ("八月初", "lunar_birthday_format"),
        ("2013-08-15", "lunar_birthday_format"),
        ("中秋", "lunar_birthday_format"),
        ("四月闰初八", "lunar_birthday_format"),
        ("八月十五十", "lunar_birthday_format"),
        ("123-4", "lunar_birthday_format"),
    ],
)
def test_bad_lunar_birthdays(text: str, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_lunar_birthday(text)
    assert (caught.value.code, caught.value.params) == (code, {"value": text})


def test_lunar_birthday_rejects_impossible_values() -> None:
    for month, day in ((0, 1), (13, 1), (1, 0), (1, 31)):
        with pytest.raises(InvalidValue) as caught:
            LunarBirthday(month, day)
        assert caught.value.code == "lunar_birthday_impossible"


def test_written_form_round_trips() -> None:
    assert str(LunarBirthday(4, 8, leap=True)) == "闰四月初八"
    assert str(LunarBirthday(12, 30)) == "腊月三十"
    assert str(LunarBirthday(11, 21)) == "冬月廿一"
    assert str(LunarBirthday(1, 10)) == "正月初十"
    assert str(LunarBirthday(3, 20)) == "三月二十"
    assert str(LunarBirthday(6, 15)) == "六月十五"
    for month in range(1, 13):
        for day in range(1, 31):
            for leap in (False, True):
                birthday = LunarBirthday(month, day, leap)
                assert parse_lunar_birthday(str(birthday)) == birthday


def in_year(text: str, year: int) -> date:
    return lunar_birthday_in_year(parse_lunar_birthday(text), year)


def test_known_festivals() -> None:
    assert in_year("正月初一", 2026) == date(2026, 2, 17)
    assert in_year("正月初一", 2027) == date(2027, 2, 6)
    assert in_year("八月十五", 2026) == date(2026, 9, 25)
    assert in_year("八月十五", 2025) == date(2025, 10, 6)
    assert in_year("正月十五", 2026) == date(2026, 3, 3)
    assert in_year("四月初八", 2020) == date(2020, 4, 30)


def test_a_30th_the_month_lacks_falls_on_its_29th() -> None:
    # lunar 2025 has no 腊月三十: New Year's Eve 2026 is 腊月廿九, 16 February
    assert in_year("腊月三十", 2025) == date(2026, 2, 16)
    assert in_year("腊月廿九", 2025) == date(2026, 2, 16)
    # lunar 2026: 正月 has 30 days, 二月 has 29
    assert in_year("正月三十", 2026) == date(2026, 3, 18)
    assert in_year("二月三十", 2026) == in_year("二月廿九", 2026) == date(2026, 4, 16)


def test_leap_month_in_a_year_that_has_it() -> None:
    # 2023 has 闰二月 (after a 30-day 二月; the leap month has 29 days)
    assert in_year("二月初一", 2023) == date(2023, 2, 20)
    assert in_year("闰二月初一", 2023) == date(2023, 3, 22)
    assert in_year("二月三十", 2023) == date(2023, 3, 21)
    assert in_year("闰二月三十", 2023) == date(2023, 4, 19)
    assert in_year("三月初一", 2023) == date(2023, 4, 20)
    # 2025 has 闰六月
    assert in_year("六月初一", 2025) == date(2025, 6, 25)
    assert in_year("闰六月初一", 2025) == date(2025, 7, 25)
    assert in_year("闰六月三十", 2025) == date(2025, 8, 22)
    assert in_year("七月初一", 2025) == date(2025, 8, 23)


def test_leap_month_birthday_in_other_years_keeps_the_ordinary_month() -> None:
    assert in_year("闰二月初八", 2026) == in_year("二月初八", 2026)  # no leap month
    assert in_year("闰二月初八", 2025) == in_year("二月初八", 2025)  # leap 6th month only
    assert in_year("闰四月初八", 2020) == date(2020, 5, 30)  # 2020 has 闰四月
    assert in_year("闰四月初八", 2021) == date(2021, 5, 19)


def test_lunar_dates_agree_with_the_library_both_ways() -> None:
    """Birthdays over 20 years land on solar dates whose lunar date is that day, clamped to the
    month's length."""
    for year in range(2015, 2036):
        for month in (1, 6, 12):
            for day in (1, 30):
                solar = lunar_birthday_in_year(LunarBirthday(month, day), year)
                lunar = Solar.fromYmd(solar.year, solar.month, solar.day).getLunar()
                assert (lunar.getYear(), lunar.getMonth()) == (year, month)
                assert lunar.getDay() == day or (day == 30 and lunar.getDay() == 29)


def test_next_lunar_birthday() -> None:
    mid_autumn = LunarBirthday(8, 15)
    assert next_lunar_birthday(mid_autumn, date(2026, 9, 25)) == date(2026, 9, 25)
    assert next_lunar_birthday(mid_autumn, date(2026, 9, 26)) == date(2027, 9, 15)
    assert next_lunar_birthday(mid_autumn, date(2026, 1, 1)) == date(2026, 9, 25)
    spring = LunarBirthday(1, 1)
    assert next_lunar_birthday(spring, date(2026, 2, 17)) == date(2026, 2, 17)
    assert next_lunar_birthday(spring, date(2026, 2, 18)) == date(2027, 2, 6)


def test_next_lunar_birthday_across_the_solar_new_year() -> None:
    # 腊月 of lunar 2025 falls in January and February 2026
    assert next_lunar_birthday(LunarBirthday(12, 23), date(2026, 1, 1)) == date(2026, 2, 10)
    eve = LunarBirthday(12, 30)
    assert next_lunar_birthday(eve, date(2026, 1, 1)) == date(2026, 2, 16)
    assert next_lunar_birthday(eve, date(2026, 2, 17)) == lunar_birthday_in_year(eve, 2026)


def test_next_lunar_birthday_is_never_before_and_within_a_year() -> None:
    birthday = LunarBirthday(4, 8, leap=True)
    day = date(2019, 12, 1)
    while day < date(2022, 1, 1):
        found = next_lunar_birthday(birthday, day)
        assert day <= found < day + timedelta(days=385)
        assert found in {in_year("闰四月初八", y) for y in (2019, 2020, 2021, 2022)}
        day += timedelta(days=11)


def test_lunar_month_day_of_a_solar_date() -> None:
    day = date(2019, 12, 1)  # over two leap months: 闰四月 of 2020 and 闰二月 of 2023
    while day < date(2024, 3, 1):
        lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
        month, lunar_day, length = lunar_month_day(day)
        assert (month, lunar_day) == (abs(lunar.getMonth()), lunar.getDay())
        assert length in (29, 30) and lunar_day <= length
        day += timedelta(days=1)
    assert lunar_month_day(date(2026, 2, 16)) == (12, 29, 29)  # 腊月 of lunar 2025 has no 30th
