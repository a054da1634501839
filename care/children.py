"""Children's records: gender, category, risk colour, age and eligibility, lunar birthdays.

Pure: no Telegram, no SQL, no translated text. Bad values raise `InvalidValue` with a machine
code; the Telegram layer translates it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from lunar_python import Lunar, LunarMonth, LunarYear

from care.roles import MAX_NAME_LENGTH
from care.roles import Gender as Gender  # re-exported: a child's gender is the same


class InvalidValue(ValueError):
    """A value that cannot be accepted, named by a machine code plus parameters."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# The longest text each field of a child's record holds, by field name: one definition, used by
# the table (storage.models: Child, and Household for `household`) and by every check of input
# (ledger rows, the record forms), so that nothing a check accepts is refused by the database
# (PostgreSQL) or stored over length (SQLite does not enforce it).
TEXT_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        "name": MAX_NAME_LENGTH,  # as a person's (care.roles.clean_name)
        "id_number": 18,
        "ethnicity": 20,
        "household": 40,
        "schooling": 40,
        "school": 80,
        "health": 200,
        "disability": 80,
        "guardian_name": 40,
        "guardian_relation": 20,
        "guardian_phone": 20,
        "father_work": 80,
        "mother_work": 80,
    }
)


def _key(text: str) -> str:
    """Lookup form of a cell: NFKC (full-width to half-width), no whitespace, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


# Gender is shared with volunteers (care.roles); these are its ledger spellings.
GENDER_LEDGER_NAMES: Mapping[Gender, str] = MappingProxyType(
    {Gender.MALE: "男", Gender.FEMALE: "女"}
)
_GENDERS = {
    **{key: Gender.MALE for key in ("男", "男性", "male", "m")},
    **{key: Gender.FEMALE for key in ("女", "女性", "female", "f")},
}


def parse_gender(text: str) -> Gender:
    """男/女, 男性/女性, male/female, M/F (any case)."""
    try:
        return _GENDERS[_key(text)]
    except KeyError:
        raise InvalidValue("unknown_gender", value=text) from None


@dataclass(frozen=True, slots=True)
class _CategoryRule:
    ledger_name: str
    age_limit: int  # eligible while younger than this many whole years
    needs_caring_family: bool  # at least one caring family, paired individually


class Category(StrEnum):
    """Pairing categories (结对对象), in the order of DESIGN.md (1–6)."""

    ORPHAN = "orphan"
    UNSUPPORTED = "unsupported"
    LOW_INCOME_DISABLED_ILL = "low_income_disabled_ill"
    LOW_INCOME_OTHER = "low_income_other"
    OTHER_DIFFICULTY = "other_difficulty"
    LEFT_BEHIND = "left_behind"

    @property
    def ledger_name(self) -> str:
        return _CATEGORY_RULES[self].ledger_name

    @property
    def age_limit(self) -> int:
        return _CATEGORY_RULES[self].age_limit

    @property
    def needs_caring_family(self) -> bool:
        return _CATEGORY_RULES[self].needs_caring_family


_CATEGORY_RULES: Mapping[Category, _CategoryRule] = MappingProxyType(
    {
        Category.ORPHAN: _CategoryRule("孤儿", 18, True),
        Category.UNSUPPORTED: _CategoryRule("事实无人抚养儿童", 18, True),
        Category.LOW_INCOME_DISABLED_ILL: _CategoryRule("低保家庭重残重病儿童", 18, True),
        Category.LOW_INCOME_OTHER: _CategoryRule("其他低保家庭儿童", 18, False),
        Category.OTHER_DIFFICULTY: _CategoryRule("其他困境儿童", 18, False),
        Category.LEFT_BEHIND: _CategoryRule("农村留守儿童", 16, False),
    }
)
_CATEGORIES = {
    **{_key(c.ledger_name): c for c in Category},
    **{c.value: c for c in Category},
    "留守儿童": Category.LEFT_BEHIND,
}


def parse_category(text: str) -> Category:
    """The ledger name (孤儿, 农村留守儿童, …), the enum value, or 留守儿童."""
    try:
        return _CATEGORIES[_key(text)]
    except KeyError:
        raise InvalidValue("unknown_category", value=text) from None


class Colour(StrEnum):
    """Risk colour (分级分色), most urgent first."""

    RED = "red"
    YELLOW = "yellow"
    BLUE = "blue"
    GREEN = "green"

    @property
    def ledger_name(self) -> str:
        return _COLOUR_NAMES[self]

    def visit_interval_days(self, intervals: Mapping[Colour, int] | None = None) -> int:
        """Longest gap between visits; `intervals` (configuration) overrides the defaults."""
        if intervals is not None and self in intervals:
            return intervals[self]
        return DEFAULT_VISIT_INTERVALS[self]


_COLOUR_NAMES = {Colour.RED: "红", Colour.YELLOW: "黄", Colour.BLUE: "蓝", Colour.GREEN: "绿"}
DEFAULT_VISIT_INTERVALS: Mapping[Colour, int] = MappingProxyType(
    {Colour.RED: 7, Colour.YELLOW: 15, Colour.BLUE: 30, Colour.GREEN: 60}
)
_COLOURS = {
    **{name: colour for colour, name in _COLOUR_NAMES.items()},
    **{name + "色": colour for colour, name in _COLOUR_NAMES.items()},
    **{colour.value: colour for colour in Colour},
    # the column is headed 风险等级, so some ledgers write the level instead of the colour
    "高风险": Colour.RED,
    "中风险": Colour.YELLOW,
    "低风险": Colour.BLUE,
    "健康成长": Colour.GREEN,
}


def parse_colour(text: str) -> Colour:
    """红/黄/蓝/绿, 红色…, red…, or 高风险/中风险/低风险/健康成长."""
    try:
        return _COLOURS[_key(text)]
    except KeyError:
        raise InvalidValue("unknown_colour", value=text) from None


def age_on(birth_date: date, day: date) -> int:
    """Whole years on `day`; someone born on 29 February turns a year older on 1 March."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def eligibility_problems(birth_date: date, category: Category, today: date) -> list[str]:
    """Codes: `birth_in_future`, `too_old_for_category` (age ≥ category.age_limit)."""
    if birth_date > today:
        return ["birth_in_future"]
    if age_on(birth_date, today) >= category.age_limit:
        return ["too_old_for_category"]
    return []


