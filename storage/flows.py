"""The table of flows in progress (one row per person: their answers so far and conversation
states), read once at start and written in groups by toolkit.persistence."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import insert_in, select_wide
from storage.models import UserState


async def load(engine: AsyncEngine) -> list[tuple[int, str, str, int | None, datetime]]:
    """Every person's (user id, answers as JSON, conversation states as JSON, last update,
    when the row was written)."""
    async with engine.connect() as connection:
        query = select_wide(
            UserState.user_id, UserState.data, UserState.conversations, UserState.last_update,
            UserState.updated_at,
        )
        return [(u, d, c, n, at) for u, d, c, n, at in await connection.execute(query)]


async def write(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Upserts `rows` in the caller's transaction. Core on a connection, not the ORM: this
    runs every few milliseconds while people tap."""
    await connection.execute(_upsert(connection.dialect.name), rows)


@functools.lru_cache
def _upsert(dialect: str) -> Any:
    """Built once: it runs every few milliseconds while people tap."""
    insert = insert_in(dialect, UserState)
    return insert.on_conflict_do_update(
        index_elements=["user_id"],
        set_={
            "data": insert.excluded.data,
            "conversations": insert.excluded.conversations,
            "last_update": insert.excluded.last_update,
            "updated_at": insert.excluded.updated_at,
        },
    )
