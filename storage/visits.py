"""Visits: saving a check-in once, the children a person visits with their last visit, and a
child's visit history."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.access import ChildScope
from care.visits import CheckIn
from storage import audit, due
from storage.children import scope_clause
from storage.db import insert_in, select_wide
from storage.models import Area, Child, Pairing, Person, Visit
from storage.types import utcnow


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
    connection: AsyncConnection,
    scope: ChildScope,
    *,
    year_start: date,
    child_id: int | None = None,
) -> list[VisitedChild]:
    """The active children in scope, with what due dates need; one query (the last visit and
    the year's count are kept on the child, see storage.due). On a Core connection: every
    check-in starts here."""
    return [
        VisitedChild(cid, name, colour, path, last_visit, since or created.date(),
                     count if year == year_start.year else 0)
        for cid, name, colour, path, last_visit, since, created, year, count
        in await connection.execute(_children_query(scope, child_id))
    ]  # fmt: skip


@functools.lru_cache(maxsize=1024)
def _children_query(scope: ChildScope, child_id: int | None) -> Any:
    # One statement object per scope (and child), reused: SQLAlchemy then neither builds nor
    # adapts it again, which costs more than running it.
    pairing = select(func.min(Pairing.started_on)).where(
        col(Pairing.child_id) == col(Child.id), col(Pairing.ended_on).is_(None)
    )
    if scope.volunteer_id is not None:
        pairing = pairing.where(col(Pairing.volunteer_id) == scope.volunteer_id)
    query = (
        select_wide(
            Child.id, Child.name, Child.colour, Area.path, Child.last_visit_on,
            pairing.scalar_subquery(), Child.created_at, Child.visits_year, Child.visits_in_year,
        )
        .join(Area, col(Area.id) == Child.area_id)
        .where(col(Child.active).is_(True), scope_clause(scope))
        .order_by(col(Child.name), col(Child.id))
    )  # fmt: skip
    if child_id is not None:
        query = query.where(col(Child.id) == child_id)
    return query


COLUMNS = ("child_id", "person_id", "visited_on", "mode", "health", "mood", "study", "care",
           "parents", "notes", "safety", "wishes", "problems", "problems_voice", "red_flags",
           "draft_key")  # fmt: skip


def _columns(visit: CheckIn, person_id: int) -> dict[str, Any]:
    """The row's values: the one place where answers become JSON and comma-joined lists."""
    return {
        "child_id": visit.child_id, "person_id": person_id, "visited_on": visit.visited_on,
        "mode": visit.mode.value, "health": visit.health.value, "mood": visit.mood.value,
        "study": visit.study.value, "care": visit.care.value, "parents": visit.parents.value,
        "notes": json.dumps(dict(visit.notes), ensure_ascii=False),
        "safety": ",".join(s.value for s in visit.safety), "wishes": visit.wishes,
        "problems": visit.problems, "problems_voice": visit.problems_voice,
        "red_flags": ",".join(f.value for f in visit.red_flags), "draft_key": visit.draft_key,
    }  # fmt: skip


@functools.lru_cache(maxsize=1024)
def _insert_if_visible(dialect: str, scope: ChildScope) -> Any:
    """INSERT ... SELECT the values WHERE the child is in scope, once per draft key: the scope
    check, the duplicate check and the write in one statement (every check-in's Confirm).
    Built once per scope; the values are bound when it runs."""
    table = Visit.__table__.c  # type: ignore[attr-defined]
    in_scope = (
        select(Child.id)
        .join(Area, col(Area.id) == Child.area_id)
        # a closed record is read-only: no visit is added to it
        .where(col(Child.id) == bindparam("child_id"), col(Child.active).is_(True),
               scope_clause(scope))
        .exists()
    )  # fmt: skip
    row = select(*(bindparam(name, type_=table[name].type) for name in COLUMNS))
    return (
        insert_in(dialect, Visit)
        .from_select(list(COLUMNS), row.where(in_scope))
        .on_conflict_do_nothing(index_elements=["draft_key"])
        .returning(Visit.id)
    )


_EXISTING = select(Visit.id).where(col(Visit.draft_key) == bindparam("draft_key"))


async def save(
    connection: AsyncConnection, visit: CheckIn, *, person_id: int, scope: ChildScope
) -> tuple[int, bool] | None:
    """Stores a visit once per draft, if the child is in the person's scope at that moment:
    the same check-in confirmed twice, or the same update delivered twice, finds the visit
    already there. Returns (visit id, newly stored); None when the child is not (or no
    longer) the person's to visit. Core on a connection, not the ORM: every check-in ends
    here, and a session's bookkeeping would cost more than the statements (PITFALLS)."""
    insert = _insert_if_visible(connection.dialect.name, scope)
    inserted = await connection.execute(insert, _columns(visit, person_id))
    new_id = inserted.scalar_one_or_none()
    if new_id is None:
        found = (
            await connection.execute(_EXISTING, {"draft_key": visit.draft_key})
        ).scalar_one_or_none()
        return None if found is None else (found, False)
    await due.after_visit(connection, child_id=visit.child_id, day=visit.visited_on)
    entry = (f"child:{visit.child_id}", "visit", f"visit={new_id}")
    await audit.record_many(connection, actor_id=person_id, entries=[entry], at=utcnow())
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
