"""When each child's next visit is due, kept on the child row (`last_visit_on`, `due_on`,
`visits_in_year`), so that /overdue and the reminders read one indexed column instead of
millions of visits; and /overdue's reads: the children it lists and the state of every child
(care.visits.state_of, counted by the same bounds). Due dates follow the visits, the colour
and the configured intervals (care.visits.VisitRule), never the pairings: pairing, ending or
moving a pairing leaves them as they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, bindparam, case, false, func, or_, true, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import Colour
from care.visits import VisitRule, soon_until
from storage.areas import in_area
from storage.db import key, select_wide
from storage.models import AppliedSetting, Area, Child, Pairing, Person, Visit, VisitPlan
from storage.types import utcnow

CHUNK = 500
INTERVALS = "visit_intervals"  # the applied setting: the intervals of the stored due dates


def due_values(
    child_id: int, colour: str, last_visit: date | None, since: date | None,
    rule: VisitRule | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The due date by the one rule of care.visits: the last visit, else `since` (the day the
    child came under the programme), plus the colour's interval. (Revision 0005 gave the
    pairing's start as `since`, and None, no due date, for a child nobody was paired with.)"""
    due = None
    if since is not None:
        due = (rule or VisitRule()).next_due(Colour(colour), last_visit=last_visit, since=since)
    return {"child_id": child_id, "last_visit_on": last_visit, "due_on": due}


_SET_DUE = (
    update(Child)
    .where(col(Child.id) == bindparam("child_id"))
    .values(last_visit_on=bindparam("last_visit_on"), due_on=bindparam("due_on"))
    .execution_options(synchronize_session=False)
)


async def refresh(session: AsyncSession, child_ids: Sequence[int], *, rule: VisitRule) -> None:
    """Recomputes the due date of these children from their visits."""
    ids = sorted(set(child_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        last = (
            select(func.max(Visit.visited_on))
            .where(col(Visit.child_id) == col(Child.id))
            .scalar_subquery()
        )
        rows = await session.exec(
            select_wide(Child.id, Child.colour, last, Child.followed_since).where(
                col(Child.id).in_(chunk)
            )
        )
        values = [
            due_values(cid, colour, last_visit, since, rule)
            for cid, colour, last_visit, since in rows
        ]
        if values:
            connection = await session.connection()  # Core: an executemany by primary key
            await connection.execute(_SET_DUE, values)


async def fill_missing(session: AsyncSession, *, rule: VisitRule) -> int:
    """Gives a due date to every child without one (a row written without storage.due, e.g.
    by hand); returns how many there were."""
    ids = [i for i in await session.exec(select(Child.id).where(col(Child.due_on).is_(None))) if i]
    await refresh(session, ids, rule=rule)
    return len(ids)


async def applied_intervals(session: AsyncSession) -> str | None:
    """The intervals the stored due dates were computed with (VisitRule.intervals_key)."""
    found = await session.get(AppliedSetting, INTERVALS)
    return found.value if found is not None else None


async def recompute_all(session: AsyncSession, rule: VisitRule, *, batch: int = 5000) -> int:
    """Every child's due date by `rule`, from the last visit kept on the row; the intervals
    are recorded as applied. Returns how many children were recomputed."""
    done, after = 0, 0
    while True:
        rows = list(
            await session.exec(
                select_wide(Child.id, Child.colour, Child.last_visit_on, Child.followed_since)
                .where(col(Child.id) > after)
                .order_by(col(Child.id))
                .limit(batch)
            )
        )
        if not rows:
            break
        connection = await session.connection()
        await connection.execute(
            _SET_DUE, [due_values(cid, c, last, since, rule) for cid, c, last, since in rows]
        )
        done, after = done + len(rows), rows[-1][0]
    found = await session.get(AppliedSetting, INTERVALS)
    if found is None:
        found = AppliedSetting(name=INTERVALS, value=rule.intervals_key())
    found.value, found.applied_at = rule.intervals_key(), utcnow()
    session.add(found)
    return done


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
            due_on=case((newer, due_by_colour), else_=col(Child.due_on)),
            visits_in_year=case(
                (year == bindparam("year"), col(Child.visits_in_year) + 1), (started, 1),
                else_=col(Child.visits_in_year),
            ),
            visits_year=case((started, bindparam("year")), else_=year),
        )
    )  # fmt: skip


_AFTER_VISIT = _after_visit_statement()  # built once: every check-in runs it


async def after_visit(
    connection: AsyncConnection, *, child_id: int, day: date, rule: VisitRule
) -> None:
    """A visit on `day`: the last visit, the due date and the year's count, in one statement.
    The due date follows the one rule of care.visits for whichever colour the row holds at
    that moment; a visit recorded late for a year already closed does not count for it."""
    dues = {f"due_{c.value}": rule.next_due(c, last_visit=day, since=day) for c in Colour}
    await connection.execute(
        _AFTER_VISIT, {"child": child_id, "day": day, "year": day.year, **dues}
    )


async def area_ids(session: AsyncSession, area_path: str) -> list[int]:
    """The ids of an area and the areas below it (resolved once, then an indexed IN)."""
    return [a for a in await session.exec(select(Area.id).where(in_area(area_path))) if a]


@dataclass(frozen=True)
class Counts:
    """Active children by state (care.visits.State), each counted by its own index range
    (care.visits.state_of's bounds), and how many are on track for the year's minimum of
    visits. Every active child is in one state: they add up to the active children (one
    with no due date would be in none, and missing here)."""

    not_covered: int = 0
    overdue: int = 0  # covered and overdue
    due_soon: int = 0
    on_track: int = 0
    yearly: int = 0  # visited often enough this year so far (care.visits.expected_by)

    @property
    def active(self) -> int:
        return self.not_covered + self.overdue + self.due_soon + self.on_track


