"""The update processor: one chat's updates one at a time and in order, other chats beside
them, and an update waiting for its chat holds no global slot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from toolkit.processor import PerChatProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "someone", False)
    sent = datetime(2026, 11, 23, tzinfo=UTC)
    message = Message(update_id, sent, chat, from_user=user, text="hi")
    return Update(update_id, message=message)


async def test_a_chat_runs_one_update_at_a_time_in_order() -> None:
    processor = PerChatProcessor(max_concurrent_updates=8)
    running: set[int] = set()
    overlaps: list[tuple[int, ...]] = []
    order: list[int] = []

    async def work(n: int, gate: asyncio.Event | None = None) -> None:
        if running:
            overlaps.append((n, *running))
        running.add(n)
        order.append(n)
        if gate is not None:
            await gate.wait()
        for _ in range(3):
            await asyncio.sleep(0)
        running.discard(n)

    gate = asyncio.Event()
    first = asyncio.create_task(processor.process_update(update(1, 5), work(1, gate)))
    await asyncio.sleep(0)
    # The second waits for the first; the moment the first releases, a third arrives: with a
    # table that forgets a released lock, the third would run beside the second.
    second = asyncio.create_task(processor.process_update(update(2, 5), work(2)))
    await asyncio.sleep(0)
    gate.set()
    await first
    third = asyncio.create_task(processor.process_update(update(3, 5), work(3)))
    await asyncio.gather(second, third)
    assert overlaps == [] and order == [1, 2, 3]


async def test_waiting_updates_hold_no_global_slot() -> None:
    processor = PerChatProcessor(max_concurrent_updates=2)
    gate = asyncio.Event()
    done: list[int] = []

    async def slow(n: int) -> None:
        await gate.wait()
        done.append(n)

    async def quick(n: int) -> None:
        done.append(n)

    # Ten updates of one busy chat: one runs, nine wait for the chat, none for a slot...
    busy = [
        asyncio.create_task(processor.process_update(update(i, 7), slow(i))) for i in range(10)
    ]
    await asyncio.sleep(0.01)
    # ...so another chat's update runs at once.
    await asyncio.wait_for(processor.process_update(update(99, 8), quick(99)), timeout=1)
    assert done == [99]
    gate.set()
    await asyncio.gather(*busy)
    assert done == [99, *range(10)]
