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

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from telegram import Bot, Update
from telegram.error import TelegramError

from storage import inbox as table
from storage.db import unavailable
from storage.types import utcnow
from toolkit.groupcommit import GroupCommit

log = logging.getLogger("carebot.inbox")
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # seconds between tries while the database is down
KEPT = timedelta(days=1)  # done ids are remembered as long as Telegram may deliver again
TOLD_EVERY = 300.0  # seconds: one "we'll handle it shortly" per chat while it lasts


def chat_of(update: object) -> int:
    """The chat an update belongs to (its user's private chat when it has no chat)."""
    if isinstance(update, Update):
        chat, user = update.effective_chat, update.effective_user
        return chat.id if chat else user.id if user else 0
    return 0


Row = dict[str, object]


class Inbox:
    """Stages updates and done marks for the bot's group commit (toolkit.groupcommit)."""

    def __init__(
        self, engine: AsyncEngine, writer: GroupCommit, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine, self.writer, self.clock = engine, writer, clock
        self._staged: dict[int, Row] = {}
        self._done: set[int] = set()
        # Ids taken (by this process, or stored: read on start) and when: forgotten with the
        # table's, a day after.
        self._seen: dict[int, datetime] = {}
        writer.join(self)

    async def load(self, bot: Bot) -> list[Update]:
        """On start: the ids seen before, and what a crash interrupted (stored, not done),
        oldest first."""
        now = self.clock()
        self._seen.update(dict.fromkeys(await table.seen(self.engine), now))
        rows = await table.unfinished(self.engine)
        return [Update.de_json(json.loads(payload), bot) for _update_id, payload in rows]

    def stage(self, updates: Sequence[Update]) -> list[Update]:
        """Takes the updates not seen before (to be stored, then handled) and returns them."""
        now, new = self.clock(), []
        for update in updates:
            if update.update_id in self._seen:
                log.info("update %s arrived again: dropped", update.update_id)
                continue
            self._seen[update.update_id] = now
            self._staged[update.update_id] = {
                "update_id": update.update_id, "chat_id": chat_of(update),
                "payload": update.to_json(), "received_at": now,
            }  # fmt: skip
            new.append(update)
        return new

    async def stored(self) -> None:
        """Returns once everything staged so far is committed (raises what the write did)."""
        await self.writer.now()

    async def accept(self, updates: Sequence[Update]) -> list[Update]:
        """Stages and stores the updates; returns those not seen before, to be handled."""
        new = self.stage(updates)
        if new:
            await self.stored()
        return new

    def done(self, update_id: int) -> None:
        """Marks the update done, within milliseconds, in the next round of writes."""
        self._done.add(update_id)
        self.writer.soon()

    async def forget_old(self) -> int:
        """Drops ids done more than a day ago; returns how many."""
        before = self.clock() - KEPT
        self._seen = {i: at for i, at in self._seen.items() if at >= before}
        return await table.forget(self.engine, before)

    # -- a part of the group commit ------------------------------------------------------------

    def take(self) -> tuple[list[Row], set[int]] | None:
        if not self._staged and not self._done:
            return None
        batch = (list(self._staged.values()), self._done)
        self._staged, self._done = {}, set()
        return batch

    async def write(self, connection: AsyncConnection, batch: tuple[list[Row], set[int]]) -> None:
        rows, done = batch
        await table.write(connection, rows, done, self.clock())

    def give_back(self, batch: tuple[list[Row], set[int]], error: BaseException) -> None:
        rows, done = batch
        if not unavailable(error):  # not the database's pause: these rows would never go
            log.error("%d updates not stored: %s", len(rows), type(error).__name__)
            return
        self._staged = {int(str(r["update_id"])): r for r in rows} | self._staged
        self._done |= done


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
        if self.inbox.stage([item]):
            await self._stored(item)
            await super().put(item)

    async def _stored(self, update: Update) -> None:
        wait = RETRY_FIRST
        while True:
            try:
                return await self.inbox.stored()
            except Exception as exc:
                if not unavailable(exc):
                    # Not a pause of the database but a fault: handle the update anyway
                    # rather than hold up everyone's behind it.
                    log.error("update %s not stored: %s", update.update_id, type(exc).__name__)
                    return
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
