"""The durable inbox's table (toolkit.inbox holds the rules): updates stored as they arrive and
marked done (both in the rounds of toolkit.groupcommit), read back after a crash, and
forgotten a day after they were done."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from storage.db import insert_in, select_wide
from storage.models import InboxUpdate


async def write(
    connection: AsyncConnection, rows: Sequence[dict[str, Any]], done: Collection[int],
    now: datetime,
) -> None:
    """New updates (those already done stored as done, without their payload) and the done
    marks of earlier ones, in one statement in the caller's transaction."""
    staged = {int(row["update_id"]) for row in rows}
    marks = [{"update_id": i, "chat_id": None, "payload": None, "received_at": now,
              "done_at": now} for i in done if i not in staged]  # fmt: skip
    new = [{**row, "payload": None, "done_at": now} if row["update_id"] in done
           else {**row, "done_at": None} for row in rows]  # fmt: skip
    await connection.execute(_store(connection.dialect.name), new + marks)


async def seen(engine: AsyncEngine) -> set[int]:
    """Every id the table remembers (done within a day, or not done)."""
    async with engine.connect() as connection:
        return set((await connection.scalars(select(col(InboxUpdate.update_id)))).all())


async def unfinished(engine: AsyncEngine) -> list[tuple[int, str]]:
    """Updates stored but not done (a crash came between), oldest first."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select_wide(InboxUpdate.update_id, InboxUpdate.payload)
            .where(col(InboxUpdate.done_at).is_(None), col(InboxUpdate.payload).is_not(None))
            .order_by(col(InboxUpdate.update_id))
        )
        return [(update_id, payload) for update_id, payload in rows]


async def forget(engine: AsyncEngine, done_before: datetime) -> int:
    async with engine.begin() as connection:
        gone = await connection.execute(
            delete(InboxUpdate).where(col(InboxUpdate.done_at) < done_before)
        )
        return int(getattr(gone, "rowcount", 0) or 0)


@functools.lru_cache
def _store(dialect: str) -> Any:
    """Built once: it runs for every update."""
    insert = insert_in(dialect, InboxUpdate)
    # A done mark meets its row: it ends it. (A new update never meets one: ids are checked.)
    return insert.on_conflict_do_update(
        index_elements=["update_id"],
        set_={"done_at": insert.excluded.done_at, "payload": insert.excluded.payload},
    )
