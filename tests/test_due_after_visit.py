"""The due date kept on the child row after each saved visit (storage.due.after_visit, one
statement) agrees with recomputing it from every visit (storage.due.refresh): visits in
order and out of order, across years, by colour, and for a child nobody is paired with, who
has a due date all the same (from the day the child came under the programme); configured
intervals count everywhere."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlmodel import col, select

from care.access import ChildScope
from care.roles import Role
from care.visits import Care, CheckIn, Health, Mode, Mood, Parents, Study
from sandbox.harness import Sandbox
from storage import due, visits
from storage.models import Child
from tests.conftest import child_id, pair_directly, register, seed_ledger

EAST = "示范县/城关镇/东村"


async def save_visit(box: Sandbox, child: int, day: date, key: str) -> None:
    visit = CheckIn(
        child_id=child, visited_on=day, mode=Mode.HOME, health=Health.GOOD,
        mood=Mood.GOOD, study=Study.NORMAL, care=Care.GOOD, parents=Parents.CONTACTED,
        draft_key=key,
    )  # fmt: skip
    async with box.services.engine.begin() as connection:
        assert await visits.save(
            connection, visit, person_id=1, scope=ChildScope(area_path=EAST),
            rule=box.services.settings.visit_rule,
        ) is not None  # fmt: skip


async def kept(box: Sandbox, child: int) -> tuple[date | None, date | None, int | None, int | None]:
    async with box.services.sessions() as session:
        row = (
            await session.exec(
                select(col(Child.last_visit_on), col(Child.due_on), col(Child.visits_year),
                       col(Child.visits_in_year))
                .where(Child.id == child)
            )
        ).one()  # fmt: skip
    return row[0], row[1], row[2], row[3]


async def recomputed(box: Sandbox, child: int) -> tuple[date | None, date | None]:
    async with box.services.sessions.begin() as session:
        await due.refresh(session, [child], rule=box.services.settings.visit_rule)
    last, due_on, _year, _count = await kept(box, child)
    return last, due_on


async def test_each_visit_keeps_due_date_and_yearly_count(box: Sandbox) -> None:
    await seed_ledger(box)
    await register(box, Role.VOLUNTEER, EAST, user_id=1200, name="王芳")
    child = await child_id(box, "熊子")
    await pair_directly(box, child, 1200)  # paired on 2026-03-01
    async with box.services.sessions.begin() as session:
        await session.exec(update(Child).where(col(Child.id) == child).values(colour="yellow"))
        await due.refresh(session, [child], rule=box.services.settings.visit_rule)
    # yellow: every 15 days; the last year's visits count for that year only
    steps = [
        (date(2025, 12, 20), (date(2025, 12, 20), date(2026, 1, 4), 2025, 1)),
        (date(2026, 2, 1), (date(2026, 2, 1), date(2026, 2, 16), 2026, 1)),
        (date(2026, 1, 10), (date(2026, 2, 1), date(2026, 2, 16), 2026, 2)),  # recorded late
        (date(2025, 12, 30), (date(2026, 2, 1), date(2026, 2, 16), 2026, 2)),  # a closed year
        (date(2026, 2, 1), (date(2026, 2, 1), date(2026, 2, 16), 2026, 3)),  # a second that day
        (date(2026, 3, 5), (date(2026, 3, 5), date(2026, 3, 20), 2026, 4)),
    ]
    for n, (day, expected) in enumerate(steps):
        await save_visit(box, child, day, f"k{n}")
        assert await kept(box, child) == expected
        assert await recomputed(box, child) == expected[:2]


async def test_the_colour_held_at_saving_decides_and_unpaired_children_are_due_too(
    box: Sandbox,
) -> None:
    await seed_ledger(box)  # imported on 1 March 2026
    await register(box, Role.VOLUNTEER, EAST, user_id=1200, name="王芳")
    paired, unpaired = await child_id(box, "熊子"), await child_id(box, "薛子")  # 薛子: blue
    assert (await kept(box, unpaired))[:2] == (None, date(2026, 3, 31))  # 1 March + 30 days
    await pair_directly(box, paired, 1200)
    async with box.services.sessions.begin() as session:
        await session.exec(update(Child).where(col(Child.id) == paired).values(colour="red"))
        await due.refresh(session, [paired, unpaired], rule=box.services.settings.visit_rule)
    assert (await kept(box, paired))[:2] == (None, date(2026, 3, 8))  # red: 7 days
    await save_visit(box, paired, date(2026, 11, 1), "red")
    assert (await kept(box, paired))[:2] == (date(2026, 11, 1), date(2026, 11, 8))
    assert await recomputed(box, paired) == (date(2026, 11, 1), date(2026, 11, 8))
    await save_visit(box, unpaired, date(2026, 11, 1), "director")  # a director's visit
    assert await kept(box, unpaired) == (date(2026, 11, 1), date(2026, 12, 1), 2026, 1)
    assert await recomputed(box, unpaired) == (date(2026, 11, 1), date(2026, 12, 1))
