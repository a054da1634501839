"""The one sender of the outbox: claims due messages, keeps to Telegram's limits (about 30
messages a second overall, one a second per chat), obeys RetryAfter, retries network errors
with backoff, marks people who blocked the bot unreachable, and marks each message sent once
(send, then mark: a crash between the two can repeat one message, as Telegram allows no
other way)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import warnings
from collections import deque
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from service.services import Services
from storage import cases, outbox
from storage.models import Outbox
from toolkit.context import BotApplication

log = logging.getLogger("carebot.sender")
MAX_ATTEMPTS = 12  # about an hour of backoff
BATCH = 30


def _markup(buttons: str) -> InlineKeyboardMarkup | None:
    rows: list[list[list[str]]] = json.loads(buttons)
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


class SlidingWindow:
    """At most `limit` acquisitions in any `period` seconds. A leaky bucket (aiolimiter) lets a
    full burst and then its steady rate into the same second, which Telegram answers with a
    flood wait; this lets a burst go when the last second was quiet and paces the rest."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = time.monotonic()
                while self._times and now - self._times[0] >= self.period:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return
                await asyncio.sleep(self.period - (now - self._times[0]))


class Sender:
    def __init__(
        self, application: BotApplication, *, per_second: int = 29, chat_interval: float = 1.0
    ) -> None:
        self.application = application
        self.services: Services = application.bot_data["services"]
        self.window = SlidingWindow(int(per_second), 1.0)
        self.chat_interval = chat_interval
        self._chat_free: dict[int, float] = {}  # monotonic time each chat may get a message
        self._paused_until = 0.0  # a flood wait from Telegram holds every message
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.services.outbox_planned = self.wake  # use cases wake the sender after planning

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.tick()
            except Exception as exc:  # the loop must outlive any one failure
                log.error("sending failed: %s", type(exc).__name__)
                sent = 0
            if sent == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def tick(self) -> int:
        """Sends one batch of due messages; how many were claimed."""
        async with self.services.sessions.begin() as session:
            rows = await outbox.claim(session, now=self.services.now(), limit=BATCH)
        await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def drain(self) -> None:
        """Sends until nothing is due (tests and the simulator call this)."""
        while await self.tick():
            pass

    async def _wait_turn(self, chat_id: int) -> None:
        now = time.monotonic()
        start = max(now, self._chat_free.get(chat_id, 0.0), self._paused_until)
        self._chat_free[chat_id] = start + self.chat_interval
        if start > now:
            await asyncio.sleep(start - now)
        pause = self._paused_until - time.monotonic()  # a flood wait began meanwhile
        if pause > 0:
            await asyncio.sleep(pause)

    async def _deliver(self, row: Outbox) -> None:
        assert row.id is not None
        await self._wait_turn(row.chat_id)
        await self.window.acquire()
        try:
            sent = await self.application.bot.send_message(
                row.chat_id, row.text, reply_markup=_markup(row.buttons)
            )
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that this becomes a timedelta
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            self._paused_until = time.monotonic() + seconds
            await self._later(row, seconds, "retry_after", attempt=False)
        except Forbidden:
            await self._unreachable(row)
        except BadRequest as exc:
            await self._failed(row, f"bad_request: {exc.message[:80]}")
        except NetworkError as exc:  # includes TimedOut and Telegram's 5xx
            if row.attempts + 1 >= MAX_ATTEMPTS:
                await self._failed(row, "network")
            else:
                backoff = min(2.0**row.attempts, 300.0)
                await self._later(row, backoff, type(exc).__name__, attempt=True)
        else:
            async with self.services.sessions.begin() as session:
                await outbox.sent(
                    session, outbox_id=row.id, message_id=sent.message_id,
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
