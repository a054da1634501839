"""Closing children's records and moving children between villages, in the caller's
transaction: the writes (the record, its pairings, the household, the audit trail) and the
reads around them (who ages out soon, what was closed lately, a child's moves)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import TEXT_LENGTHS, Category
from care.closing import ClosingReason, ageing_window, born_by
from storage import audit
from storage.areas import in_area
from storage.db import key, select_wide
from storage.models import Area, Child, ChildMove, Household, Pairing, Person
from storage.types import utcnow

CHUNK = 500
LIMITS = sorted({c.age_limit for c in Category})  # 16 and 18


def _categories(years: int) -> list[str]:
    return [c.value for c in Category if c.age_limit == years]


@dataclass(frozen=True)
class Closed:
    """A record just closed, and the volunteers whose pairing with the child ended."""

    child_id: int
    name: str
    birth_date: date
    category: Category
    area_path: str  # the village
    volunteers: tuple[int, ...]


async def close(
    session: AsyncSession, child_ids: Sequence[int], *, reason: ClosingReason, note: str,
    on: date, actor_id: int | None, action: str = "child_close",
) -> list[Closed]:  # fmt: skip
    """Closes the open records among `child_ids` (one already closed is left as it is, so
    closing twice changes nothing) and ends their active pairings on `on`, kept as history;
    audited. Returns the records closed now."""
    now = utcnow()
    closed: list[Closed] = []
    ids = sorted(set(child_ids))
    connection = await session.connection()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        result = await connection.execute(
            update(Child)
            .where(col(Child.id).in_(chunk), col(Child.active).is_(True))
            .values(
                active=False, closed_on=on, closed_reason=reason.value, closed_note=note,
                closed_by=actor_id, updated_at=now,
            )
            .returning(col(Child.id))
        )  # fmt: skip
        now_closed = [row[0] for row in result]
        if not now_closed:
            continue
        ended = await connection.execute(
            update(Pairing)
            .where(col(Pairing.child_id).in_(now_closed), col(Pairing.ended_on).is_(None))
            .values(ended_on=on, end_reason=f"closed:{reason.value}")
            .returning(col(Pairing.child_id), col(Pairing.volunteer_id))
        )
        volunteers: dict[int, list[int]] = {}
        for child_id, volunteer_id in ended:
            volunteers.setdefault(child_id, []).append(volunteer_id)
        rows = await session.exec(
            select_wide(Child.id, Child.name, Child.birth_date, Child.category, Area.path)
            .join(Area, col(Area.id) == Child.area_id)
            .where(col(Child.id).in_(now_closed))
            .order_by(col(Child.id))
        )
        closed += [
            Closed(cid, name, born, Category(category), path,
                   tuple(sorted(volunteers.get(cid, []))))
            for cid, name, born, category, path in rows
        ]  # fmt: skip
    entries = [(f"child:{c.child_id}", action, reason.value) for c in closed]
    await audit.record_many(connection, actor_id=actor_id, entries=entries, at=now)
    return closed  # (an ORM object of one of them read before is stale now: not to be saved)


def _aged_out(day: date) -> ColumnElement[bool]:
    """Open records of children who have reached their category's age limit on `day`."""
    return and_(
        col(Child.active).is_(True),
        # the youngest limit's bound alone, first: an index range (ix_child_active_birth)
        col(Child.birth_date) <= born_by(day, LIMITS[0]),
        or_(*(
            and_(col(Child.category).in_(_categories(years)),
                 col(Child.birth_date) <= born_by(day, years))
            for years in LIMITS
        )),
    )  # fmt: skip


async def aged_out(session: AsyncSession, day: date) -> list[int]:
    """The open records of children who have reached their category's age limit on `day`."""
    rows = await session.exec(select(key(Child.id)).where(_aged_out(day)).order_by(col(Child.id)))
    return list(rows)


@dataclass(frozen=True)
class Ageing:
    """A child who reaches the category's age limit soon."""

    child_id: int
    name: str
    birth_date: date
    category: Category
    area_path: str


async def ageing(session: AsyncSession, *, area_path: str, today: date, days: int) -> list[Ageing]:
    """The open records of the area whose children reach their category's age limit within
    `days` days (after today)."""
    windows = []
    for years in LIMITS:
        after, until = ageing_window(today, years, days)
        windows.append(
            and_(col(Child.category).in_(_categories(years)),
                 col(Child.birth_date) > after, col(Child.birth_date) <= until)
        )  # fmt: skip
    rows = await session.exec(
        select_wide(Child.id, Child.name, Child.birth_date, Child.category, Area.path)
        .join(Area, col(Area.id) == Child.area_id)
        .where(in_area(area_path), col(Child.active).is_(True), or_(*windows))
    )
    return [Ageing(cid, name, born, Category(cat), path) for cid, name, born, cat, path in rows]


@dataclass(frozen=True)
class ClosedLine:
    child_id: int
    name: str
    area_path: str
    closed_on: date
    reason: ClosingReason