# --- lunar birthdays -------------------------------------------------------------------------

_MONTH_NAMES = ("正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊")
_MONTH_WORDS = {"正": 1, "元": 1, "冬": 11, "腊": 12, "臘": 12}
_DIGITS = "一二三四五六七八九十"
_NUMERALS = {digit: value for value, digit in enumerate(_DIGITS[:9], start=1)}
_LUNAR = re.compile(
    r"(?:农历|阴历|旧历)?:?(?P<leap>[闰閏润])?(?P<month>[^月/.-]+)(?:月|[/.-])(?P<day>.+?)[日号]?"
)


@dataclass(frozen=True, slots=True)
class LunarBirthday:
    """A birthday kept by the lunar calendar: month 1–12, day 1–30, in a leap month or not."""

    month: int
    day: int
    leap: bool = False

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.day <= 30):
            raise InvalidValue("lunar_birthday_impossible", value=f"{self.month}-{self.day}")

    def __str__(self) -> str:
        """The written form a ledger uses: 闰四月初八, 腊月三十."""
        return f"{'闰' if self.leap else ''}{_MONTH_NAMES[self.month - 1]}月{_day_name(self.day)}"


def _day_name(day: int) -> str:
    tens, ones = divmod(day, 10)
    if day <= 10:
        return "初" + _DIGITS[day - 1]
    if ones == 0:
        return _DIGITS[tens - 1] + "十"
    return ("十", "廿")[tens - 1] + _DIGITS[ones - 1]


def _number(token: str) -> int | None:
    """1–2 ASCII digits or a Chinese numeral up to 三十九 (also 廿 = 20, 卅 = 30)."""
    if re.fullmatch(r"[0-9]{1,2}", token):
        return int(token)
    token = token.replace("廿", "二十").replace("卅", "三十")
    if token == "十":
        return 10
    if len(token) == 1:
        return _NUMERALS.get(token)
    tens, ten, ones = token.partition("十")
    if not ten or len(tens) > 1 or len(ones) > 1:
        return None
    tens_value = _NUMERALS.get(tens) if tens else 1
    ones_value = _NUMERALS.get(ones) if ones else 0
    if tens_value is None or ones_value is None:
        return None
    return tens_value * 10 + ones_value


