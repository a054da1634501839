"""One writer for the small writes every update makes (the inbox's rows and done marks, the
flows in progress): each round is one transaction holding everything every part staged
meanwhile, so many updates share one commit (`relaxed_commit` says how durable it is).

A part stages in memory and asks for a round `now()` (it waits until its rows are committed;
the inbox before an update is handled) or `soon()` (within WINDOW seconds; the flows). A round
that fails gives each part its batch back to stage again, and the callers of `now()` get the
error; the writer tries again after a pause."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("carebot.groupcommit")
WINDOW = 0.02  # seconds `soon` may wait for more to go in the same round
PAUSE_FIRST, PAUSE_MAX = 0.25, 5.0  # after a failed round


class Part(Protocol):
    def take(self) -> Any:
        """What is staged (taken out of staging), or None when nothing is."""

    async def write(self, connection: AsyncConnection, batch: Any) -> None:
        """Writes `batch` inside the round's transaction."""

    def give_back(self, batch: Any, error: BaseException) -> None:
        """The round failed with `error`: `batch` is staged again (under anything staged
        since), unless the part judges that writing it can never succeed."""


class GroupCommit:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._parts: list[Part] = []
        self._started = 0  # rounds that took their batches
        self._committed = 0  # the last round committed
        self._failed = 0  # the last round that failed
        self._error: BaseException | None = None
        self._changed = asyncio.Condition()
        self._urgent = asyncio.Event()
        self._wanted = False
        self._task: asyncio.Task[None] | None = None

    def join(self, part: Part) -> None:
        self._parts.append(part)

    def soon(self) -> None:
        """A round within WINDOW seconds (sooner when someone needs one now)."""
        self._wanted = True
        self._ensure_running()

    async def now(self) -> None:
        """Returns once everything staged before this call is committed; raises the error of
        the round that failed to write it."""
        goal = self._started + 1  # rounds take their batches when they start
        self._wanted = True
        self._urgent.set()
        self._ensure_running()
        async with self._changed:
            await self._changed.wait_for(lambda: self._committed >= goal or self._failed >= goal)
            if self._committed < goal:
                assert self._error is not None
                raise self._error

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        pause = PAUSE_FIRST
        while self._wanted:
            if not self._urgent.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), WINDOW)
            self._urgent.clear()
            self._wanted = False
            if await self._round():
                pause = PAUSE_FIRST
            else:
                self._wanted = True
                await asyncio.sleep(pause)
                pause = min(PAUSE_MAX, pause * 2)

    async def _round(self) -> bool:
        batches = [(part, part.take()) for part in self._parts]
        batches = [(part, batch) for part, batch in batches if batch is not None]
        self._started += 1
        number = self._started
        try:
            if batches:
                await relaxed_commit(self.engine, batches)
        except Exception as error:
            log.error("a group commit failed: %s; trying again", type(error).__name__)
            for part, batch in reversed(batches):
                part.give_back(batch, error)
            async with self._changed:
                self._failed, self._error = number, error
                self._changed.notify_all()
            return False
        async with self._changed:
            self._committed = number
            self._changed.notify_all()
        return True


async def relaxed_commit(engine: AsyncEngine, batches: list[tuple[Part, Any]]) -> None:
    """One transaction for every batch. On PostgreSQL it is committed without waiting for the
    server's disk (`synchronous_commit off`): our process may die right after and the rows
    stand; only a crash of the database server within its WAL writer's delay (600 ms at most
    by default) could lose them, and then what is lost is an update that was not a save (the
    person answers once more) or a flow's last step; every record is committed durably. On
    SQLite the commit is durable as every other (measured: switching its synchronous level
    for these rounds costs more than the sync it saves)."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        for part, batch in batches:
            await part.write(connection, batch)
