"""Queries on children: listing and finding within a viewer's scope, the card, edits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.access import ChildScope
from storage import audit, due
from storage.areas import in_area
from storage.db import key, select_wide
from storage.models import Area, Child, ColourChange, Household, Pairing, Person
from storage.types import utcnow


def scope_clause(scope: ChildScope) -> ColumnElement[bool]:
    if scope.volunteer_id is not None:
        return exists().where(
            col(Pairing.child_id) == col(Child.id),
            col(Pairing.volunteer_id) == scope.volunteer_id,
            col(Pairing.ended_on).is_(None),
        )
    assert scope.area_path is not None
    return in_area(scope.area_path)


@dataclass(frozen=True)
class ChildLine:
    """What a list shows of a child."""

    id: int
    name: str
    gender: str
    birth_date: date
    category: str
    colour: str
    area_path: str
    active: bool = True  # False: a closed record (care.closing)


@dataclass(frozen=True)
class ChildFilter:
    village_id: int | None = None
    category: str | None = None
    colour: str | None = None
    name: str | None = None
    with_closed: bool = False  # closed records too (finding one by name)


def _listing(scope: ChildScope, where: ChildFilter) -> list[ColumnElement[bool]]:
    clauses = [scope_clause(scope)]
    if not where.with_closed:
        clauses.append(col(Child.active).is_(True))
    if where.village_id is not None:
        clauses.append(col(Child.area_id) == where.village_id)
    if where.category is not None:
        clauses.append(col(Child.category) == where.category)
    if where.colour is not None:
        clauses.append(col(Child.colour) == where.colour)
    if where.name:
        clauses.append(col(Child.name).contains(where.name, autoescape=True))
    return clauses


async def page(
    session: AsyncSession, scope: ChildScope, where: ChildFilter, *, offset: int, limit: int
) -> tuple[list[ChildLine], int]:
    """One page of children in scope, by village then name, and how many match."""
    clauses = _listing(scope, where)
    joined = select(func.count()).select_from(Child).join(Area, col(Area.id) == Child.area_id)
    total = (await session.exec(joined.where(and_(*clauses)))).one()
    query = (
        select_wide(
            Child.id, Child.name, Child.gender, Child.birth_date, Child.category, Child.colour,
            Area.path, Child.active,
        )
        .join(Area, col(Area.id) == Child.area_id)
        .where(and_(*clauses))
        # open records first: a closed one is found by name, but comes after the open ones
        .order_by(col(Child.active).desc(), col(Area.path), col(Child.name), col(Child.id))
        .offset(offset)
        .limit(limit)
    )  # fmt: skip
    rows = await session.exec(query)
    return [ChildLine(*row) for row in rows], total


async def visible(
    session: AsyncSession, scope: ChildScope, child_id: int, *, open_only: bool = False
) -> bool:
    """May a viewer with this scope see this child? Checked on every button press.
    `open_only`: and is the record open (a closed one is read-only)?"""
    query = (
        select(Child.id)
        .join(Area, col(Area.id) == Child.area_id)
        .where(col(Child.id) == child_id, scope_clause(scope))
    )
    if open_only:
        query = query.where(col(Child.active).is_(True))
    return (await session.exec(query)).first() is not None


async def in_scope(session: AsyncSession, scope: ChildScope, child_id: int) -> Child | None:
    """The child, if a viewer with this scope may see it (in the session: to change it)."""
    query = (
        select(Child)
        .join(Area, col(Area.id) == Child.area_id)
        .where(col(Child.id) == child_id, scope_clause(scope))
    )
    return (await session.exec(query)).first()


async def villages_in(session: AsyncSession, area_path: str) -> list[Area]:
    query = select(Area).where(in_area(area_path), col(Area.level) == 3).order_by(col(Area.path))
    return list(await session.exec(query))


@dataclass(frozen=True)
class Card:
    child: Child
    area_path: str
    household: str | None
    siblings: list[tuple[int, str]]
    volunteers: list[tuple[int, str, date, date | None]]  # person id, name, since, reviewed
    colours: list[ColourChange]


async def card(session: AsyncSession, child_id: int) -> Card | None:
    row = (
        await session.exec(
            select(Child, Area.path, Household.code)
            .join(Area, col(Area.id) == Child.area_id)
            .join(Household, col(Household.id) == Child.household_id, isouter=True)
            .where(col(Child.id) == child_id)
        )
    ).first()
    if row is None:
        return None
    child, path, household = row
    siblings: list[tuple[int, str]] = []
    if child.household_id is not None:
        siblings = [
            (sid, name)
            for sid, name in await session.exec(
                select(Child.id, Child.name).where(
                    col(Child.household_id) == child.household_id,
                    col(Child.id) != child_id,
                    col(Child.active).is_(True),
                )
            )
            if sid is not None
        ]
    volunteers = [
        (pid, name, since, reviewed)
        for pid, name, since, reviewed in await session.exec(
            select(key(Person.id), col(Person.name), col(Pairing.started_on),
                   col(Pairing.reviewed_on))
            .join(Person, col(Person.id) == Pairing.volunteer_id)
            .where(col(Pairing.child_id) == child_id, col(Pairing.ended_on).is_(None))
            .order_by(col(Pairing.started_on))
        )
        if pid is not None
    ]
    colours = list(
        await session.exec(
            select(ColourChange)
            .where(col(ColourChange.child_id) == child_id)
            .order_by(col(ColourChange.at).desc(), col(ColourChange.id).desc())
            .limit(5)
        )
    )
    return Card(child, path, household, siblings, volunteers, colours)


async def change_colour(
    session: AsyncSession, *, child: Child, colour: str, reason: str, actor_id: int
) -> None:
    assert child.id is not None  # read back from the database
    session.add(
        ColourChange(
            child_id=child.id, colour=colour, previous=child.colour, reason=reason,
            changed_by=actor_id,
        )
    )  # fmt: skip
    child.colour, child.updated_at = colour, utcnow()
    session.add(child)
    await session.flush()
    await due.refresh(session, [child.id])
    audit.record(
        session, actor_id=actor_id, action="child_colour", subject=f"child:{child.id}",
        detail=f"{colour}",
    )  # fmt: skip


async def update_fields(
    session: AsyncSession, *, child: Child, values: dict[str, Any], actor_id: int
) -> list[str]:
    """Sets the given fields; returns the names that changed (audited, values are not)."""
    changed = [name for name, value in values.items() if getattr(child, name) != value]
    if changed:
        for name in changed:
            setattr(child, name, values[name])
        child.updated_at = utcnow()
        session.add(child)
        audit.record(
            session, actor_id=actor_id, action="child_edit", subject=f"child:{child.id}",
            detail=",".join(changed),
        )  # fmt: skip
    return changed


async def get(session: AsyncSession, child_id: int) -> Child | None:
    return await session.get(Child, child_id)


async def id_number_taken(session: AsyncSession, id_number: str) -> bool:
    query = select(Child.id).where(col(Child.id_number) == id_number)
    return (await session.exec(query)).first() is not None


async def add(session: AsyncSession, child: Child, *, actor_id: int) -> Child:
    """A new child, with the first entry of its colour history; audited."""
    session.add(child)
    await session.flush()
    assert child.id is not None  # flushed: the database gave it an id
    session.add(ColourChange(child_id=child.id, colour=child.colour, changed_by=actor_id))
    await due.refresh(session, [child.id])
    audit.record(session, actor_id=actor_id, action="child_add", subject=f"child:{child.id}")
    return child


async def household_for(session: AsyncSession, *, area_id: int, code: str) -> int:
    """The household with this code in the village, created when new."""
    found = (
        await session.exec(
            select(Household.id).where(Household.area_id == area_id, Household.code == code)
        )
    ).first()
    if found is not None:
        return found
    household = Household(area_id=area_id, code=code)
    session.add(household)
    await session.flush()
    assert household.id is not None
    return household.id
