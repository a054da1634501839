"""/overdue at county scale: 200,000 children with 4,000,000 visits on a file SQLite database,
through the real Application and the fake Bot API.

    python -m benchmarks.overdue [--children 200000] [--visits 4000000]

Target (issues 6 and 14): /overdue and its figures answer in under 200 ms. One child in eight
has no volunteer and one in fifty only a volunteer who left (deactivated): not covered, listed
first. Measured: the county's first page, the next, a village, a colour, and the first page of
the overdue (after every child not covered). Building the data takes a few minutes; it is
written with plain sqlite3 (the schema is the migrated one), the due dates by the same rule
the bot uses (storage.due.due_values) and `covered` by the rule of storage.cover.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.checkin import NOW
from sandbox.harness import Sandbox
from settings import Settings
from storage import migrate
from storage.db import make_engine
from storage.due import due_values

TOWNS, VILLAGES = 20, 25  # 500 villages in one county
TARGET = 0.2
COLOURS = ("red", "yellow", "blue", "green")
NOBODY, LEFT = 8, 50  # one child in 8 paired with nobody, one in 50 with a volunteer who left
PAGE = 12  # service.overdue.PAGE_SIZE
Row = tuple[object, ...]  # one row of an INSERT


def build(path: Path, children: int, visits: int) -> None:
    rng = random.Random(3)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("INSERT INTO area (id, name, level, path) VALUES (1, '示范县', 1, '示范县')")
    villages = []
    for t in range(TOWNS):
        town_id = 2 + t * (VILLAGES + 1)
        db.execute("INSERT INTO area VALUES (?, 1, ?, 2, ?)", (town_id, f"镇{t}", f"示范县/镇{t}"))
        for v in range(VILLAGES):
            vid = town_id + 1 + v
            db.execute("INSERT INTO area VALUES (?, ?, ?, 3, ?)",
                       (vid, town_id, f"村{v}", f"示范县/镇{t}/村{v}"))  # fmt: skip
            villages.append(vid)
    now = "2026-01-01 00:00:00.000000"
    volunteers = children // 3
    people = (
        (n + 1, 900000 + n, f"志愿者{n}", villages[n % len(villages)], now)
        for n in range(volunteers)
    )
    db.executemany(
        "INSERT INTO person (id, tg_user_id, name, role, area_id, gender, active, created_at)"
        " VALUES (?, ?, ?, 'volunteer', ?, 'female', 1, ?)",
        people,
    )
    left = volunteers + 1  # a volunteer who left: their children are not covered
    db.execute(
        "INSERT INTO person (id, tg_user_id, name, role, area_id, gender, active, created_at)"
        " VALUES (?, 800000, '已离开', 'volunteer', ?, 'female', 0, ?)",
        (left, villages[0], now),
    )
    visited = children - children // 10  # one child in ten was never visited
    per_child = -(-visits // visited)
    start = date(2026, 3, 1)
    child_rows: list[Row] = []
    pairing_rows: list[Row] = []
    visit_rows: list[Row] = []
    for n in range(children):
        cid, colour = n + 1, COLOURS[n % 4]
        days = sorted(rng.sample(range(0, 260), per_child))  # March to November
        last = start + timedelta(days=days[-1]) if n % 10 else None
        due = due_values(cid, colour, last, start)["due_on"]
        volunteer = None if n % NOBODY == 1 else left if n % LEFT == 2 else 1 + n % volunteers
        year, count = (2026, per_child) if last is not None else (None, 0)
        child_rows.append((cid, f"儿童{n}", "male", "2015-01-01", "left_behind", colour,
                           villages[n % len(villages)], now, now, start, last, due,
                           volunteer not in (None, left), year, count))  # fmt: skip
        if volunteer is not None:
            pairing_rows.append((cid, volunteer, start))
        if last is not None:
            visitor = volunteer or 1 + n % volunteers  # a director's visits, for the unpaired
            visit_rows.extend((cid, visitor, start + timedelta(days=d), f"b{cid}-{d}")
                              for d in days)  # fmt: skip
        if len(child_rows) >= 20_000:
            _flush(db, child_rows, pairing_rows, visit_rows)
    _flush(db, child_rows, pairing_rows, visit_rows)
    db.commit()
    db.execute("PRAGMA optimize")
    db.close()


def _flush(
    db: sqlite3.Connection, children: list[Row], pairings: list[Row], visits: list[Row]
) -> None:
    db.executemany(
        "INSERT INTO child (id, name, gender, birth_date, category, colour, area_id, created_at,"
        " updated_at, followed_since, last_visit_on, due_on, covered, visits_year,"
        " visits_in_year, lunar_leap, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " 0, 1)",
        children,
    )
    db.executemany(
        "INSERT INTO pairing (child_id, volunteer_id, started_on, broken_rules, override_reason,"
        " end_reason, created_at) VALUES (?, ?, ?, '', '', '', '2026-03-01 00:00:00.000000')",
        pairings,
    )
    db.executemany(
        "INSERT INTO visit (child_id, person_id, visited_on, mode, health, mood, study, care,"
        " parents, notes, safety, wishes, problems, red_flags, draft_key, created_at)"
        " VALUES (?, ?, ?, 'home', 'good', 'good', 'normal', 'good', 'contacted', '{}', '', '',"
        " '', '', ?, '2026-03-01 00:00:00.000000')",
        visits,
    )
    children.clear()
    pairings.clear()
    visits.clear()


async def main(children: int, visits: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "county.db"
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{path}",
        )
        engine = make_engine(settings.database_url)
        await migrate.upgrade(engine)
        await engine.dispose()
        started = time.perf_counter()
        await asyncio.to_thread(build, path, children, visits)
        built = time.perf_counter() - started
        db = sqlite3.connect(path)
        db.execute(
            "INSERT INTO person (tg_user_id, name, role, area_id, gender, active, created_at)"
            " VALUES (1, '县管理员', 'admin', 1, 'male', 1, '2026-01-01 00:00:00.000000')"
        )
        db.commit()
        counts_db = [
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("child", "visit")
        ]
        db.close()
        timings: dict[str, list[float]] = {}
        async with Sandbox(settings) as box:
            box.services.now = lambda: NOW
            admin = box.person(1, "县管理员")
            await admin.send("/overdue")
            counts = [int(n) for n in re.findall(r"\d+", admin.last.text.splitlines()[1])]
            not_covered = int(re.findall(r"未覆盖 (\d+) 名", admin.last.text)[0])
            views = {
                "first page": "ov:0:0:-",
                "next page": "ov:1:0:-",
                "a village": "ov:0:3:-",
                "a colour": "ov:0:0:yellow",
                "first of the overdue": f"ov:{not_covered // PAGE}:0:-",
            }
            for _ in range(rounds):
                for view, data in views.items():
                    started = time.perf_counter()
                    await admin.press_data(data, admin.last)
                    timings.setdefault(view, []).append(time.perf_counter() - started)
            heading = admin.last.text.splitlines()[:3]
            assert "⏰ 逾期未走访" in admin.last.text  # the last view reached the overdue
    # the figures account for every child: the four states add up to the children counted
    assert counts[0] == sum(counts[1:]) == children, counts
    print(f"/overdue, {counts_db[0]:,} children and {counts_db[1]:,} visits"
          f" (built in {built:.0f} s):")  # fmt: skip
    print("\n".join(f"  {line}" for line in heading))
    every = [t for spent in timings.values() for t in spent]
    for view, spent in [*timings.items(), ("all answers", every)]:
        low, median, high = min(spent), statistics.median(spent), max(spent)
        print(f"  {view:<22} min {low * 1000:4.0f} ms, median {median * 1000:4.0f} ms,"
              f" max {high * 1000:4.0f} ms over {len(spent)} answers")  # fmt: skip
    worst = max(every)
    print(f"  slowest {worst * 1000:.0f} ms: {worst / TARGET:.0%} of the {TARGET * 1000:.0f} ms"
          f" target")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=200_000)
    parser.add_argument("--visits", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.children, args.visits, args.rounds))
