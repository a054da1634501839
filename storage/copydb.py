"""`copy-db`: every row of this database into an empty one, to move a county's SQLite
deployment to PostgreSQL. The target's schema comes from the migrations, as on any new
database; then the rows, table by table, parents before children, in one transaction (a
failure leaves the target empty and the copy can be run again); then PostgreSQL's id
sequences are set past the copied ids; then both sides are counted. The caller holds the
source's instance lock, so the bot is not writing meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Table, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage import migrate

BATCH = 1000  # rows read and written at a time


class SourceNotMigrated(Exception):
    """The source's schema is not the code's: `migrate` it first."""


class TargetNotEmpty(Exception):
    def __init__(self, table: str, rows: int) -> None:
        super().__init__(f"table {table} holds {rows:,} {'row' if rows == 1 else 'rows'}")
        self.table, self.rows = table, rows


@dataclass(frozen=True)
class Count:
    table: str
    source: int
    target: int


def tables() -> Sequence[Table]:
    """Every table of the bot, each after the tables it refers to."""
    return SQLModel.metadata.sorted_tables


def _quiet(_table: str, _rows: int) -> None:
    return None


async def copy_all(
    source: AsyncEngine, target: AsyncEngine, *, copied: Callable[[str, int], None] = _quiet
) -> list[Count]:
    """Copies every row; returns each table's count on both sides. `copied` hears of each
    table as it is done (table, rows)."""
    if not await migrate.is_current(source):
        raise SourceNotMigrated
    await _refuse_rows(target)
    await migrate.upgrade(target)
    async with source.connect() as reading, target.begin() as writing:
        for table in tables():
            copied(table.name, await _copy_table(table, reading, writing))
        if writing.dialect.name == "postgresql":
            await _reset_sequences(writing)
    return [
        Count(table.name, await _count(source, table), await _count(target, table))
        for table in tables()
    ]


async def _refuse_rows(target: AsyncEngine) -> None:
    async with target.connect() as connection:
        present = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        for table in tables():
            if table.name in present:
                rows = await connection.scalar(select(func.count()).select_from(table))
                if rows:
                    raise TargetNotEmpty(table.name, rows)


async def _copy_table(table: Table, reading: AsyncConnection, writing: AsyncConnection) -> int:
    statement = select(table).order_by(*table.primary_key.columns)
    if _self_references(table):  # a tree (areas): parents first, whatever their ids
        rows = [dict(row._mapping) for row in await reading.execute(statement)]
        return await _write(table, writing, _parents_first(table, rows))
    total = 0
    result = await reading.stream(statement)
    async for batch in result.partitions(BATCH):
        total += await _write(table, writing, [dict(row._mapping) for row in batch])
    return total


async def _write(table: Table, writing: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    for start in range(0, len(rows), BATCH):
        await writing.execute(insert(table), rows[start : start + BATCH])
    return len(rows)


def _self_references(table: Table) -> list[tuple[str, str]]:
    """(column, referred column) of each foreign key of the table to itself."""
    return [
        (fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table
    ]


def _parents_first(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    links = _self_references(table)
    ordered: list[dict[str, Any]] = []
    placed: dict[str, set[Any]] = {referred: set() for _, referred in links}
    waiting = rows
    while waiting:
        ready = [
            row for row in waiting if all(row[c] is None or row[c] in placed[r] for c, r in links)
        ]
        if not ready:  # a loop the foreign keys should not allow: leave it to the database
            ready = waiting
        ordered += ready
        for row in ready:
            for _, referred in links:
                placed[referred].add(row[referred])
        taken = {id(row) for row in ready}
        waiting = [row for row in waiting if id(row) not in taken]
    return ordered


async def _reset_sequences(writing: AsyncConnection) -> None:
    """New rows on PostgreSQL take ids after the copied ones (its sequences do not move
    when ids are given)."""
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer) or not keys[0].autoincrement:
            continue
        column = keys[0].name
        await writing.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE(MAX("{column}"), 0) + 1, false) FROM "{table.name}"'
            ),
            {"table": table.name, "column": column},
        )


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)
