"""The one sender of the outbox: claims due messages (each chat's in the order planned),
sends them through the bot's one rate limiter (toolkit.limiter: Telegram's limits, shared
with every reply), reschedules a flood wait, retries network errors with backoff, marks people
who blocked the bot unreachable, and marks each message sent right after Telegram took it
(send, then mark: a crash between the two can repeat one message, as Telegram allows no
other way). A time out may have been delivered: alerts and replies are sent again, reminders
and nudges are not."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from service.services import Services
from storage import cases, outbox
from storage.models import Outbox
from toolkit.context import BotApplication
from toolkit.limiter import Kind, flood_wait
from toolkit.main_menu import reply_keyboard

log = logging.getLogger("carebot.sender")
MAX_ATTEMPTS = 12  # about an hour of backoff
BATCH = 30
IN_FLIGHT = 200  # deliveries waiting in the limiter at once, at most


def _markup(buttons: str) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    rows: list[list[list[str]]] = json.loads(buttons)
    if not rows:
        return None
    if all(not data for row in rows for _label, data in row):  # the main menu (no callbacks)
        return reply_keyboard([[(label, data) for label, data in row] for row in rows])
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


class Sender:
    """Deliveries run side by side, each as long as the limiter makes it wait: a group held to
    20 a minute does not hold back the private chats. A chat's next message is claimed only
    once its previous one is done (storage.outbox.claim keeps the order)."""

    def __init__(self, application: BotApplication) -> None:
        self.application = application
        self.services: Services = application.bot_data["services"]
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flying: set[asyncio.Task[None]] = set()
        # What this process is delivering: a message whose lease ran out while it waited in
        # the limiter (a long flood wait) is claimed again, and must not go out twice.
        self._delivering: set[int] = set()
        self.services.outbox_planned = self.wake  # use cases wake the sender after planning
        self.services.deliver_now = self.send_now

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._flying) if t is not None]
        for task in tasks:  # what was in flight keeps its lease, freed on the next start
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self.tick()
            except Exception as exc:  # the loop must outlive any one failure
                log.error("sending failed: %s", type(exc).__name__)
                claimed = 0
            if claimed == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def tick(self) -> int:
        """Starts the deliveries of the messages now due; how many were claimed."""
        room = IN_FLIGHT - len(self._flying)
        if room <= 0:
            return 0
        async with self.services.sessions.begin() as session:
            rows = await outbox.claim(session, now=self.services.now(), limit=min(BATCH, room))
        for row in rows:
            task = asyncio.get_running_loop().create_task(self._deliver(row))
            self._flying.add(task)
            task.add_done_callback(self._landed)
        return len(rows)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self._flying.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a delivery failed: %s", type(task.exception()).__name__)
        self._wake.set()  # the chat's next message may go now

    async def send_now(self, key: str, chat_id: int, claimed: Outbox | None = None) -> None:
        """Sends a message at once (a reply to a save), after what is due before it in its
        chat (order kept) and within the limits; a failure leaves the rest to the retries.
        `claimed`: the message, already claimed when it was planned (nothing was ahead)."""
        if claimed is not None:
            await self._deliver(claimed)
            return
        for _ahead in range(20):  # bounded: a chat rarely has more than one or two waiting
            async with self.services.sessions.begin() as session:
                rows = await outbox.claim(
                    session, now=self.services.now(), limit=1, chat_id=chat_id
                )
            if not rows:
                return
            await self._deliver(rows[0])
            if rows[0].key == key:
                return

    async def drain(self) -> None:
        """Sends until nothing is due and nothing in flight (tests and benchmarks)."""
        while await self.tick() or self._flying:
            if self._flying:
                await asyncio.wait(self._flying, return_when=asyncio.FIRST_COMPLETED)

    async def _deliver(self, row: Outbox) -> None:
        assert row.id is not None
        if row.id in self._delivering:
            return  # still on its way from an earlier claim: its lease ran out meanwhile
        self._delivering.add(row.id)
        try:
            await self._deliver_once(row)
        finally:
            self._delivering.discard(row.id)

    async def _deliver_once(self, row: Outbox) -> None:
        assert row.id is not None
        # Telegram's limits are the limiter's (toolkit.limiter), shared with every reply;
        # alerts and replies to a save go before reminders and nudges.
        kind = Kind.URGENT if row.case_id is not None else Kind.BULK
        if row.key.startswith("reply:"):
            kind = Kind.REPLY
        try:
            sent = await self.application.bot.send_message(
                row.chat_id, row.text, reply_markup=_markup(row.buttons), rate_limit_args=kind
            )
        except RetryAfter as exc:  # the limiter paused everyone; this one waits in the table
            await self._later(row, flood_wait(exc), "retry_after", attempt=False)
        except TimedOut:
            # Maybe delivered: an alert or a reply is sent again (a repeat is better than a
            # loss); a reminder or a nudge is not (a repeat is worse than one missing).
            if kind == Kind.BULK:
                await self._failed(row, "timed_out: maybe delivered")
            elif row.attempts + 1 >= MAX_ATTEMPTS:
                await self._failed(row, "network")
            else:
                await self._later(row, min(2.0**row.attempts, 300.0), "TimedOut", attempt=True)
        except Forbidden:
            await self._unreachable(row)
        except BadRequest as exc:
            await self._failed(row, f"bad_request: {exc.message[:80]}")
        except NetworkError as exc:  # Telegram's 5xx, a broken connection
            if row.attempts + 1 >= MAX_ATTEMPTS:
                await self._failed(row, "network")
            else:
                backoff = min(2.0**row.attempts, 300.0)
                await self._later(row, backoff, type(exc).__name__, attempt=True)
        except TelegramError as exc:  # e.g. a group became a supergroup: never sendable as is
            await self._failed(row, f"{type(exc).__name__}: {exc.message[:80]}")
        else:
            async with self.services.engine.begin() as connection:
                await outbox.sent(
                    connection, outbox_id=row.id, message_id=sent.message_id,
                    now=self.services.now(),
                )  # fmt: skip

    async def _later(self, row: Outbox, seconds: float, error: str, *, attempt: bool) -> None:
        assert row.id is not None
        at = self.services.now() + timedelta(seconds=seconds)
        async with self.services.sessions.begin() as session:
            await outbox.later(session, outbox_id=row.id, at=at, error=error, attempt=attempt)

    async def _failed(self, row: Outbox, error: str) -> None:
        assert row.id is not None
        async with self.services.sessions.begin() as session:
            if row.case_id is not None:  # first, before any write (see cases.lock)
                await cases.lock(session, row.case_id)
            await outbox.failed(session, outbox_id=row.id, now=self.services.now(), error=error)
            if row.case_id is not None:
                await self._maybe_escalate(session, row, row.case_id)

    async def _unreachable(self, row: Outbox) -> None:
        """They blocked the bot: never tried again, marked for their supervisors to see; an
        alert that now reaches nobody in its round is escalated at once."""
        assert row.id is not None
        now = self.services.now()
        async with self.services.sessions.begin() as session:
            if row.case_id is not None:  # first, before any write (see cases.lock)
                await cases.lock(session, row.case_id)
            await outbox.failed(session, outbox_id=row.id, now=now, error="blocked")
            person = await cases.mark_unreachable(session, chat_id=row.chat_id, now=now)
            if row.case_id is not None:
                cases.event(session, case_id=row.case_id, kind="undeliverable", person_id=person)
                await self._maybe_escalate(session, row, row.case_id)
        self.services.viewers.forget(row.chat_id)

    async def _maybe_escalate(self, session: Any, row: Outbox, case_id: int) -> None:
        round_key = row.key.rsplit("chat:", 1)[0]
        delivered, pending = await outbox.pending_for_case(
            session, case_id=case_id, round_key=round_key
        )
        if delivered == 0 and pending == 0:
            await cases.escalate_now(session, case_id=case_id, now=self.services.now())
