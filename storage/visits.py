"""Visits: saving a check-in once, the children a person visits with their last visit, and a
child's visit history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.access import ChildScope
from storage import audit, due
from storage.children import scope_clause
from storage.db import insert_for
from storage.models import Area, Child, Pairing, Person, Visit


@dataclass(frozen=True)
class VisitedChild:
    id: int
    name: str
    colour: str
    area_path: str
    last_visit: date | None
    since: date  # the pairing's start (or the record's, for children nobody is paired with)
    visits_this_year: int


async def children_to_visit(
    session: AsyncSession, scope: ChildScope, *, year_start: date, child_id: int | None = None
) -> list[VisitedChild]:
    """The active children in scope, with what due dates need; one query (the last visit and
    the year's count are kept on the child, see storage.due)."""
    pairing = select(func.min(Pairing.started_on)).where(
        col(Pairing.child_id) == col(Child.id), col(Pairing.ended_on).is_(None)
    )
    if scope.volunteer_id is not None:
        pairing = pairing.where(col(Pairing.volunteer_id) == scope.volunteer_id)
    query = (
        select(
            Child.id, Child.name, Child.colour, Area.path, Child.last_visit_on,
            pairing.scalar_subquery(), Child.created_at, Child.visits_year, Child.visits_in_year,
        )
        .join(Area, col(Area.id) == Child.area_id)
        .where(col(Child.active).is_(True), scope_clause(scope))
        .order_by(col(Child.name), col(Child.id))
    )  # fmt: skip
    if child_id is not None:
        query = query.where(col(Child.id) == child_id)
    return [
        VisitedChild(cid, name, colour, path, last_visit, since or created.date(),
                     count if year == year_start.year else 0)
        for cid, name, colour, path, last_visit, since, created, year, count
        in await session.exec(query)
    ]  # fmt: skip


def _insert_once(session: AsyncSession, values: dict[str, Any]) -> Any:
    return (
        insert_for(session, Visit)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["draft_key"])
        .returning(Visit.id)
    )


async def save(session: AsyncSession, values: dict[str, Any]) -> tuple[int, bool]:
    """Stores a visit once per draft: the same check-in confirmed twice, or the same update
    delivered twice, finds the visit already there. Returns (visit id, newly stored)."""
    new_id = (await session.exec(_insert_once(session, values))).scalar_one_or_none()
    if new_id is None:
        existing = select(Visit.id).where(col(Visit.draft_key) == values["draft_key"])
        return (await session.exec(existing)).one(), False
    await due.after_visit(session, child_id=values["child_id"], day=values["visited_on"])
    subject = f"child:{values['child_id']}"
    audit.record(
        session, actor_id=values["person_id"], action="visit", subject=subject,
        detail=f"visit={new_id}",
    )  # fmt: skip
    return new_id, True


async def get(session: AsyncSession, visit_id: int) -> Visit | None:
    return await session.get(Visit, visit_id)


async def history(
    session: AsyncSession, child_id: int, *, limit: int = 5
) -> list[tuple[Visit, str]]:
    rows = await session.exec(
        select(Visit, Person.name)
        .join(Person, col(Person.id) == Visit.person_id)
        .where(col(Visit.child_id) == child_id)
        .order_by(col(Visit.visited_on).desc(), col(Visit.id).desc())
        .limit(limit)
    )
    return [(visit, name) for visit, name in rows]
