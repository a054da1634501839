"""The one rate limiter: Telegram's limits hold for every call together (overall, per chat
from the moment a message went, per group), replies and alerts go before bulk, and a flood
wait or a 5xx is tried again for a direct reply but left to the outbox for its messages.
Time runs fast: Telegram's second is 20 ms here (`unit`)."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import NetworkError, RetryAfter, TimedOut

from toolkit.limiter import Kind, Limiter

UNIT = 0.02
SLACK = 0.004  # the event loop's own jitter


Log = list[tuple[float, Any]]  # (when, in Telegram's seconds; to which chat)


def recorder(log: Log) -> Any:
    async def send(chat: Any) -> bool:
        log.append((time.monotonic() / UNIT, chat))  # in Telegram's seconds
        return True

    return send


async def call(limiter: Limiter, send: Any, chat: Any, kind: Kind | None = None) -> Any:
    return await limiter.process_request(send, (chat,), {}, "sendMessage", {"chat_id": chat}, kind)


def most_in(times: list[float], window: float) -> int:
    return max(sum(start <= t < start + window - SLACK / UNIT for t in times) for start in times)


async def test_outbox_messages_to_one_chat_go_a_second_apart() -> None:
    limiter, log = Limiter(unit=UNIT), Log()
    send = recorder(log)
    await asyncio.gather(*(call(limiter, send, 7, Kind.BULK) for _ in range(6)))
    times = [t for t, _ in log]
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0 - SLACK / UNIT


async def test_a_direct_reply_may_burst_then_keeps_the_pace() -> None:
    limiter, log = Limiter(unit=UNIT, chat_burst=4), Log()
    send = recorder(log)
    for _ in range(12):
        await call(limiter, send, 7)
    times = [t for t, _ in log]
    assert times[3] - times[0] < 0.5  # a short burst goes at once
    assert most_in(times, 4.0) <= 4  # then never more than four in four seconds
    assert times[-1] - times[0] >= 7.0


async def test_the_overall_limit_binds_across_chats() -> None:
    limiter, log = Limiter(unit=UNIT, per_second=10), Log()
    send = recorder(log)
    await asyncio.gather(*(call(limiter, send, chat, Kind.BULK) for chat in range(40)))
    assert most_in([t for t, _ in log], 1.0) <= 10


async def test_a_group_gets_twenty_a_minute() -> None:
    limiter, log = Limiter(unit=UNIT), Log()
    send = recorder(log)
    await asyncio.gather(*(call(limiter, send, -100, Kind.URGENT) for _ in range(25)))
    times = [t for t, _ in log]
    assert most_in(times, 60.0) <= 20
    assert times[-1] - times[0] >= 60.0 - SLACK / UNIT


async def test_replies_and_alerts_go_before_bulk() -> None:
    limiter, log = Limiter(unit=UNIT, per_second=2), Log()
    send = recorder(log)
    bulk = [asyncio.create_task(call(limiter, send, f"b{n}", Kind.BULK)) for n in range(8)]
    await asyncio.sleep(UNIT * 1.5)  # the window is full and the bulk messages wait
    await asyncio.gather(call(limiter, send, "reply"), call(limiter, send, "alert", Kind.URGENT))
    await asyncio.gather(*bulk)
    order = [chat for _, chat in log]
    assert max(order.index("reply"), order.index("alert")) <= 5  # ahead of the rest of bulk


async def test_flood_waits_and_network_errors() -> None:
    limiter = Limiter(unit=UNIT)
    failures: list[Exception] = [RetryAfter(timedelta(seconds=0.1)), NetworkError("Bad Gateway")]
    tries: list[float] = []

    async def flaky(_chat: Any) -> bool:
        tries.append(time.monotonic())
        if failures:
            raise failures.pop(0)
        return True

    assert await call(limiter, flaky, 7) is True  # a direct reply: tried again after each
    assert len(tries) == 3 and tries[1] - tries[0] >= 0.1 - SLACK
    failures.append(RetryAfter(timedelta(seconds=0.05)))
    with pytest.raises(RetryAfter):  # the outbox's: left to the sender, which reschedules it
        await call(limiter, flaky, 8, Kind.URGENT)
    failures.append(TimedOut())
    with pytest.raises(TimedOut):  # maybe delivered: never sent again here
        await call(limiter, flaky, 9)
    assert len(tries) == 5
