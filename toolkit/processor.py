"""Updates of different chats run at the same time; the updates of one chat run one at a
time, in order, as conversations need (python-telegram-bot's default is all or nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = 0
        if isinstance(update, Update):
            chat, user = update.effective_chat, update.effective_user
            key = chat.id if chat else user.id if user else 0
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:  # FIFO: a chat's updates keep their order
                await coroutine
        finally:
            if not lock.locked():
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
