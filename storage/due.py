"""When each child's next visit is due, kept on the child row (`last_visit_on`, `due_on`,
`visits_in_year`), so that /overdue and the reminders read one indexed column instead of
millions of visits. Refreshed wherever a visit, a colour or a pairing changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, func, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import Colour
from care.visits import next_due
from storage.areas import in_area
from storage.db import key, select_wide
from storage.models import Area, Child, Pairing, Person, Visit, VisitPlan

CHUNK = 500


def due_values(
    child_id: int, colour: str, last_visit: date | None, paired_since: date | None
) -> dict[str, Any]:
    """The due date by the one rule of care.visits: the last visit, else the pairing's start,
    plus the colour's interval; none while nobody is paired with the child."""
    due = None
    if paired_since is not None:
        due = next_due(Colour(colour), last_visit=last_visit, since=paired_since)
    return {"child_id": child_id, "last_visit_on": last_visit, "due_on": due}


async def refresh(session: AsyncSession, child_ids: Sequence[int]) -> None:
    """Recomputes the due date of these children from their visits and pairings."""
    ids = sorted(set(child_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        last = (
            select(func.max(Visit.visited_on))
            .where(col(Visit.child_id) == col(Child.id))
            .scalar_subquery()
        )
        since = (
            select(func.min(Pairing.started_on))
            .where(col(Pairing.child_id) == col(Child.id), col(Pairing.ended_on).is_(None))
            .scalar_subquery()
        )
        rows = await session.exec(
            select(key(Child.id), Child.colour, last, since).where(col(Child.id).in_(chunk))
        )
        values = [
            due_values(cid, colour, last_visit, paired) for cid, colour, last_visit, paired in rows
        ]
        if values:
            statement = (
                update(Child)
                .where(col(Child.id) == bindparam("child_id"))
                .values(last_visit_on=bindparam("last_visit_on"), due_on=bindparam("due_on"))
                .execution_options(synchronize_session=False)
            )
            connection = await session.connection()  # Core: an executemany by primary key
            await connection.execute(statement, values)


def _after_visit_statement() -> Any:
    day, last = bindparam("day", type_=Date), col(Child.last_visit_on)
    newer = or_(last.is_(None), last < day)
    year = col(Child.visits_year)
    started = or_(year.is_(None), year < bindparam("year"))
    due_by_colour = case(
        {c.value: bindparam(f"due_{c.value}", type_=Date) for c in Colour},
        value=col(Child.colour),
    )
    return (
        update(Child)
        .where(col(Child.id) == bindparam("child"))
        .values(
            last_visit_on=case((newer, day), else_=last),
            due_on=case(
                (col(Child.due_on).is_(None), None), (newer, due_by_colour),
                else_=col(Child.due_on),
            ),
            visits_in_year=case(
                (year == bindparam("year"), col(Child.visits_in_year) + 1), (started, 1),
                else_=col(Child.visits_in_year),
            ),
            visits_year=case((started, bindparam("year")), else_=year),
        )
    )  # fmt: skip


_AFTER_VISIT = _after_visit_statement()  # built once: every check-in runs it


async def after_visit(connection: AsyncConnection, *, child_id: int, day: date) -> None:
    """A visit on `day`: the last visit, the due date and the year's count, in one statement.
    The due date follows the one rule of care.visits for whichever colour the row holds at
    that moment; it stays empty while nobody is paired with the child; a visit recorded late
    for a year already closed does not count for it."""
    dues = {f"due_{c.value}": next_due(c, last_visit=day, since=day) for c in Colour}
    await connection.execute(
        _AFTER_VISIT, {"child": child_id, "day": day, "year": day.year, **dues}
    )


async def area_ids(session: AsyncSession, area_path: str) -> list[int]:
    """The ids of an area and the areas below it (resolved once, then an indexed IN)."""
    return [a for a in await session.exec(select(Area.id).where(in_area(area_path))) if a]


@dataclass(frozen=True)
class OverdueChild:
    id: int
    name: str
    colour: str
    due_on: date
    area_path: str
    volunteers: list[tuple[int, str]]  # person id, name
    planned: date | None  # the earliest visit a volunteer has planned from today on


async def overdue_page(
    session: AsyncSession, *, areas: list[int], today: date, colour: str | None,
    offset: int, limit: int, child_id: int | None = None,
) -> tuple[list[OverdueChild], int]:  # fmt: skip
    """Overdue children of these areas, village by village (in the order they were recorded),
    most overdue first, and how many there are."""
    where = [
        col(Child.area_id).in_(areas), col(Child.active).is_(True), col(Child.due_on) < today,
    ]  # fmt: skip
    if colour is not None:
        where.append(col(Child.colour) == colour)
    if child_id is not None:
        where.append(col(Child.id) == child_id)
    total = (await session.exec(select(func.count()).select_from(Child).where(*where))).one()
    rows = list(
        await session.exec(
            select_wide(Child.id, Child.name, Child.colour, Child.due_on, Area.path)
            .join(Area, col(Area.id) == Child.area_id)
            .where(*where)
            # the index's own order: by village, most overdue first, without a sort
            .order_by(col(Child.area_id), col(Child.due_on), col(Child.id))
            .offset(offset)
            .limit(limit)
        )
    )
    names: dict[int, list[tuple[int, str]]] = {}
    if rows:
        for child_id, person_id, name in await session.exec(
            select(Pairing.child_id, key(Person.id), Person.name)
            .join(Person, col(Person.id) == Pairing.volunteer_id)
            .where(col(Pairing.child_id).in_([r[0] for r in rows]), col(Pairing.ended_on).is_(None))
        ):
            names.setdefault(child_id, []).append((person_id, name))
    plans: dict[int, date | None] = {}  # typed as the column; a minimum of days >= today
    if rows:
        for child_id, planned in await session.exec(
            select(VisitPlan.child_id, func.min(VisitPlan.planned_on))
            .where(
                col(VisitPlan.child_id).in_([r[0] for r in rows]),
                col(VisitPlan.planned_on) >= today,
            )
            .group_by(col(VisitPlan.child_id))
        ):
            plans[child_id] = planned
    page = [
        OverdueChild(cid, n, c, d, p, names.get(cid, []), plans.get(cid))
        for cid, n, c, d, p in rows
    ]
    return page, total


@dataclass(frozen=True)
class AreaFigures:
    paired: int  # children someone is paired with
    within_interval: int  # visited within their colour's interval
    on_track: int  # on track for six visits this year


async def figures(
    session: AsyncSession, *, areas: list[int], today: date, expected: int
) -> AreaFigures:
    where = (
        col(Child.area_id).in_(areas),
        col(Child.active).is_(True),
        col(Child.due_on).is_not(None),
    )
    within = func.sum(case((col(Child.due_on) >= today, 1), else_=0))
    on_track = func.sum(
        case(
            (and_(col(Child.visits_year) == today.year, col(Child.visits_in_year) >= expected), 1),
            else_=0 if expected > 0 else 1,
        )
    )
    paired, inside, tracked = (
        await session.exec(select(func.count(), within, on_track).select_from(Child).where(*where))
    ).one()
    return AreaFigures(paired, inside or 0, tracked or 0)
