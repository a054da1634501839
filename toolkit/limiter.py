"""One rate limiter for every Bot API call of the bot (python-telegram-bot's `rate_limiter`):
replies, edits and the outbox's sender all go through it, so together they keep to Telegram's
limits: about 30 messages a second overall, one a second per chat, 20 a minute per group.

- Spacing per chat is measured from the moment a message actually went, not from when its
  wait began (the first version did that, and three chats of 15 messages got 10 of 45 flood
  errors). Alerts, reminders and nudges keep a second apart in a chat; a reply to what a
  person just did may come in a short burst (Telegram allows those: a note and the next
  question, a long list in parts), at most `chat_burst` in `chat_burst` seconds.
- A flood wait (RetryAfter) pauses every message. A direct reply is tried again after it; a
  message of the outbox is not (the sender reschedules it in the database, which outlives a
  restart).
- A 5xx or a broken connection is tried again twice, after 0.5 s and 1 s, for direct replies;
  a time out is not: the message may have arrived, and sending it again could say it twice.
- Replies and alerts go before bulk messages (reminders, nudges) when both wait."""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger("carebot.limiter")
MESSAGES = ("send", "copyMessage", "forwardMessage")  # the methods that post a message
NETWORK_RETRIES = (0.5, 1.0)  # seconds
FLOOD_RETRIES = 3


class Kind(StrEnum):
    """What a call is (`rate_limit_args`). Saying nothing: a direct reply to a person."""

    REPLY = "reply"  # the outbox's reply to a save: may burst, first in line
    URGENT = "urgent"  # an alert, from the outbox: a second apart, first in line
    BULK = "bulk"  # a reminder or a nudge, from the outbox: a second apart, after the rest


@dataclass
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = -1e9  # when its last message went
    recent: deque[float] = field(default_factory=deque)  # when its latest messages went


def flood_wait(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that this becomes a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait: Any = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class Limiter(BaseRateLimiter[Kind]):
    """`unit`: the length of Telegram's second (tests shrink it to run in real time)."""

    def __init__(
        self,
        *,
        per_second: int = 29,
        chat_burst: int = 4,
        group_per_minute: int = 20,
        unit: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second, self.chat_burst = per_second, chat_burst
        self.group_per_minute, self.unit, self.clock = group_per_minute, unit, clock
        self._sent: deque[float] = deque()  # when the messages of the last second went
        self._chats: dict[int | str, _Chat] = {}
        self._paused_until = 0.0
        self._first_waiting = 0  # replies and alerts waiting for the overall limit

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Kind | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = data.get("chat_id")
        counted = chat is not None and endpoint.startswith(MESSAGES)
        from_outbox = rate_limit_args is not None
        floods = network = 0
        while True:
            if counted:
                await self._wait(chat, rate_limit_args or Kind.REPLY)
            else:
                await self._wait_pause()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self._paused_until = max(self._paused_until, self.clock() + flood_wait(error))
                floods += 1
                if from_outbox or floods > FLOOD_RETRIES:
                    raise
                log.warning("flood wait of %.0f s from Telegram", flood_wait(error))
            except (TimedOut, BadRequest):
                raise  # maybe delivered; or a mistake that a second try would repeat
            except NetworkError:
                if from_outbox or network >= len(NETWORK_RETRIES):
                    raise
                await asyncio.sleep(NETWORK_RETRIES[network])
                network += 1

    async def _wait_pause(self) -> None:
        pause = self._paused_until - self.clock()
        if pause > 0:
            await asyncio.sleep(pause)

    def _ready(self, chat: _Chat, *, group: bool, kind: Kind, now: float) -> float:
        """When the chat may get its next message."""
        second = self.unit
        if group:  # a second apart, and 20 in any minute
            while chat.recent and now - chat.recent[0] >= 60 * second:
                chat.recent.popleft()
            ready = chat.last + second
            if len(chat.recent) >= self.group_per_minute:
                ready = max(ready, chat.recent[0] + 60 * second)
            return ready
        while len(chat.recent) > self.chat_burst:
            chat.recent.popleft()
        if kind != Kind.REPLY:  # alerts, reminders, nudges: a second after the chat's last
            return chat.last + second
        if len(chat.recent) < self.chat_burst:
            return now
        return chat.recent[-self.chat_burst] + self.chat_burst * second

    async def _wait(self, chat_id: Any, kind: Kind) -> None:
        key: int | str = chat_id if isinstance(chat_id, int) else str(chat_id)
        chat = self._chats.setdefault(key, _Chat())
        group = isinstance(key, str) or key < 0
        async with chat.lock:  # one message of a chat at a time through the gate, in order
            while True:
                now = self.clock()
                ready = self._ready(chat, group=group, kind=kind, now=now)
                if ready <= now:
                    break
                await asyncio.sleep(ready - now)
            await self._overall(bulk=kind == Kind.BULK)
            chat.last = self.clock()  # the moment it goes: the next one counts from here
            chat.recent.append(chat.last)
        if len(self._chats) > 10_000:  # a bound, not a policy: forget chats that are idle
            now = self.clock()
            idle = [k for k, c in self._chats.items()
                    if not c.lock.locked() and now - c.last > 60 * self.unit]  # fmt: skip
            for k in idle:
                del self._chats[k]

    async def _overall(self, bulk: bool) -> None:
        if not bulk:
            self._first_waiting += 1
        try:
            while True:
                now = self.clock()
                if self._paused_until > now:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                if bulk and self._first_waiting:  # replies and alerts go first
                    await asyncio.sleep(self.unit / 100)
                    continue
                while self._sent and now - self._sent[0] >= self.unit:
                    self._sent.popleft()
                if len(self._sent) < self.per_second:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self.unit - (now - self._sent[0]))
        finally:
            if not bulk:
                self._first_waiting -= 1
