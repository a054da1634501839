"""One active instance per database. A second `bot.py run` on the same database would fight
the first over getUpdates (409 Conflict) and split a person's flow between two processes.
SQLite: an exclusive lock on a file beside the database, released by the system when the
process dies, even by kill -9. PostgreSQL: a session advisory lock held on a connection of its
own, released when that connection closes (the process died or lost the database)."""

from __future__ import annotations

import fcntl
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# The advisory lock's key: the same for every instance of this bot on one database.
LOCK_KEY = zlib.crc32(b"care-pairing-bot:active") - 2**31


@dataclass
class Claim:
    """Held while this process is the active instance; `release` lets the next one in."""

    file: int | None = None  # SQLite: the lock file's descriptor
    connection: AsyncConnection | None = None  # PostgreSQL: the connection holding the lock

    async def holds(self) -> bool:
        """Whether the claim still stands (PostgreSQL: its connection answers; the lock goes
        with the connection)."""
        if self.connection is None:
            return self.file is not None
        try:
            await self.connection.scalar(text("SELECT 1"))
            await self.connection.commit()
        except Exception:
            return False
        return True

    async def release(self) -> None:
        if self.file is not None:
            os.close(self.file)  # closing the descriptor drops the lock
            self.file = None
        if self.connection is not None:
            await self.connection.close()
            self.connection = None


async def claim(engine: AsyncEngine) -> Claim | None:
    """The claim of being the active instance, or None when another instance holds it."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        return _claim_file(Path(f"{url.database}.lock"))
    connection = await engine.connect()
    got: Any = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
    await connection.commit()  # a session lock outlives the transaction: don't sit in one
    if not got:
        await connection.close()
        return None
    return Claim(connection=connection)


async def is_free(engine: AsyncEngine) -> bool:
    """Whether no instance holds the claim now (tried, then let go at once)."""
    found = await claim(engine)
    if found is None:
        return False
    await found.release()
    return True


def _claim_file(path: Path) -> Claim | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return Claim(file=descriptor)
