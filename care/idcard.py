"""18-digit resident ID numbers (公民身份号码, GB 11643-1999).

Layout: 6-digit region, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd = male), and an
ISO 7064 MOD 11-2 check character (0–9 or X). The old 15-digit numbers expired long before any
child now in care was born, so they are rejected.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from care.children import Gender, InvalidValue

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2**(17 - i) mod 11
_CHECK_CHARACTERS = "10X98765432"
_FORMAT = re.compile(r"[0-9]{17}[0-9X]")


@dataclass(frozen=True, slots=True)
class IdInfo:
    number: str  # normalised: no spaces, upper-case X
    birth_date: date
    gender: Gender

    @property
    def region(self) -> str:
        return self.number[:6]


def normalize_id(number: str) -> str:
    """Full-width digits to ASCII, spaces removed, x to X."""
    return "".join(unicodedata.normalize("NFKC", number).split()).upper()


def check_digit(first17: str) -> str:
    """The check character for the first 17 digits."""
    if not re.fullmatch(r"[0-9]{17}", first17):
        raise ValueError("need exactly 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def parse_id(number: str) -> IdInfo:
    """Validate and decode; raises `InvalidValue` with `id_format`, `id_checksum` or
    `id_birth_date` (the embedded date is not a real date)."""
    number = normalize_id(number)
    if not _FORMAT.fullmatch(number):
        raise InvalidValue("id_format")
    if check_digit(number[:17]) != number[17]:
        raise InvalidValue("id_checksum")
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidValue("id_birth_date") from None
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return IdInfo(number, birth_date, gender)


def make_id(region: str, birth_date: date, sequence: int) -> str:
    """A valid number for fixtures and demo data; an odd `sequence` (0–999) makes a boy."""
    if not (re.fullmatch(r"[0-9]{6}", region) and 0 <= sequence <= 999):
        raise ValueError("region must be 6 digits and sequence 0–999")
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


def mask_id(number: str) -> str:
    """Keep the region (first 6) and the last 4, hiding the birth date: 320999********7880.

    Anything of 10 characters or fewer is hidden entirely.
    """
    number = normalize_id(number)
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
