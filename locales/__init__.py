"""Babel catalogs (zh_CN default, en) and the per-update translator.

Message ids are stable keys (``onboarding.ask_name``); every catalog must translate every key.
The .po files are read with Babel at start-up, so there is no compile step to forget; fuzzy or
empty entries are refused (and the catalog test fails on them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
# Each language in itself, for the buttons that choose one (not translated, on purpose).
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent

# Babel's negotiate_locale does not map zh-hans & co. to zh_CN: keep an explicit map.
_TELEGRAM_PREFIXES = {"zh": "zh_CN", "en": "en"}


def locale_for(language_code: str | None, default: str) -> str:
    """Map Telegram's ``language_code`` (``zh``, ``zh-hans``, ``zh-hant``, ``en-GB``…)."""
    if not language_code:
        return default
    prefix = language_code.replace("_", "-").split("-")[0].lower()
    return _TELEGRAM_PREFIXES.get(prefix, default)


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(locale: str) -> dict[str, str]:
    with po_path(locale).open("rb") as fh:
        po = read_po(fh, locale=locale)
    return {
        str(m.id): str(m.string)
        for m in po
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }


@dataclass(frozen=True)
class Translator:
    locale: str
    tz: ZoneInfo

    def __call__(self, key: str, /, **params: object) -> str:
        text = catalog(self.locale).get(key) or catalog(LOCALES[0]).get(key) or key
        return text.format(**params) if params else text

    def date(self, day: date) -> str:
        return _long_date(day, self.locale)

    def datetime(self, moment: datetime) -> str:
        return format_datetime(moment, "medium", tzinfo=self.tz, locale=self.locale)


@cache
def in_every_language(key: str) -> frozenset[str]:
    """A message's text in each catalog (to recognise it whatever the reader's language)."""
    return frozenset(catalog(locale).get(key) or key for locale in LOCALES)


@lru_cache(maxsize=4096)
def _long_date(day: date, locale: str) -> str:
    """Babel takes most of a millisecond per date; a check-in step shows several."""
    return format_date(day, "long", locale=locale)


def _(key: str) -> str:
    """Marks a key for extraction where it is looked up later (keyboards, tables)."""
    return key
