"""Ledger import at scale: 10,000 rows, dry run and write, on a file SQLite database (WAL); how
long the event loop waits meanwhile; and the peak memory of parsing a ledger, hostile files and
the worst file the limits let through.

    python -m benchmarks.import_ledger [--rows 10000] [--runs 3] [--database-url URL]

Targets: under 10 s for the dry run and for the write, each (issue 3); while a ledger is parsed
in its worker thread, no wait of the event loop over 100 ms; the peak memory of a parse under
300 MB, hostile files refused (issue 12). Peak memory is measured in a fresh interpreter per
file (`sandbox.hostile.parse_peak`): its peak includes calamine's Rust heap.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
from python_calamine import CalamineWorkbook

from care.children import Category, Colour, LunarBirthday
from care.idcard import make_id
from care.ledger import LedgerRow, parse_ledger, write_ledger_xlsx
from care.roles import Gender
from care.uploads import SheetLimits
from care.visits import VisitRule
from sandbox import hostile
from storage import migrate
from storage.db import make_engine, make_sessions
from storage.ledger import apply_import, plan_import

TARGET_SECONDS = 10.0
TARGET_WAIT = 0.100  # the longest the event loop may wait on a parse
PEAK_MB = 300.0
TODAY = date(2026, 11, 23)
T = TypeVar("T")


def ledger_rows(count: int, seed: int = 7) -> list[LedgerRow]:
    """Valid rows: 2 towns × 10 villages, siblings in pairs, a few lunar birthdays."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        birth = TODAY - timedelta(days=rng.randint(365, 15 * 365))
        gender = Gender.MALE if n % 2 else Gender.FEMALE
        sequence = 2 * (n % 450) + (1 if gender == Gender.MALE else 0)
        region = f"32{n // 900:04d}"  # keeps (region, birth date, sequence) unique
        rows.append(
            LedgerRow(
                row=n + 2, name=f"儿童{n:05d}", gender=gender, birth_date=birth,
                id_number=make_id(region, birth, sequence), category=Category.LEFT_BEHIND,
                colour=list(Colour)[n % 4], county="示范县", town=f"镇{n % 2}",
                village=f"村{n % 10}", household=f"H{n // 2:05d}", school="中心小学",
                guardian_name="监护人", guardian_relation="祖母",
                guardian_phone=f"138{n:08d}", lunar_birthday=LunarBirthday(8, 15) if n % 7 == 0
                else None, consent=True,
            )
        )  # fmt: skip
    return rows


class LoopWatch:
    """While running: the longest the event loop waited to run a 5 ms timer (what other
    people's updates feel, the GIL included) and the longest single step it ran."""

    def __init__(self) -> None:
        self.longest_wait = 0.0
        self.longest_step = 0.0

    async def during(self, work: Awaitable[T]) -> T:
        run = asyncio.events.Handle._run
        watch = self

        def stepped(handle: asyncio.events.Handle) -> None:
            started = time.perf_counter()
            run(handle)
            if running:  # not the step that ends the watch (it runs on, past `during`)
                watch.longest_step = max(watch.longest_step, time.perf_counter() - started)

        running = True

        async def tick() -> None:
            last = time.perf_counter()
            while running:
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                self.longest_wait = max(self.longest_wait, now - last - 0.005)
                last = now

        asyncio.events.Handle._run = stepped  # type: ignore[method-assign,assignment]
        ticker = asyncio.create_task(tick())
        try:
            return await work
        finally:
            running = False
            await ticker
            asyncio.events.Handle._run = run  # type: ignore[method-assign]


def spread(values: list[float]) -> str:
    middle = statistics.median(values)
    return f"min {min(values):5.2f}  median {middle:5.2f}  max {max(values):5.2f}"


def read_with_calamine(data: bytes) -> int:
    """Every row of the first sheet, values only: the part of a parse the library does."""
    with CalamineWorkbook.from_object(io.BytesIO(data)) as workbook:
        return sum(1 for _ in workbook.get_sheet_by_index(0).iter_rows())


