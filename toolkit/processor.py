"""Updates of different chats run at the same time; the updates of one chat run one at a
time, in order, as conversations need (python-telegram-bot's default is all or nothing).

Two traps, both avoided here. An `asyncio.Lock` hands itself to the next waiter only when
that waiter runs, so right after `release()` it reads as unlocked although someone is queued:
a lock table that drops a key when `not lock.locked()` lets a third update of the chat run
beside the second. So each chat's entry counts the updates that hold or wait for it, and goes
when the count is zero. And PTB takes its global slot before calling us, so an update waiting
for its chat would hold a slot that another chat could use: PTB's bound is set out of reach,
and the real one is taken only once the chat's turn has come."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from toolkit.inbox import Inbox, chat_of
from toolkit.metrics import UPDATES_PROCESSED

UNBOUNDED = 1_000_000  # PTB's own bound: only memory limits how many wait for their chat


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # updates holding or waiting for the lock


class PerChatProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64, *, inbox: Inbox | None = None) -> None:
        super().__init__(UNBOUNDED)
        self.running = asyncio.BoundedSemaphore(max_concurrent_updates)
        self.inbox = inbox  # told when an update is done
        self._turns: dict[int, _Turn] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_of(update)
        turn = self._turns.setdefault(key, _Turn())
        turn.users += 1
        try:
            async with turn.lock, self.running:  # FIFO per chat, then a global slot
                await coroutine
            UPDATES_PROCESSED.inc()
            if self.inbox is not None and isinstance(update, Update):
                self.inbox.done(update.update_id)
        finally:
            turn.users -= 1
            if turn.users == 0:
                self._turns.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