async def closed_since(
    session: AsyncSession, *, area_path: str, since: date, limit: int
) -> tuple[list[ClosedLine], int]:
    """Records of the area closed on or after `since`, the latest first (`limit` of them),
    and how many there are."""
    where = (in_area(area_path), col(Child.active).is_(False), col(Child.closed_on) >= since)
    query = (
        select_wide(Child.id, Child.name, Area.path, Child.closed_on, Child.closed_reason)
        .join(Area, col(Area.id) == Child.area_id)
        .where(*where)
    )
    rows = list(
        await session.exec(
            query.order_by(col(Child.closed_on).desc(), col(Child.id).desc()).limit(limit)
        )
    )
    counted = select(func.count()).select_from(Child).join(Area, col(Area.id) == Child.area_id)
    count = (await session.exec(counted.where(*where))).one()
    return [
        ClosedLine(cid, name, path, on, ClosingReason(reason))
        for cid, name, path, on, reason in rows
        if on is not None and reason is not None
    ], count


# -- moving ------------------------------------------------------------------------------------


async def family(session: AsyncSession, child: Child) -> list[Child]:
    """The child and the open records of its household (siblings move together), by id."""
    if child.household_id is None:
        return [child]
    rows = await session.exec(
        select(Child)
        .where(col(Child.household_id) == child.household_id, col(Child.active).is_(True))
        .order_by(col(Child.id))
    )
    return list(rows)


async def _free_code(session: AsyncSession, area_id: int, wanted: list[str]) -> str:
    """The first of `wanted` that no household of the village has."""
    taken = set(
        await session.exec(
            select(Household.code).where(
                col(Household.area_id) == area_id, col(Household.code).in_(wanted)
            )
        )
    )
    return next(code for code in wanted if code not in taken)


async def _move_household(
    session: AsyncSession, household_id: int, movers: list[int], *, from_name: str, to: int
) -> int:
    """The household the movers have in the new village: their own row moved there when all
    its records move (closed ones stay behind, read-only), else a new row. Its code is kept
    unless the new village has a household of that code already: then the former village's
    name is added, so that two families are never taken for one."""
    household = await session.get(Household, household_id)
    assert household is not None
    others = (
        await session.exec(
            select(Child.id).where(
                col(Child.household_id) == household_id, col(Child.id).not_in(movers)
            )
        )
    ).first()
    limit = TEXT_LENGTHS["household"]
    wanted = [household.code, f"{household.code}-{from_name}"[:limit],
              f"{household.code}-{from_name}-{household_id}"[-limit:]]  # fmt: skip
    code = await _free_code(session, to, wanted)
    if others is None:
        household.area_id, household.code = to, code
        session.add(household)
        await session.flush()
        return household_id
    moved = Household(area_id=to, code=code)
    session.add(moved)
    await session.flush()
    assert moved.id is not None
    return moved.id


async def move(
    session: AsyncSession, *, children: list[Child], to: Area, reason: str, actor_id: int | None,
    at: datetime,
) -> int:  # fmt: skip
    """Moves these children (one family) to the village `to`: their records, visits,
    pairings, due dates and history stay as they are; each move is kept (ChildMove) and
    audited. Returns the id of the first child's move."""
    assert to.id is not None and children
    first = children[0]
    origin = await session.get(Area, first.area_id)
    assert origin is not None
    household_id = first.household_id
    ids = [c.id for c in children if c.id is not None]
    if household_id is not None:
        household_id = await _move_household(
            session, household_id, ids, from_name=origin.name, to=to.id
        )
    now = at
    kept: list[ChildMove] = []
    for child in children:
        assert child.id is not None
        kept.append(
            ChildMove(child_id=child.id, from_area_id=child.area_id, to_area_id=to.id,
                      reason=reason, moved_by=actor_id, at=now)
        )  # fmt: skip
        session.add(kept[-1])
        audit.record(
            session, actor_id=actor_id, action="child_move", subject=f"child:{child.id}",
            detail=f"area:{child.area_id}->area:{to.id}",
        )  # fmt: skip
        child.area_id, child.household_id, child.updated_at = to.id, household_id, now
        session.add(child)
    await session.flush()
    assert kept[0].id is not None
    return kept[0].id


@dataclass(frozen=True)
class MoveLine:
    at: datetime
    from_path: str
    to_path: str
    by: str | None  # the person's name; None: the command line or the bot


async def moves(session: AsyncSession, child_id: int, *, limit: int = 5) -> list[MoveLine]:
    """The child's moves, the latest first."""
    origin, target = aliased(Area), aliased(Area)
    rows = await session.exec(
        select(ChildMove.at, origin.path, target.path, Person.name)
        .join(origin, col(origin.id) == ChildMove.from_area_id)
        .join(target, col(target.id) == ChildMove.to_area_id)
        .join(Person, col(Person.id) == ChildMove.moved_by, isouter=True)
        .where(col(ChildMove.child_id) == child_id)
        .order_by(col(ChildMove.at).desc(), col(ChildMove.id).desc())
        .limit(limit)
    )
    return [MoveLine(at, a, b, by) for at, a, b, by in rows]


async def person_name(session: AsyncSession, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    person = await session.get(Person, person_id)
    return person.name if person is not None else None