def read_with_openpyxl(data: bytes) -> int:
    """The same with openpyxl (read-only), which the import used before."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


async def import_figures(rows: int, runs: int, database_url: str | None) -> None:
    data = write_ledger_xlsx(ledger_rows(rows))
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        await migrate.upgrade(engine)
        sessions = make_sessions(engine)
        watch = LoopWatch()

        async def dry_run() -> float:
            started = time.perf_counter()
            parsed = await asyncio.to_thread(parse_ledger, data, today=TODAY)  # as the use case
            async with sessions() as session:
                plan = await plan_import(session, parsed, area_path="示范县")
            assert not plan.problems, plan.problems[:3]
            return time.perf_counter() - started

        parse = [timed(lambda: parse_ledger(data, today=TODAY)) for _ in range(runs)]
        calamine = [timed(lambda: read_with_calamine(data)) for _ in range(runs)]
        openpyxl_ = [timed(lambda: read_with_openpyxl(data)) for _ in range(runs)]
        dry = [await watch.during(dry_run()) for _ in range(runs)]
        parse_watch = LoopWatch()
        for _ in range(runs):
            await parse_watch.during(asyncio.to_thread(parse_ledger, data, today=TODAY))
        started = time.perf_counter()  # what Confirm does: parse and plan again, then write
        parsed = parse_ledger(data, today=TODAY)
        async with sessions.begin() as session:
            plan = await plan_import(session, parsed, area_path="示范县")
            await apply_import(session, plan, actor_id=None, on=TODAY, rule=VisitRule())
        write = time.perf_counter() - started
        again = [await watch.during(dry_run()) for _ in range(runs)]
        await engine.dispose()

    print(f"ledger import, {rows} rows, {url.split(':')[0]}, {runs} runs (load {load()}):")
    for name, seconds in (
        ("parse (xlsx)", parse), ("dry run (parse + plan)", dry),
        ("write (parse + plan + transaction)", [write]),
        ("re-import dry run (all unchanged)", again),
    ):  # fmt: skip
        ratio = max(seconds) / TARGET_SECONDS
        print(
            f"  {name:<36} {spread(seconds)} s   {ratio:4.0%} of the {TARGET_SECONDS:.0f} s target"
        )
    ratio = statistics.median(openpyxl_) / statistics.median(calamine)
    print(f"  reading the rows: calamine {spread(calamine)} s, openpyxl {spread(openpyxl_)} s"
          f" (calamine {ratio:.1f}× faster, medians)")  # fmt: skip
    wait = parse_watch.longest_wait
    print(f"  event loop while parsing in the worker thread: longest wait {wait * 1000:.0f} ms"
          f" ({wait / TARGET_WAIT:.0%} of the {TARGET_WAIT * 1000:.0f} ms target), longest step"
          f" {parse_watch.longest_step * 1000:.1f} ms")  # fmt: skip
    print(
        f"  event loop during the dry runs (plan included): longest wait"
        f" {watch.longest_wait * 1000:.0f} ms, longest step {watch.longest_step * 1000:.0f} ms"
    )


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def memory_figures(rows: int) -> None:
    limits = SheetLimits()
    cases: list[tuple[str, Callable[[], bytes]]] = [
        (f"{rows:,}-row ledger", lambda: write_ledger_xlsx(ledger_rows(rows))),
        ("a million empty rows", hostile.row_bomb),
        ("100 MB of shared strings", hostile.shared_strings_bomb),
        ("a cell at XFD1048576", hostile.far_cell),
        (
            f"a cell at A1 and one at {hostile.column_name(limits.max_columns - 1)}"
            f"{limits.max_rows}",
            lambda: hostile.far_cell(
                f"{hostile.column_name(limits.max_columns - 1)}{limits.max_rows}"
            ),
        ),
        ("the heaviest within the limits", lambda: hostile.heaviest(limits)),
    ]
    print(f"peak memory of a parse, each in a fresh interpreter (limit {PEAK_MB:.0f} MB):")
    with tempfile.TemporaryDirectory() as folder:
        for name, make in cases:
            path = Path(folder) / "upload.xlsx"
            path.write_bytes(make())
            started = time.perf_counter()
            result: dict[str, Any] = hostile.parse_peak(path)
            seconds = time.perf_counter() - started
            outcome = ", ".join(result["codes"]) or f"{result['rows']} rows accepted"
            peak = result["peak_mb"]
            print(f"  {name:<46} {path.stat().st_size / 2**20:6.2f} MB file  peak {peak:4.0f} MB"
                  f" ({peak / PEAK_MB:.0%}; {result['before_mb']:.0f} MB before parsing)"
                  f"  {seconds:4.1f} s  {outcome}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(import_figures(args.rows, args.runs, args.database_url))
    memory_figures(args.rows)