def parse_lunar_birthday(text: str) -> LunarBirthday:
    """The ledger's written form: 八月十五, 闰四月初八, 正月初一, 腊月廿三, 冬月三十,
    十一月二十, 三月卅, 农历八月十五; also digits: 8-15, 闰4-8, 8月15日.

    Codes: `lunar_birthday_format` (cannot be read), `lunar_birthday_impossible` (month not 1–12
    or day not 1–30).
    """
    match = _LUNAR.fullmatch(_key(text))
    if match is None:
        raise InvalidValue("lunar_birthday_format", value=text)
    month_token, day_token = match["month"], match["day"]
    month = _MONTH_WORDS.get(month_token) or _number(month_token)
    if day_token.startswith("初"):
        day = _number(day_token[1:])
        day = day if day is not None and day <= 10 else None
    else:
        day = _number(day_token)
    if month is None or day is None:
        raise InvalidValue("lunar_birthday_format", value=text)
    if not (1 <= month <= 12 and 1 <= day <= 30):
        raise InvalidValue("lunar_birthday_impossible", value=text)
    return LunarBirthday(month, day, match["leap"] is not None)


# lunar_python recomputes a whole year whenever the year changes; these caches keep reminder
# runs over many children cheap.
@lru_cache(maxsize=512)
def _leap_month(year: int) -> int:
    leap: int = LunarYear.fromYear(year).getLeapMonth()  # lunar_python has no types
    return leap


@lru_cache(maxsize=4096)
def _lunar_month(year: int, month: int) -> tuple[date, int]:
    """First solar day and length of a lunar month (negative month = the leap month)."""
    first = Lunar.fromYmd(year, month, 1).getSolar()
    length = LunarMonth.fromYm(year, month).getDayCount()
    return date(first.getYear(), first.getMonth(), first.getDay()), length


def lunar_birthday_in_year(birthday: LunarBirthday, year: int) -> date:
    """Solar date of the birthday in lunar year `year`.

    A 30th that the month lacks falls on its 29th. A leap-month birthday falls in the leap month
    when the year has it, otherwise in the ordinary month of that name.
    """
    leap = birthday.leap and _leap_month(year) == birthday.month
    first, length = _lunar_month(year, -birthday.month if leap else birthday.month)
    return first + timedelta(days=min(birthday.day, length) - 1)


def lunar_month_day(day: date) -> tuple[int, int, int]:
    """The lunar month (1–12; a leap month as the month it repeats), the lunar day and the
    number of days in that month, of the solar date `day` (from the cached months)."""
    year = day.year if day >= _lunar_month(day.year, 1)[0] else day.year - 1
    leap = _leap_month(year)
    months = [m for n in range(1, 13) for m in ((n, -n) if n == leap else (n,))]
    for month in reversed(months):
        first, length = _lunar_month(year, month)
        if first <= day:
            return abs(month), (day - first).days + 1, length
    raise AssertionError("a solar date before its lunar year's first month")  # unreachable


def next_lunar_birthday(birthday: LunarBirthday, after: date) -> date:
    """The first occurrence on or after the solar date `after`."""
    new_year = _lunar_month(after.year, 1)[0]  # 春节 always falls in the same solar year
    lunar_year = after.year if after >= new_year else after.year - 1
    this_year = lunar_birthday_in_year(birthday, lunar_year)
    return this_year if this_year >= after else lunar_birthday_in_year(birthday, lunar_year + 1)


class Schooling(StrEnum):
    """Schooling status (就学情况); the value kept is the ledger's wording."""

    IN_SCHOOL = "在校"
    DROPPED_OUT = "辍学"
    SUSPENDED = "休学"
    PRESCHOOL = "学龄前"
    GRADUATED = "已毕业"


# Two-character surnames (复姓) seen in the counties served; all others are one character.
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯"}
)


def given_name(name: str) -> str:
    """The given name (名) alone, for receipts that should not carry the full name."""
    surname = 2 if name[:2] in COMPOUND_SURNAMES else 1
    return name[surname:] or name
