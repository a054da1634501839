"""Backups of an SQLite database taken while the bot runs, and their restore.

SQLite's backup API copies the pages in one step under one read transaction: with WAL the
bot's writers go on meanwhile, and the copy is the database as it was at one moment, never
half a transaction. A restore goes through the same API the other way, so SQLite replaces the
pages itself (with its journal) instead of a file copy racing a stale `-wal` file. PostgreSQL
has its own tools (pg_dump, pg_restore, point-in-time recovery; README, "Operations")."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from storage.migrate import alembic_config

BUSY_MS = 5000  # as the bot's own connections: wait for a writer's lock, don't fail at once
# Tables the first migration creates: a database without them is not this bot's.
OURS = frozenset({"area", "person", "invite", "audit_log", "alembic_version"})


class NotOurs(Exception):
    """The file is not a database of this bot that the code knows; the text says why."""


@dataclass(frozen=True)
class Copy:
    path: Path
    size: int  # bytes
    revision: str  # the schema's migration
    current: bool  # the revision the code needs; else `migrate` upgrades it


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; None for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    target = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    connection = sqlite3.connect(target, uri=read_only, timeout=BUSY_MS / 1000)
    connection.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    return connection


def inspect(path: Path) -> Copy:
    """What the file holds, or NotOurs: an intact SQLite database with this bot's tables at a
    schema revision of this bot's migrations."""
    try:
        with closing(_connect(path, read_only=True)) as db:
            checked = db.execute("PRAGMA quick_check").fetchone()
            if checked is None or checked[0] != "ok":
                raise NotOurs(f"the database is damaged ({checked[0] if checked else '?'})")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            if not tables >= OURS:
                raise NotOurs("not a database of this bot (its tables are missing)")
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:  # not SQLite at all, or unreadable
        raise NotOurs(f"not an SQLite database ({exc})") from None
    if row is None:
        raise NotOurs("not a migrated database of this bot (no schema revision)")
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        known = scripts.get_revision(row[0]) is not None
    except CommandError:  # alembic's resolution errors derive from it
        known = False
    if not known:
        raise NotOurs(f"schema revision {row[0]!r} is not one of this bot's migrations")
    return Copy(path, path.stat().st_size, row[0], row[0] in scripts.get_heads())


def backup(database: Path, target: Path) -> Copy:
    """A consistent copy of the live `database` at `target`, written beside it first and
    renamed when complete and checked, so a file at `target` is always a whole backup."""
    if not database.is_file():
        raise FileNotFoundError(f"no database at {database}")
    if target.exists():
        raise FileExistsError(f"{target} exists already; choose a new name")
    partial = target.with_name(f"{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _private(partial)
        _copy_pages(database, partial)
        copy = inspect(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _sync_folder(target)
    return Copy(target, copy.size, copy.revision, copy.current)


def _private(path: Path) -> None:
    """An empty file only its owner may read: a backup holds children's records. SQLite
    gives its journal the same permissions."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _copy_pages(source: Path, target: Path) -> None:
    with closing(_connect(source)) as src, closing(_connect(target)) as dst:
        src.backup(dst)  # all pages in one step: one read transaction, one moment
        # one self-contained file (no -wal beside it), flushed to disk
        dst.execute("PRAGMA journal_mode=DELETE")
    with open(target, "rb") as written:
        os.fsync(written.fileno())


def _sync_folder(path: Path) -> None:
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)  # the rename itself survives a power cut
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class Restored:
    copy: Copy  # what was restored
    kept: Path | None  # the database as it was before, set aside (None: there was none)


def restore(source: Path, database: Path) -> Restored:
    """Replaces `database` with the backup at `source` after checking it is one of ours.
    The database as it was is kept beside it first, as a backup of its own. The caller
    makes sure the bot is not running (the instance lock)."""
    copy = inspect(source)
    kept: Path | None = None
    if database.is_file() and database.stat().st_size > 0:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = database.with_name(f"{database.name}.before-restore-{stamp}")
        try:
            _private(kept)
            _copy_pages(database, kept)
        except sqlite3.DatabaseError:  # too damaged to read: set the files aside as they are
            kept.unlink(missing_ok=True)
            for suffix in ("", "-wal", "-shm"):  # a stale -wal must not meet the new file
                if Path(f"{database}{suffix}").exists():
                    os.replace(f"{database}{suffix}", f"{kept}{suffix}")
    database.parent.mkdir(parents=True, exist_ok=True)
    with closing(_connect(source, read_only=True)) as src, closing(_connect(database)) as dst:
        src.backup(dst)
    _sync_folder(database)
    return Restored(copy, kept)