@dataclass(frozen=True)
class Listed:
    """What /overdue lists under a filter: the children not covered, then the overdue."""

    not_covered: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.not_covered + self.overdue


async def counts(
    session: AsyncSession, *, areas: list[int], today: date, expected: int,
    colour: str | None = None,
) -> tuple[Counts, Listed]:  # fmt: skip
    """Every active child of these areas by state, and what /overdue lists of one colour (or
    of all): one statement of counts, each a range of an index (ix_child_follow,
    ix_child_colour, ix_child_area_visits) rather than a pass over every child."""
    base = (col(Child.area_id).in_(areas), col(Child.active) == true())
    covered, due, soon = col(Child.covered), col(Child.due_on), soon_until(today)

    def count(*where: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(Child).where(*base, *where).scalar_subquery()

    yearly = [col(Child.visits_year) == today.year, col(Child.visits_in_year) >= expected]
    numbers = [
        count(covered == false()), count(covered == true(), due < today),
        count(covered == true(), due >= today, due <= soon), count(covered == true(), due > soon),
        count(*(yearly if expected > 0 else [])),
    ]  # fmt: skip
    if colour is not None:
        same = col(Child.colour) == colour
        numbers += [count(same, covered == false()), count(same, covered == true(), due < today)]
    row = list((await session.exec(select_wide(*numbers))).one())
    figures = Counts(*row[:5])
    listed = Listed(*row[5:]) if colour is not None else Listed(row[0], row[1])
    return figures, listed


@dataclass(frozen=True)
class FollowChild:
    """A child /overdue lists: not covered, or overdue."""

    id: int
    name: str
    colour: str
    due_on: date
    covered: bool
    area_path: str
    volunteers: list[tuple[int, str, bool]]  # person id, name, still active
    planned: date | None  # the earliest visit a volunteer has planned from today on


def _listed(
    areas: list[int], covered: bool, today: date, colour: str | None, child_id: int | None
) -> list[ColumnElement[bool]]:
    where = [
        col(Child.area_id).in_(areas), col(Child.active) == true(),
        col(Child.covered) == (true() if covered else false()),
    ]  # fmt: skip
    if covered:
        where.append(col(Child.due_on) < today)
    if colour is not None:
        where.append(col(Child.colour) == colour)
    if child_id is not None:
        where.append(col(Child.id) == child_id)
    return where


async def _segment(
    session: AsyncSession, where: list[ColumnElement[bool]], offset: int, limit: int
) -> list[tuple[int, str, str, date, bool, str]]:
    if limit <= 0:
        return []
    return list(
        await session.exec(
            select_wide(Child.id, Child.name, Child.colour, Child.due_on, Child.covered, Area.path)
            .join(Area, col(Area.id) == Child.area_id)
            .where(*where)
            # the index's own order (ix_child_follow, or ix_child_colour for one colour): by
            # village, most overdue first, without a sort
            .order_by(col(Child.area_id), col(Child.due_on), col(Child.id))
            .offset(offset)
            .limit(limit)
        )
    )


async def follow_page(
    session: AsyncSession, *, areas: list[int], today: date, colour: str | None,
    not_covered: int, offset: int, limit: int,
) -> list[FollowChild]:  # fmt: skip
    """A page of what /overdue lists: the children not covered first (`not_covered` of them
    under this filter, counted by `counts`), then the overdue; each part by village (in the
    order they were recorded), most overdue first."""
    first = await _segment(
        session, _listed(areas, False, today, colour, None), offset,
        min(limit, not_covered - offset),
    )  # fmt: skip
    rest = await _segment(
        session, _listed(areas, True, today, colour, None),
        max(0, offset - not_covered), limit - len(first),
    )  # fmt: skip
    return await _with_people(session, [*first, *rest], today)


async def listed_child(
    session: AsyncSession, *, areas: list[int], today: date, child_id: int
) -> FollowChild | None:
    """The child, if /overdue lists it (not covered, or overdue) among these areas."""
    for covered in (False, True):
        found = await _segment(session, _listed(areas, covered, today, None, child_id), 0, 1)
        if found:
            return (await _with_people(session, found, today))[0]
    return None


async def _with_people(
    session: AsyncSession, rows: list[tuple[int, str, str, date, bool, str]], today: date
) -> list[FollowChild]:
    if not rows:
        return []
    ids = [r[0] for r in rows]
    names: dict[int, list[tuple[int, str, bool]]] = {}
    for child_id, person_id, name, active in await session.exec(
        select(Pairing.child_id, key(Person.id), Person.name, Person.active)
        .join(Person, col(Person.id) == Pairing.volunteer_id)
        .where(col(Pairing.child_id).in_(ids), col(Pairing.ended_on).is_(None))
        .order_by(col(Pairing.started_on), col(Pairing.id))
    ):
        names.setdefault(child_id, []).append((person_id, name, active))
    plans: dict[int, date | None] = {}  # typed as the column; a minimum of days >= today
    for child_id, planned in await session.exec(
        select(VisitPlan.child_id, func.min(VisitPlan.planned_on))
        .where(col(VisitPlan.child_id).in_(ids), col(VisitPlan.planned_on) >= today)
        .group_by(col(VisitPlan.child_id))
    ):
        plans[child_id] = planned
    return [
        FollowChild(cid, n, c, d, covered, p, names.get(cid, []), plans.get(cid))
        for cid, n, c, d, covered, p in rows
    ]
