"""The fake Telegram behaves as Telegram where the drills rely on it: getUpdates keeps an update
until an offset confirms it, and an outage fails calls the way the Bot API and the network do,
as python-telegram-bot's own HTTP client sees them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from sandbox.server import BotApiServer
from sandbox.telegram import JSON, FakeTelegram, Fault


def update(update_id: int) -> JSON:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0,
            "chat": {"id": 1, "type": "private"}, "text": "hi"}}  # fmt: skip


async def ids(telegram: FakeTelegram, **params: object) -> list[int]:
    return [u["update_id"] for u in await telegram.call("getUpdates", dict(params))]


async def test_an_update_is_returned_until_an_offset_confirms_it() -> None:
    telegram = FakeTelegram()
    for n in (100, 101, 102):
        telegram.push(update(n))
    assert await ids(telegram, offset=0) == [100, 101, 102]
    assert await ids(telegram, offset=0) == [100, 101, 102]  # fetched, not confirmed
    assert await ids(telegram, offset=101, limit=1) == [101]  # 100 confirmed: gone
    assert await ids(telegram, offset=0) == [101, 102]
    assert await ids(telegram, offset=-1) == [102]  # the last one; the rest forgotten
    assert await ids(telegram, offset=103) == []
    assert telegram.pending == []


async def test_a_long_poll_waits_for_the_next_update() -> None:
    telegram = FakeTelegram()
    started = time.monotonic()
    assert await ids(telegram, offset=0, timeout=0.2) == []
    assert time.monotonic() - started >= 0.2
    waiting = asyncio.create_task(ids(telegram, offset=0, timeout=10))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    telegram.push(update(7))
    assert await asyncio.wait_for(waiting, 1) == [7]


@pytest.fixture
async def bot() -> AsyncIterator[tuple[Bot, FakeTelegram]]:
    telegram = FakeTelegram()
    async with BotApiServer(telegram) as server:
        request = HTTPXRequest(read_timeout=0.5)
        async with Bot("1:T", base_url=server.base_url, request=request) as client:
            yield client, telegram


async def test_an_outage_fails_as_the_bot_api_and_the_network_do(
    bot: tuple[Bot, FakeTelegram],
) -> None:
    client, telegram = bot

    async def chat() -> list[str]:
        return [m.text for m in telegram.chats[5]]

    outage = telegram.outage(Fault.BAD_GATEWAY, 30)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await client.send_message(5, "502")
    outage.until = 0  # over
    telegram.outage(Fault.FLOOD, 30, retry_after=2)
    with pytest.raises(RetryAfter) as flood:
        await client.send_message(5, "429")
    assert flood.value.retry_after in (2, timedelta(seconds=2))
    telegram.outages.clear()
    telegram.outage(Fault.LATE, 30)
    with pytest.raises(TimedOut):
        await client.send_message(5, "done, answered too late")
    telegram.outages.clear()
    telegram.outage(Fault.LOST, 30)
    with pytest.raises(TimedOut):
        await client.send_message(5, "dropped")
    telegram.outages.clear()
    await client.send_message(5, "back")
    assert await chat() == ["done, answered too late", "back"]
    assert [f.name for _call, f in telegram.failed] == ["BAD_GATEWAY", "FLOOD", "LATE", "LOST"]


async def test_an_outage_of_some_methods_leaves_the_others_working(
    bot: tuple[Bot, FakeTelegram],
) -> None:
    client, telegram = bot
    telegram.outage(Fault.BAD_GATEWAY, 30, methods=["sendMessage"])
    assert (await client.get_me()).username == "CarePairingBot"
    with pytest.raises(NetworkError):
        await client.send_message(5, "no")
    telegram.outage(Fault.LOST, 0.3)  # every method that changes a chat, for 0.3 s
    await asyncio.sleep(0.3)
    assert await client.delete_message(5, 1)  # over: the 502 of sendMessage alone remains
