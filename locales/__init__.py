"""Babel catalogs (zh_CN default, en) and the per-update translator.

Message ids are stable keys (``onboarding.ask_name``); every catalog must translate every key.
The .po files are read with Babel at start-up, so there is no compile step to forget; fuzzy or
empty entries are refused (and the catalog test fails on them).

A message that counts something is a plural entry (``msgid_plural`` the same key, one
``msgstr[i]`` per form the language has: Chinese one, English two) and is looked up with
``t.n(key, n, **params)``, which picks the form through Babel's ``ngettext``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

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
def _po(locale: str) -> Catalog:
    with po_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale)


@cache
def catalog(locale: str) -> dict[str, str]:
    """The singular entries (plural ones are read by `plurals`)."""
    return {
        str(m.id): str(m.string)
        for m in _po(locale)
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }


@cache
def plurals(locale: str) -> Translations:
    """The catalog as gettext reads it, for ``ngettext``: the form for n comes from the .po's
    Plural-Forms header. A key missing here is looked up in the default catalog."""
    compiled = BytesIO()
    write_mo(compiled, _po(locale))  # fuzzy entries are left out
    compiled.seek(0)
    found = Translations(compiled, domain=DOMAIN)
    if locale != LOCALES[0]:
        found.add_fallback(plurals(LOCALES[0]))
    return found


@dataclass(frozen=True)
class Translator:
    locale: str
    tz: ZoneInfo

    def __call__(self, key: str, /, **params: object) -> str:
        text = catalog(self.locale).get(key) or catalog(LOCALES[0]).get(key) or key
        return text.format(**params) if params else text

    def n(self, key: str, n: int, /, **params: object) -> str:
        """A counted message in the form for `n` ("1 day", "2 days"); `n` picks the form only,
        the count is passed in `params` under the name the message uses."""
        text = plurals(self.locale).ngettext(key, key, n)
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


def preload(tz: ZoneInfo) -> None:
    """Reads every catalog and its language's date formats now, at start-up: the first use
    costs tens of milliseconds, which would otherwise stall whichever update needs it first."""
    for locale in LOCALES:
        Translator(locale, tz).date(date(2000, 1, 1))
        catalog(locale)
        plurals(locale)


def _(key: str) -> str:
    """Marks a key for extraction where it is looked up later (keyboards, tables)."""
    return key


def mark_plural(key: str) -> str:
    """Marks a counted message's key (looked up later with `Translator.n`) for extraction."""
    return key
