"""Check-ins at speed: complete /checkin flows through the real Application and the fake Bot
API on a file SQLite database (WAL), next to python-telegram-bot's own ceiling in the same run
(the same fake, a handler that only replies).

    python -m benchmarks.checkin [--rounds 200] [--people 20]

Two runs: one person checking in again and again (each update's own cost), then `--people`
people at once (what waiting for the one SQLite writer adds). Targets (issue 4): our updates
per second at least half the ceiling's; p99 under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, MessageHandler, filters

from benchmarks.data import county_town_village
from bot import build_update_processor
from care.idcard import make_id
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from sandbox.request import FakeRequest
from sandbox.telegram import JSON, FakeTelegram
from settings import Settings
from storage import migrate
from storage.db import make_engine, make_sessions
from storage.models import Child, Pairing, Person

NOW = datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
# the button presses of a check-in that goes well: 13 taps, no typing
STEPS = [*(f"ci:a:{a}" for a in ("today", "home", "good", "good", "normal", "good", "contacted")),
         "ci:t:drowning", "ci:t:traffic", "ci:done", "ci:skip", "ci:skip", "ci:ok"]  # fmt: skip
UPDATES_PER_CHECKIN = 1 + len(STEPS)


async def seed(settings: Settings, people: int) -> None:
    engine = make_engine(settings.database_url)
    await migrate.upgrade(engine)
    async with make_sessions(engine).begin() as session:
        _town, village = await county_town_village(session)
        assert village.id is not None
        for n in range(people):
            person = Person(tg_user_id=5000 + n, name=f"志愿者{n}", role="volunteer",
                            area_id=village.id, gender="female", locale="zh_CN")  # fmt: skip
            birth = date(2015, 1, 1 + n % 28)
            child = Child(name=f"儿童{n}", gender="male", birth_date=birth, colour="yellow",
                          id_number=make_id("320999", birth, 2 * n + 1),
                          category="left_behind", area_id=village.id)  # fmt: skip
            session.add_all([person, child])
            await session.flush()
            session.add(Pairing(child_id=child.id, volunteer_id=person.id,
                                started_on=date(2026, 3, 1)))  # fmt: skip
    await engine.dispose()


async def run_checkins(box: Sandbox, people: int, rounds: int) -> tuple[list[float], float]:
    """Every person does `rounds` check-ins; people act at the same time, as they would."""
    latencies: list[float] = []
    cast = [box.person(5000 + n, f"志愿者{n}") for n in range(people)]

    async def one(person: SimPerson) -> None:
        for _ in range(rounds):
            started = time.perf_counter()
            await person.send("/checkin")
            latencies.append(time.perf_counter() - started)
            for data in STEPS:
                started = time.perf_counter()
                await person.press_data(data, person.last)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in cast))
    return latencies, time.perf_counter() - started


async def ceiling(updates: int, people: int) -> tuple[list[float], float]:
    """The same fake and update processor, with handlers that only reply."""
    telegram = FakeTelegram()
    request = FakeRequest(telegram)
    application = (
        ApplicationBuilder().token("0:ceiling").request(request).get_updates_request(request)
        .concurrent_updates(build_update_processor()).build()
    )  # fmt: skip

    # A reply of the same shape as a check-in question: a line of text and four buttons.
    buttons = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"选项{n}", callback_data=f"ci:a:{n}")] for n in range(4)]
    )

    async def reply(update: Update, _context: object) -> None:
        assert update.effective_chat is not None
        if update.callback_query:
            await update.callback_query.answer()
        await update.effective_chat.send_message("情绪和心理状态：", reply_markup=buttons)

    application.add_handler(MessageHandler(filters.ALL, reply))
    application.add_handler(CallbackQueryHandler(reply))
    latencies: list[float] = []
    async with application:

        async def deliver(data: JSON) -> None:
            parsed = Update.de_json(data, application.bot)
            await application.update_processor.process_update(
                parsed, application.process_update(parsed)
            )

        cast = [
            SimPerson(telegram, deliver, user_id=5000 + n, first_name="x") for n in range(people)
        ]
        for person in cast:
            await person.send("hi")

        async def one(person: SimPerson) -> None:
            for _ in range(updates // people):
                started = time.perf_counter()
                await person.press_data("ci:a:x", person.last)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(p) for p in cast))
        return latencies, time.perf_counter() - started


def describe(name: str, latencies: list[float], seconds: float) -> float:
    rate = len(latencies) / seconds
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    print(f"  {name:<34} {rate:8.0f} updates/s   p50 {cuts[49] * 1000:6.2f} ms"
          f"   p99 {cuts[98] * 1000:6.2f} ms")  # fmt: skip
    return rate


async def compare(people: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
        )
        await seed(settings, people)
        async with Sandbox(settings) as box:
            box.services.now = lambda: NOW
            ours, ours_time = await run_checkins(box, people, rounds)
        base, base_time = await ceiling(len(ours), people)
    print(
        f"{people} {'person' if people == 1 else 'people at once'}, {rounds} check-ins each "
        f"({UPDATES_PER_CHECKIN} updates, 13 taps), file SQLite (WAL):"
    )
    ours_rate = describe("our check-in updates", ours, ours_time)
    base_rate = describe("PTB ceiling (reply only)", base, base_time)
    p99 = statistics.quantiles(ours, n=100, method="inclusive")[98] * 1000
    print(
        f"  ratio {ours_rate / base_rate:.0%} of the ceiling (target ≥ 50%);"
        f" p99 {p99:.1f} ms (target < 20 ms)"
    )


async def main(people: int, rounds: int) -> None:
    await compare(1, rounds)
    await compare(people, max(1, rounds // people))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--people", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.people, args.rounds))
