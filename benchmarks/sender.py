"""Outbox throughput: 10,000 messages through the sender to the fake Bot API with Telegram's
limits enforced (30 messages in any second, one a second per chat; more gets a flood wait).

    python -m benchmarks.sender [--messages 10000] [--chats 2000]

Target (issue 6): at least 28 messages a second, no flood errors.
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


async def main(messages: int, chats: int) -> None:
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
            batch = [
                Message(f"bench:{n}", 10_000 + n % chats, f"提醒 {n}：请按时走访。")
                for n in range(messages)
            ]
            async with box.services.sessions.begin() as session:
                await plan(session, batch, now=NOW)
            started = time.perf_counter()
            await box.drain()
            seconds = time.perf_counter() - started
            sent = sum(1 for c in box.telegram.calls if c.method == "sendMessage")
            floods = box.telegram.floods
    rate = sent / seconds
    print(f"outbox sender, {messages} messages to {chats} chats, Telegram's limits enforced:")
    print(f"  {sent} sent in {seconds:.1f} s: {rate:.1f} messages/s "
          f"({rate / TARGET:.0%} of the {TARGET:.0f}/s target), {floods} flood errors")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=2_000)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.chats))
