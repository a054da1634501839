"""Logging, set up in one place (`bot.py` calls `setup` for every command): the level and the
format from the settings, and no personal data in any line at any level.

Names cannot be found by a pattern, so the first defence is that nothing prints a payload:
our own code logs ids and type names only; the libraries that log request bodies or SQL
parameters (httpx, httpcore, aiosqlite, SQLAlchemy, asyncpg) stay at WARNING whatever the
level; python-telegram-bot's lines, useful at DEBUG, keep their words but lose their payloads
(an update becomes its id, a request's parameters and a response their type's name). On top
of that the filter on every handler masks what a pattern can find: ID numbers, phone
numbers, invite codes and the bot's token."""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from numbers import Number
from pathlib import PurePath
from typing import Any, TextIO

from telegram import TelegramObject, Update

from care.invites import CODE_BYTES
from settings import Settings

HANDLER_NAME = "carebot"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose lines below WARNING carry request bodies, URLs with the token, SQL with its
# parameters, or are only noise (the job scheduler's two lines a run).
QUIET = ("httpx", "httpcore", "aiosqlite", "sqlalchemy", "asyncpg", "apscheduler")

_CODE_LENGTH = math.ceil(CODE_BYTES * 4 / 3)  # care.invites: urlsafe base64, no padding
_URLSAFE = "A-Za-z0-9_-"
# The order matters: a token's digits must not be taken for a phone number first.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d+:[A-Za-z0-9_-]{30,}"), "[token]"),
    # 18-digit resident ID numbers (身份证号); the last character may be X
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "[id number]"),
    # mobiles, with or without +86 and separators: 13912345678, +86 139-1234-5678
    (re.compile(r"(?<!\d)(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?!\d)"), "[phone]"),
    # landlines with their area code: 0571-87654321, (010) 12345678, 075512345678
    (re.compile(r"(?<!\d)(?:\(0\d{2,3}\)\s?|0\d{2,3}[-\s]?)\d{7,8}(?!\d)"), "[phone]"),
    # invite codes: a run of exactly this many URL-safe characters, not all lower-case letters
    # (a random code is that once in 10^9); a snake_case name of that length is masked too,
    # a word less in a log line
    (
        re.compile(
            rf"(?<![{_URLSAFE}])(?=[{_URLSAFE}]*[A-Z0-9_-])[{_URLSAFE}]{{{_CODE_LENGTH}}}"
            rf"(?![{_URLSAFE}])"
        ),
        "[invite code]",
    ),
)

# python-telegram-bot's lines whose text arguments are payloads (objects are caught by type):
# the template and the positions of the arguments withheld.
WITHHELD: dict[str, frozenset[int]] = {
    "Webhook received data: %s": frozenset({0}),
    'Can not load invalid JSON data: "%s"': frozenset({0}),
    "Request had the wrong secret token: %s": frozenset({0}),
    "Selecting conversation %s with state %s": frozenset({0}),  # the key: chat and user ids
}
# Arguments printed as they are: numbers, words, times, exceptions (their text is masked like
# the rest); anything else (dicts, lists, bytes, Telegram objects) is a payload.
_PLAIN = (str, Number, type(None), type, BaseException, date, time, timedelta, PurePath)
# Loggers whose arguments are printed as they are (masked all the same): the migrations name
# revisions, never data.
AS_IS = ("alembic.",)
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_EXCEPTIONS = logging.Formatter()


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """The text with ID numbers, phone numbers, invite codes and tokens replaced."""
    for secret in secrets:
        text = text.replace(secret, "[token]")
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def withhold(value: object) -> object:
    """A log argument as it may be printed: an update becomes its id, a payload its type."""
    if isinstance(value, Update):
        return value.update_id
    if isinstance(value, _PLAIN) and not isinstance(value, TelegramObject):
        return value
    return f"<{type(value).__name__}>"


class Redact(logging.Filter):
    """On every handler: rewrites each record, at every level, into its payload-free and
    masked form (message, exception text, stack and extra fields), so every formatter and
    every later handler sees only that."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if len(s) >= 8)  # never "1" → "[token]"

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(_message(record), self.secrets)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _EXCEPTIONS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = mask(record.stack_info, self.secrets)
        for name in record.__dict__.keys() - _RECORD_FIELDS:  # extra={"update_id": ...}
            value = withhold(record.__dict__[name])
            record.__dict__[name] = mask(value, self.secrets) if isinstance(value, str) else value
        return True


def _message(record: logging.LogRecord) -> str:
    if not isinstance(record.msg, str):
        return str(withhold(record.msg))
    args = record.args
    if not args:
        return record.msg
    try:
        if record.name.startswith(AS_IS):
            return record.getMessage()
        if isinstance(args, Mapping):  # log("%(name)s", {"name": ...})
            return record.msg % {k: withhold(v) for k, v in args.items()}
        withheld = WITHHELD.get(record.msg, frozenset())
        return record.msg % tuple("…" if i in withheld else withhold(a) for i, a in enumerate(args))
    except (TypeError, ValueError, KeyError):  # a template its arguments do not fit
        return f"{record.msg} [arguments not shown]"


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the fields given with
    `extra=` (e.g. update_id) and the exception's text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in sorted(record.__dict__.keys() - _RECORD_FIELDS):
            entry[name] = record.__dict__[name]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup(
    settings: Settings, *, stream: TextIO | None = None, level: str | None = None
) -> logging.Handler:
    """The root logger's handler (stderr unless `stream`), at `level` (else LOG_LEVEL), in
    LOG_FORMAT; the chatty libraries at WARNING; the redaction filter on every handler of
    the root. Called again, it replaces its own handler. Returns the handler."""
    chosen = logging.getLevelNamesMapping()[level or settings.log_level]
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setLevel(chosen)
    handler.setFormatter(
        JsonLines() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    redact = Redact([token])
    for each in root.handlers:  # handlers set up before us print only what ours prints
        for old_filter in [f for f in each.filters if isinstance(f, Redact)]:
            each.removeFilter(old_filter)
        each.addFilter(redact)
    root.setLevel(chosen)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(chosen, logging.WARNING))
    return handler
