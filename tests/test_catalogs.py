"""Every user-facing string is in both catalogs: translated, not fuzzy, same placeholders."""

from __future__ import annotations

from pathlib import Path
from string import Formatter

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from care.invites import InviteState
from care.roles import Gender, Role
from locales import LOCALES, labels, locale_for, po_path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    "bot.py", "care", "conversations", "handlers", "locales", "sandbox", "service", "settings.py",
    "toolkit", "workers",
]  # fmt: skip


def used_keys() -> set[str]:
    keys: set[str] = set()
    for name in SOURCES:
        path = ROOT / name
        directory, pattern = (path, "**.py") if path.is_dir() else (ROOT, name)
        found = extract_from_dir(
            directory,
            method_map=[(pattern, "python")],
            keywords={"t": None, "mark": None},
        )
        keys.update(str(message) for _file, _line, message, _comments, _ctx in found)
    return keys


def placeholders(text: str) -> set[str]:
    return {field for _lit, field, _spec, _conv in Formatter().parse(text) if field}


@pytest.fixture(scope="module")
def keys() -> set[str]:
    found = used_keys()
    assert len(found) > 50  # the extraction itself works
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_translates_every_key_and_nothing_else(locale: str, keys: set[str]) -> None:
    with po_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    entries = {str(m.id): m for m in catalog if m.id}
    assert sorted(keys - entries.keys()) == [], f"missing in {locale}"
    assert sorted(entries.keys() - keys) == [], f"obsolete in {locale}"
    assert [k for k, m in entries.items() if m.fuzzy] == [], f"fuzzy in {locale}"
    assert [k for k, m in entries.items() if not str(m.string).strip()] == []


def test_placeholders_agree_between_languages(keys: set[str]) -> None:
    catalogs = {}
    for locale in LOCALES:
        with po_path(locale).open("rb") as fh:
            catalogs[locale] = {str(m.id): str(m.string) for m in read_po(fh) if m.id}
    for key in keys:
        fields = {loc: placeholders(catalogs[loc][key]) for loc in LOCALES}
        assert len(set(map(frozenset, fields.values()))) == 1, (key, fields)


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
