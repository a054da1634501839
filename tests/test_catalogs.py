"""Every user-facing string is in both catalogs: translated, not fuzzy, same placeholders; a
counted message is a plural entry with the forms its language has (Chinese one, English two)."""

from __future__ import annotations

import re
from pathlib import Path
from string import Formatter
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from care.invites import InviteState
from care.roles import Gender, Role
from locales import LOCALES, Translator, labels, locale_for, po_path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    "bot.py", "care", "conversations", "handlers", "locales", "sandbox", "service", "settings.py",
    "toolkit", "workers",
]  # fmt: skip
# The keywords of README's `pybabel extract`: `t.n(key, n)` and `mark_plural(key)` extract as
# plural entries whose msgid_plural is the key again.
KEYWORDS = {"t": None, "mark": None, "n": (1, 1), "mark_plural": (1, 1)}
FORMS = {"zh_CN": 1, "en": 2}


def used_keys() -> tuple[set[str], set[str]]:
    """The keys the code uses: (singular, plural)."""
    singular: set[str] = set()
    plural: set[str] = set()
    for name in SOURCES:
        path = ROOT / name
        directory, pattern = (path, "**.py") if path.is_dir() else (ROOT, name)
        found = extract_from_dir(directory, method_map=[(pattern, "python")], keywords=KEYWORDS)
        for _file, _line, message, _comments, _ctx in found:
            if isinstance(message, tuple):
                plural.add(str(message[0]))
            else:
                singular.add(str(message))
    return singular, plural


def placeholders(text: str) -> set[str]:
    return {field for _lit, field, _spec, _conv in Formatter().parse(text) if field}


def read(locale: str) -> Catalog:
    with po_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale)


def forms(message: Message) -> list[str]:
    string = message.string
    return [str(s) for s in string] if isinstance(string, (list, tuple)) else [str(string)]


def key_of(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, (list, tuple)) else message.id)


@pytest.fixture(scope="module")
def keys() -> tuple[set[str], set[str]]:
    singular, plural = used_keys()
    assert len(singular) > 50 and len(plural) > 10  # the extraction itself works
    return singular, plural


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_translates_every_key_and_nothing_else(
    locale: str, keys: tuple[set[str], set[str]]
) -> None:
    singular, plural = keys
    assert singular.isdisjoint(plural), "a key looked up both with and without a count"
    catalog = read(locale)
    entries = {key_of(m): m for m in catalog if m.id}
    plural_entries = {k for k, m in entries.items() if m.pluralizable}
    assert sorted((singular | plural) - entries.keys()) == [], f"missing in {locale}"
    assert sorted(entries.keys() - singular - plural) == [], f"obsolete in {locale}"
    assert sorted(plural ^ plural_entries) == [], f"plural or not, code and {locale} disagree"
    assert [k for k, m in entries.items() if m.fuzzy] == [], f"fuzzy in {locale}"
    assert [k for k, m in entries.items() if not all(f.strip() for f in forms(m))] == []


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_entries_have_the_forms_of_their_language(locale: str) -> None:
    catalog = read(locale)
    assert catalog.num_plurals == FORMS[locale]  # the Plural-Forms header
    for message in catalog:
        if message.id and message.pluralizable:
            assert message.id[0] == message.id[1], message.id  # msgid_plural: the key again
            assert len(forms(message)) == FORMS[locale], (locale, message.id)


def test_placeholders_agree_between_languages_and_forms(keys: tuple[set[str], set[str]]) -> None:
    catalogs = {locale: {key_of(m): forms(m) for m in read(locale) if m.id} for locale in LOCALES}
    for key in keys[0] | keys[1]:
        fields = {(loc, i): placeholders(form)
                  for loc in LOCALES for i, form in enumerate(catalogs[loc][key])}  # fmt: skip
        assert len(set(map(frozenset, fields.values()))) == 1, (key, fields)


def test_counted_messages_read_right_for_one_and_for_two(keys: tuple[set[str], set[str]]) -> None:
    """Through the translator the bot uses: English "1 day" but "2 days", Chinese one form."""
    english = {key_of(m): forms(m) for m in read("en") if m.id and m.pluralizable}
    chinese = {key_of(m): forms(m) for m in read("zh_CN") if m.id and m.pluralizable}
    en, zh = Translator("en", ZoneInfo("UTC")), Translator("zh_CN", ZoneInfo("UTC"))
    for key in keys[1]:
        one, other = english[key]
        assert one != other, key  # the two English forms say it differently
        assert (en.n(key, 1), en.n(key, 2), en.n(key, 0)) == (one, other, other)
        assert zh.n(key, 1) == zh.n(key, 2) == chinese[key][0]
    assert en.n("overdue.nudged", 1, count=1).startswith("Nudged 1 volunteer ")
    assert en.n("overdue.line", 2, dot="🔴", name="A", days=2, volunteers="B") == (
        "🔴 A · 2 days overdue · volunteer: B"
    )


# A count followed by an English plural noun or verb: "{days} days", "{count} more problems",
# "the last {cut} were cut".
COUNTED = re.compile(
    r"\{(count|n|days|hours|minutes|rejected|total|cut)\} ((more )?[a-z]+s|were|are)\b"
)


def test_no_singular_english_entry_counts_something() -> None:
    """A message that counts must be a plural entry, or it says "1 days" (issue 13)."""
    singular = {key_of(m): str(m.string) for m in read("en") if m.id and not m.pluralizable}
    assert sorted(k for k, text in singular.items() if COUNTED.search(text)) == []


def test_every_enum_value_has_a_label() -> None:
    assert set(labels.ROLE) == set(Role)
    assert set(labels.GENDER) == set(Gender)
    assert set(labels.INVITE_REFUSAL) == set(InviteState) - {InviteState.VALID}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh", "zh_CN"),
        ("zh-hans", "zh_CN"),
        ("zh-hant", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh_TW", "zh_CN"),
        ("en", "en"),
        ("en-GB", "en"),
        ("fr", "zh_CN"),
        (None, "zh_CN"),
        ("", "zh_CN"),
    ],
)
def test_telegram_language_codes_map_to_catalogs(code: str | None, expected: str) -> None:
    assert locale_for(code, "zh_CN") == expected
