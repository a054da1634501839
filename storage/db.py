"""The async engine and sessions, for SQLite (aiosqlite, WAL) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

Sessions = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Per connection, not once: each pooled connection starts with SQLite's defaults.
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        # FULL: a commit survives a power cut, not just a crash of the process. A record a
        # person confirmed must not vanish; it costs about 9% of the check-in's throughput.
        "synchronous=FULL",
        "foreign_keys=ON",
        "busy_timeout=5000",
        # Up to 64 MiB of pages kept by SQLite itself (the default is 2 MiB): /overdue's
        # figures count ranges of indexes of every child, and read them again each time;
        # at 200,000 children this halves the time (benchmarks/overdue.py).
        "cache_size=-65536",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    # hide_parameters: a database error's text (which may reach a log) shows the statement,
    # never the names and ID numbers bound to it.
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite lets one writer in at a time, and a second writer waiting in
        # SQLite's busy handler sleeps for up to 100 ms at a go; waiting for the pool is FIFO
        # and wakes as soon as the connection is back.
        engine = create_async_engine(
            url,
            pool_reset_on_return=None,
            pool_size=1,
            max_overflow=0,
            pool_timeout=30,
            hide_parameters=True,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)


def insert_for(executor: AsyncSession | AsyncConnection, table: Any) -> Any:
    """An INSERT with ON CONFLICT, in the dialect of the session's (or connection's) database."""
    if isinstance(executor, AsyncConnection):
        return insert_in(executor.dialect.name, table)
    return insert_in(executor.get_bind().dialect.name, table)


def insert_in(dialect: str, table: Any) -> Any:
    """An INSERT with ON CONFLICT in this dialect (for statements built once, ahead)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def select_wide(*columns: Any) -> Select[*tuple[Any, ...]]:
    """`sqlmodel.select` of five or more columns, the same statement: sqlmodel types its
    `select` for at most four (fastapi/sqlmodel#271), so these rows come back as `Any`."""
    return Select(*columns)


def key(column: int | None) -> Mapped[int]:
    """A table's `id` in a query, typed as the `int` it is in every row read back (the model
    says `int | None` for a row not inserted yet). `col()` with the None taken off."""
    return cast("Mapped[int]", col(column))


def make_sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def unavailable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached or was busy for now (down,
    restarting, the connection lost, SQLite locked past its busy timeout), as opposed to a
    statement it refused: worth waiting for and trying again."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout | OSError | TimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated
