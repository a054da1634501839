"""The durable inbox: every update is stored, by its id, before anything handles it, and marked
done after; an id seen before is dropped; after a crash, what was stored but not done is
handled again on start, in order per chat (toolkit.processor).

Where it sits: python-telegram-bot's updater (polling now, a webhook later) hands each update
to `Application.update_queue`, and with polling it confirms a batch to Telegram only by its
next getUpdates. The queue here stores an update before taking it, so nothing Telegram
forgets was not already in our database. While the database is down the queue keeps trying,
and polling waits with it: the updates stay with Telegram (it keeps them a day), and whoever
wrote gets one line saying their message will be handled shortly.

What an update did is made idempotent elsewhere: records are saved under their draft's key,
replies planned under a key, and a person's flow state is written with the id of the last
update it includes (toolkit.persistence), so an update handled again after a crash changes
nothing twice."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot, Update
from telegram.error import TelegramError

from storage import inbox as table
from storage.db import unavailable
from storage.types import utcnow

log = logging.getLogger("carebot.inbox")
WRITE_WINDOW = 0.02  # seconds of done marks gathered into one write
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # seconds between tries while the database is down
KEPT = timedelta(days=1)  # done ids are remembered as long as Telegram may deliver again
TOLD_EVERY = 300.0  # seconds: one "we'll handle it shortly" per chat while it lasts


def chat_of(update: object) -> int:
    """The chat an update belongs to (its user's private chat when it has no chat)."""
    if isinstance(update, Update):
        chat, user = update.effective_chat, update.effective_user
        return chat.id if chat else user.id if user else 0
    return 0


class Inbox:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.clock = engine, clock
        self._done: list[int] = []
        self._writer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def accept(self, updates: Sequence[Update]) -> list[Update]:
        """Stores the updates; returns those not seen before, to be handled."""
        now = self.clock()
        rows = [
            {"update_id": u.update_id, "chat_id": chat_of(u), "payload": u.to_json(),
             "received_at": now}
            for u in updates
        ]  # fmt: skip
        new = await table.store(self.engine, rows)
        for update in updates:
            if update.update_id not in new:
                log.info("update %s arrived again: dropped", update.update_id)
        return [u for u in updates if u.update_id in new]

    async def unfinished(self, bot: Bot) -> list[Update]:
        """What a crash interrupted: stored, not done, oldest first."""
        rows = await table.unfinished(self.engine)
        return [Update.de_json(json.loads(payload), bot) for _update_id, payload in rows]

    def done(self, update_id: int) -> None:
        """Marks the update done, within milliseconds (one write for all marks meanwhile)."""
        self._done.append(update_id)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self) -> None:
        while self._done:
            await asyncio.sleep(WRITE_WINDOW)
            try:
                await self.flush()
            except Exception as exc:  # the marks stay staged; at worst handled again
                log.error("marking updates done failed: %s; retrying", type(exc).__name__)
                await asyncio.sleep(RETRY_FIRST)

    async def flush(self) -> None:
        async with self._lock:
            ids, self._done = self._done, []
            if not ids:
                return
            try:
                await table.finish(self.engine, ids, self.clock())
            except Exception:
                self._done = ids + self._done
                raise

    async def forget_old(self) -> int:
        """Drops ids done more than a day ago; returns how many."""
        return await table.forget(self.engine, self.clock() - KEPT)


class InboxQueue(asyncio.Queue[object]):
    """`Application.update_queue` with the inbox in front: `put` returns once the update is
    stored (or dropped as seen before)."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox
        self.bot: Bot | None = None  # set on start, to tell people about a wait
        self.waiting_text: Callable[[Update], str] | None = None
        self._told: dict[int, float] = {}

    async def put(self, item: object) -> None:
        if not isinstance(item, Update):  # the application's own signals
            await super().put(item)
            return
        for update in await self._store(item):
            await super().put(update)

    async def _store(self, update: Update) -> list[Update]:
        wait = RETRY_FIRST
        while True:
            try:
                return await self.inbox.accept([update])
            except Exception as exc:
                if not unavailable(exc):
                    # Not a pause of the database but a fault: handle the update anyway
                    # rather than hold up everyone's behind it.
                    log.error("update %s not stored: %s", update.update_id, type(exc).__name__)
                    return [update]
                log.warning("database unavailable (%s): update %s waits",
                            type(exc).__name__, update.update_id)  # fmt: skip
                await self._tell_waiting(update)
                await asyncio.sleep(wait)
                wait = min(RETRY_MAX, wait * 2)

    async def put_stored(self, update: Update) -> None:
        """An update already in the inbox (handled again after a crash)."""
        await super().put(update)

    async def _tell_waiting(self, update: Update) -> None:
        chat = chat_of(update)
        if self.bot is None or self.waiting_text is None or chat <= 0:
            return  # groups are not told: they hear nothing from the bot but one line
        if time.monotonic() - self._told.get(chat, -TOLD_EVERY) < TOLD_EVERY:
            return
        self._told[chat] = time.monotonic()
        try:
            await self.bot.send_message(chat, self.waiting_text(update))
        except TelegramError:
            log.warning("could not tell update %s's chat about the wait", update.update_id)
