"""Ledger import at scale: 10,000 rows, dry run and write, on a file SQLite database (WAL).

    python -m benchmarks.import_ledger [--rows 10000] [--database-url URL]

Target (issue 3): under 10 s for the dry run and for the write, each.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from care.children import Category, Colour, LunarBirthday
from care.idcard import make_id
from care.ledger import LedgerRow, parse_ledger, write_ledger_xlsx
from care.roles import Gender
from storage import migrate
from storage.db import make_engine, make_sessions
from storage.ledger import apply_import, plan_import

TARGET_SECONDS = 10.0
TODAY = date(2026, 11, 23)


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


async def main(rows: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        data = write_ledger_xlsx(ledger_rows(rows))
        engine = make_engine(url)
        await migrate.upgrade(engine)
        sessions = make_sessions(engine)
        figures: dict[str, float] = {}

        async def dry_run() -> float:
            started = time.perf_counter()
            parsed = parse_ledger(data, today=TODAY)
            async with sessions() as session:
                plan = await plan_import(session, parsed, area_path="示范县")
            assert not plan.problems, plan.problems[:3]
            return time.perf_counter() - started

        started = time.perf_counter()
        parsed = parse_ledger(data, today=TODAY)
        figures["parse (xlsx)"] = time.perf_counter() - started
        figures["dry run (parse + plan)"] = await dry_run()
        started = time.perf_counter()  # what Confirm does: parse and plan again, then write
        parsed = parse_ledger(data, today=TODAY)
        async with sessions.begin() as session:
            plan = await plan_import(session, parsed, area_path="示范县")
            await apply_import(session, plan, actor_id=None)
        figures["write (parse + plan + transaction)"] = time.perf_counter() - started
        figures["re-import dry run (all unchanged)"] = await dry_run()
        await engine.dispose()

    print(f"ledger import, {rows} rows, {url.split(':')[0]}:")
    for name, seconds in figures.items():
        ratio = seconds / TARGET_SECONDS
        print(f"  {name:<36} {seconds:6.2f} s   {ratio:5.0%} of the {TARGET_SECONDS:.0f} s target")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.database_url))
