import csv
from datetime import date
from pathlib import Path

import pytest

from care.children import Gender, InvalidValue
from care.idcard import IdInfo, check_digit, make_id, mask_id, normalize_id, parse_id

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/ledger-sample.csv"


def test_check_digit_of_the_standards_examples() -> None:
    # the worked examples of GB 11643-1999
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052418800101001") == "4"


def test_check_digit_needs_17_digits() -> None:
    for bad in ("1101051949123100", "110105194912310021", "1101051949123100X"):
        with pytest.raises(ValueError):
            check_digit(bad)


def test_every_fixture_number_is_valid_and_agrees_with_its_row() -> None:
    with FIXTURE.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40
    for row in rows:
        info = parse_id(row["身份证号"])
        assert info.birth_date.isoformat() == row["出生日期"]
        assert info.gender == (Gender.MALE if row["性别"] == "男" else Gender.FEMALE)


def test_parse_decodes_birth_date_gender_and_region() -> None:
    info = parse_id("320999201312157880")
    assert info == IdInfo("320999201312157880", date(2013, 12, 15), Gender.FEMALE)
    assert info.region == "320999"
    assert parse_id("320999201606290935").gender == Gender.MALE  # 17th digit 3 is odd


def test_parse_normalises_lower_x_spaces_and_full_width_digits() -> None:
    assert parse_id("32099920160412612x").number == "32099920160412612X"
    assert parse_id(" 320999 20131215 7880 ").number == "320999201312157880"
    assert parse_id("３２０９９９２０１３１２１５７８８０").number == "320999201312157880"
    assert normalize_id("3209 99x") == "320999X"


@pytest.mark.parametrize(
    "number",
    [
        "",
        "32099920131215788",  # 17 characters
        "3209992013121578801",  # 19
        "320999131215788",  # the old 15-digit form
        "32099920131215788A",
        "X20999201312157880",  # X only as the check character
        "3209992013121578X0",
    ],
)
def test_format_errors(number: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_id(number)
    assert caught.value.code == "id_format"
    assert caught.value.params == {}


def test_any_single_wrong_digit_fails_the_checksum() -> None:
    number = "320999201312157880"
    for position in range(18):
        for digit in "0123456789X":
            if digit == number[position] or (digit == "X" and position < 17):
                continue
            changed = number[:position] + digit + number[position + 1 :]
            with pytest.raises(InvalidValue) as caught:
                parse_id(changed)
            assert caught.value.code == "id_checksum"


def test_swapped_neighbours_fail_the_checksum() -> None:
    number = "320999201312157880"
    for position in range(16):
        a, b = number[position], number[position + 1]
        if a == b:
            continue
        swapped = number[:position] + b + a + number[position + 2 :]
        with pytest.raises(InvalidValue):
            parse_id(swapped)


@pytest.mark.parametrize("birth", ["20130230", "20131301", "20130000", "00000101"])
def test_impossible_birth_date_with_a_correct_check_digit(birth: str) -> None:
    first17 = f"320999{birth}123"
    with pytest.raises(InvalidValue) as caught:
        parse_id(first17 + check_digit(first17))
    assert caught.value.code == "id_birth_date"


def test_make_id_round_trips() -> None:
    boy = make_id("320999", date(2016, 2, 29), 1)
    girl = make_id("320999", date(2016, 2, 29), 998)
    assert boy[:17] == "32099920160229001"
    assert parse_id(boy) == IdInfo(boy, date(2016, 2, 29), Gender.MALE)
    assert parse_id(girl).gender == Gender.FEMALE
    with pytest.raises(ValueError):
        make_id("32099", date(2016, 1, 1), 1)
    with pytest.raises(ValueError):
        make_id("320999", date(2016, 1, 1), 1000)


def test_mask_keeps_region_and_last_four() -> None:
    assert mask_id("320999201312157880") == "320999********7880"
    assert mask_id("32099920160412612x") == "320999********612X"
    assert mask_id("1234567890") == "**********"
    assert mask_id("") == ""
    assert mask_id("12345678901") == "123456*8901"
