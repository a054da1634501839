"""Outbox throughput through the sender and the bot's one rate limiter to the fake Bot API,
with Telegram's limits enforced by the fake (30 messages in any second, one a second per chat,
20 a minute per group; more gets a flood wait).

    python -m benchmarks.sender [--messages 10000] [--chats 2000]   # the overall limit binds
    python -m benchmarks.sender --binding                           # per chat and group bind

Targets: at least 28 messages a second overall, no flood errors (issue 6); where the per-chat
and group limits bind (3 chats and a group), no flood errors and each within 5% of its limit
(issue 11).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from benchmarks.checkin import NOW
from sandbox.harness import Sandbox
from settings import Settings
from storage import migrate
from storage.db import make_engine
from storage.outbox import Message, plan

TARGET = 28.0


async def run(batch: list[Message]) -> tuple[float, dict[int, list[float]], int]:
    """Sends `batch`; returns the seconds it took, when each chat got its messages (fake's
    clock) and the flood errors."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
        )
        engine = make_engine(settings.database_url)
        await migrate.upgrade(engine)
        await engine.dispose()
        box = Sandbox(settings)
        async with box:
            box.services.now = lambda: NOW
            box.telegram.enforce_limits = True
            arrived: dict[int, list[float]] = {}
            box.telegram.on_send = lambda chat: arrived.setdefault(chat, []).append(
                time.monotonic()
            )
            async with box.services.sessions.begin() as session:
                await plan(session, batch, now=NOW)
            started = time.perf_counter()
            await box.drain()
            return time.perf_counter() - started, arrived, box.telegram.floods


async def binding() -> None:
    """Three private chats of 20 messages and a group of 25: the per-chat limit (1/s) and the
    group limit (20 a minute) bind, not the overall one."""
    batch = [Message(f"p{c}:{n}", 20_000 + c, f"提醒 {n}") for n in range(20) for c in range(3)]
    batch += [Message(f"g:{n}", -100_500, f"群提醒 {n}") for n in range(25)]
    seconds, arrived, floods = await run(batch)
    print("outbox sender where the per-chat and group limits bind (3 chats x 20, a group x 25):")
    for chat, times in sorted(arrived.items()):
        if chat < 0:
            busiest = max(sum(t <= u < t + 60 for u in times) for t in times)
            wait = times[20] - times[0]  # the 21st may go 60 s after the first, not before
            print(f"  group: {len(times)} messages, at most {busiest} in any minute (limit 20); "
                  f"the 21st {wait:.1f} s after the first ({60 / wait:.0%} of the limit)")
        else:
            span = times[-1] - times[0]
            rate = (len(times) - 1) / span
            print(f"  chat {chat}: {len(times)} messages in {span:.1f} s: {rate:.3f}/s "
                  f"({rate:.1%} of the 1/s limit)")
    print(f"  all sent in {seconds:.1f} s, {floods} flood errors")


async def main(messages: int, chats: int) -> None:
    text = "提醒 {n}：请按时走访。"
    batch = [Message(f"bench:{n}", 10_000 + n % chats, text.format(n=n)) for n in range(messages)]
    seconds, arrived, floods = await run(batch)
    sent = sum(len(times) for times in arrived.values())
    rate = sent / seconds
    print(f"outbox sender, {messages} messages to {chats} chats, Telegram's limits enforced:")
    print(f"  {sent} sent in {seconds:.1f} s: {rate:.1f} messages/s "
          f"({rate / TARGET:.0%} of the {TARGET:.0f}/s target), {floods} flood errors")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--binding", action="store_true", help="3 chats and a group instead")
    args = parser.parse_args()
    asyncio.run(binding() if args.binding else main(args.messages, args.chats))
