"""The durable inbox's table (toolkit.inbox holds the rules): updates stored as they arrive,
marked done in groups, read back after a crash, and forgotten a day after they were done."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from storage.db import insert_in, select_wide
from storage.models import InboxUpdate


async def store(engine: AsyncEngine, rows: Sequence[dict[str, Any]]) -> set[int]:
    """Stores the updates not seen before, in one transaction; returns their ids."""
    async with engine.begin() as connection:
        new = await connection.execute(_store(connection.dialect.name), list(rows))
        return {update_id for (update_id,) in new}


async def finish(engine: AsyncEngine, update_ids: Sequence[int], now: datetime) -> None:
    """Marks updates done and drops what they carried."""
    async with engine.begin() as connection:
        await connection.execute(
            update(InboxUpdate)
            .where(col(InboxUpdate.update_id).in_(bindparam("ids", expanding=True)))
            .values(done_at=now, payload=None),
            {"ids": list(update_ids)},
        )


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
    """Built once: it runs for every update. A seen id conflicts and comes back as nothing."""
    insert = insert_in(dialect, InboxUpdate)
    return insert.on_conflict_do_nothing(index_elements=["update_id"]).returning(
        InboxUpdate.update_id
    )
